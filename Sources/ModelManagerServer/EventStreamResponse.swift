import HTTPTypes
import Hummingbird
import ModelManagerCore
import ModelManagerProviders

/// A streamed call as server-sent events, for every HTTP route that streams: the head at once
/// (with the call's rate limits), each batch of deltas framed by `relay` in one write, then the
/// completion framed by `finish` (or, once the stream has started, a failure framed in-band by
/// `failure`) with the end of the body.
enum EventStreamResponse {
    static func make(
        _ invocation: InvocationService, admission: Result<InvocationService.Admission, ModelManagerError>,
        context: InvocationContext, headers extra: HTTPFields = [:], endsWithDone: Bool,
        relay: @escaping @Sendable ([ResponseChunk], inout SSEFrames) -> Void,
        finish: @escaping @Sendable (ResponseChunk, inout SSEFrames) -> Void,
        failure: @escaping @Sendable (ModelManagerError, inout SSEFrames) -> Void
    ) -> Response {
        var headers = extra
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        if case .success(let admitted) = admission { HTTPInvokeAPI.add(admitted.rateLimitHeaders, to: &headers) }
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let sink = SSEWriter(writer: writer)
                var last = SSEFrames()
                do {
                    let final = try await invocation.invoke(admitted: try admission.get(), context: context) { deltas in
                        var frames = SSEFrames()
                        relay(deltas, &frames)
                        if !frames.isEmpty { try await sink.send(frames) }
                    }
                    finish(final, &last)
                } catch {
                    failure(InvocationService.normalize(error), &last)
                }
                try await sink.finish(after: last, done: endsWithDone)
            })
    }
}
