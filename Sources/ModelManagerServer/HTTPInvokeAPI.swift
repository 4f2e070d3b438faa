import Foundation
import HTTPTypes
import Hummingbird
import ModelManagerAuth
import ModelManagerCore
import NIOCore

/// `POST /v1/invoke` and `POST /v1/batch-invoke`: the same calls as gRPC in JSON, for clients
/// whose gRPC path is down (the Python SDK's HTTP fallback among them). Same authentication,
/// request ids, routing, usage records and error rules; statuses mapped in `HTTPJSON`.
struct HTTPInvokeAPI: Sendable {
    let invocation: InvocationService
    let authenticator: CallerAuthenticator
    let recordedHeaders: RecordedHeaders
    /// Nesting allowed in a body: the configured limit for `extra` (`limits.max_extra_depth`),
    /// plus the batch's `items` array and the item object around it.
    let maximumBodyDepth: Int
    static let maximumBodyBytes = 64 << 20

    func invoke(_ request: Request, _ face: FaceContext) async -> Response {
        let context: InvocationContext
        let call: ModelRequest
        do {
            context = try await accept(request, face)
            call = try HTTPRequestMapper.request(from: try await body(request))
        } catch {
            return HTTPJSON.error(Self.normalize(error), requestID: request.headers[Self.requestIDHeader])
        }
        // Before the head, so that it carries the rate limits; a refusal is still in-band on a
        // stream, as every failure after the call was accepted is.
        let admission: Result<InvocationService.Admission, ModelManagerError>
        do {
            admission = .success(try await invocation.admit(call, context: context))
        } catch {
            admission = .failure(error)
        }
        guard call.stream else {
            do {
                let admitted = try admission.get()
                let chunk = try await invocation.invoke(admitted: admitted, context: context) { _ in }
                var output = JSONOutput()
                HTTPAnswerItem.write(chunk, customID: call.customID, requestID: context.requestID, to: &output)
                var response = HTTPJSON.response(200, output)
                Self.add(admitted.rateLimitHeaders, to: &response.headers)
                return response
            } catch {
                return HTTPJSON.error(error, requestID: context.requestID)
            }
        }
        // After the stream started, failures are in-band, as on gRPC.
        return EventStreamResponse.make(invocation, admission: admission, context: context, endsWithDone: true) {
            deltas, frames in
            for delta in deltas {
                frames.event {
                    HTTPAnswerItem.write(delta, customID: call.customID, requestID: context.requestID, to: &$0)
                }
            }
        } finish: { final, frames in
            frames.event { HTTPAnswerItem.write(final, customID: call.customID, requestID: context.requestID, to: &$0) }
        } failure: { failure, frames in
            frames.event {
                HTTPAnswerItem.writeFailure(failure, customID: call.customID, requestID: context.requestID, to: &$0)
            }
        }
    }

    func batchInvoke(_ request: Request, _ face: FaceContext) async -> Response {
        let context: InvocationContext
        let calls: [ModelRequest]
        do {
            context = try await accept(request, face)
            calls = try HTTPRequestMapper.batch(from: try await body(request))
        } catch {
            return HTTPJSON.error(Self.normalize(error), requestID: request.headers[Self.requestIDHeader])
        }
        let outcomes: [Result<ResponseChunk, ModelManagerError>]
        do {
            outcomes = try await invocation.invokeBatch(calls, context: context)
        } catch {
            return HTTPJSON.error(error, requestID: context.requestID)
        }
        var output = JSONOutput(capacity: 512 * calls.count)
        output.append(#"{"request_id":"#)
        output.write(context.requestID)
        output.append(#","results":["#)
        for (position, (call, result)) in zip(calls, outcomes).enumerated() {
            if position > 0 { output.append(",") }
            switch result {
            case .success(let chunk):
                HTTPAnswerItem.write(chunk, customID: call.customID, requestID: context.requestID, to: &output)
            case .failure(let error):
                HTTPAnswerItem.writeFailure(error, customID: call.customID, requestID: context.requestID, to: &output)
            }
        }
        output.append("]}")
        return HTTPJSON.response(200, output)
    }

    /// `GET /v1/tasks/{id}`: the task's status as JSON; 404 for an unknown id and another org's.
    func task(_ request: Request, _ face: FaceContext) async -> Response {
        let id = face.parameters.get("id") ?? ""
        do throws(ModelManagerError) {
            let context = try await accept(request, face)
            return HTTPJSON.response(200, try await invocation.tasks.status(id, for: context.grant).json)
        } catch {
            return HTTPJSON.error(error, requestID: request.headers[Self.requestIDHeader])
        }
    }

    // MARK: shared steps

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!
    static let originRequestIDHeader = HTTPField.Name("X-Origin-Request-ID")!
    static let traceparentHeader = HTTPField.Name("traceparent")!
    static let tracestateHeader = HTTPField.Name("tracestate")!

    private func accept(_ request: Request, _ face: FaceContext) async throws(ModelManagerError) -> InvocationContext {
        try await authenticate(request, face, apiKey: nil).context
    }

    /// The caller, and the context its calls run in. `apiKey` is a key from a header of its own
    /// (Anthropic's `x-api-key`); without it the key or token comes as `Authorization: Bearer`.
    func authenticate(
        _ request: Request, _ face: FaceContext, apiKey: String?, callFace: CallFace = .http
    ) async throws(ModelManagerError) -> (context: InvocationContext, caller: CallerAuthenticator.Caller) {
        let caller = try await authenticator.authenticate(
            authorization: request.headers[.authorization], apiKey: apiKey, address: face.peer)
        let requestID =
            request.headers[Self.requestIDHeader].flatMap { $0.isEmpty ? nil : $0 } ?? UUIDText.random()
        let metadata = recordedHeaders.metadata(
            from: request.headers.lazy.map { (name: $0.name.canonicalName, value: $0.value) })
        var context = InvocationContext(
            requestID: requestID, originRequestID: request.headers[Self.originRequestIDHeader],
            metadata: metadata, tokenSubject: caller.subject, grant: caller.grant,
            peerAddress: { [address = face.remoteAddress] in address?.ipAddress })
        context.face = callFace
        context.traceHeaders = CallTrace.headers(
            traceparent: request.headers[Self.traceparentHeader], tracestate: request.headers[Self.tracestateHeader])
        return (context, caller)
    }

    func body(_ request: Request) async throws -> [String: JSONValue] {
        try await HTTPJSON.object(request, maximumBytes: Self.maximumBodyBytes, maximumDepth: maximumBodyDepth)
    }

    static func add(_ fields: [(name: String, value: String)], to headers: inout HTTPFields) {
        for (name, value) in fields { HTTPField.Name(name).map { headers[$0] = value } }
    }

    static func normalize(_ error: any Error) -> ModelManagerError {
        InvocationService.normalize(error)
    }
}

/// Writes `data: {json}` events and the closing `data: [DONE]`.
final class SSEWriter: @unchecked Sendable {
    private var writer: any ResponseBodyWriter

    init(writer: any ResponseBodyWriter) { self.writer = writer }

    /// The events, in one write.
    func send(_ frames: SSEFrames) async throws {
        try await writer.write(ByteBuffer(bytes: frames.output.bytes))
    }

    /// The last events and (unless `done` is false: Anthropic's streams have no marker) `[DONE]`,
    /// in one write, and the end of the body.
    func finish(after frames: SSEFrames, done: Bool = true) async throws {
        var frames = frames
        if done { frames.output.append("data: [DONE]\n\n") }
        try await send(frames)
        try await writer.finish(nil)
    }
}

/// `data: {json}` events framed into one buffer.
struct SSEFrames {
    fileprivate(set) var output = JSONOutput()

    var isEmpty: Bool { output.bytes.isEmpty }

    /// `name`, when given, goes in an `event:` line (Anthropic's typed events).
    mutating func event(named name: StaticString? = nil, _ writeJSON: (inout JSONOutput) -> Void) {
        if let name {
            output.append("event: ")
            output.append(name)
            output.append("\n")
        }
        output.append("data: ")
        writeJSON(&output)
        output.append("\n\n")
    }
}
