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
    let verifier: JWTVerifier
    let recordedHeaders: RecordedHeaders
    /// Nesting allowed in a body: the configured limit for `extra` (`limits.max_extra_depth`),
    /// plus the batch's `items` array and the item object around it.
    let maximumBodyDepth: Int
    static let maximumBodyBytes = 64 << 20

    func invoke(_ request: Request) async -> Response {
        let context: InvocationContext
        let call: ModelRequest
        do {
            context = try accept(request)
            call = try HTTPRequestMapper.request(from: try await body(request))
        } catch {
            return HTTPJSON.error(Self.normalize(error), requestID: request.headers[Self.requestIDHeader])
        }
        guard call.stream else {
            do {
                let chunk = try await invocation.invokeOnce(call, context: context)
                return HTTPJSON.response(200, Self.item(chunk, customID: call.customID, requestID: context.requestID))
            } catch {
                return HTTPJSON.error(error, requestID: context.requestID)
            }
        }
        let invocation = invocation
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let sink = SSEWriter(writer: writer)
            do {
                try await invocation.invoke(call, context: context) { chunk in
                    try await sink.send(Self.item(chunk, customID: call.customID, requestID: context.requestID))
                }
            } catch {
                // After the stream started, failures are in-band, as on gRPC.
                try? await sink.send(Self.failedItem(Self.normalize(error), customID: call.customID, requestID: context.requestID))
            }
            try await sink.finish()
        })
    }

    func batchInvoke(_ request: Request) async -> Response {
        let context: InvocationContext
        let calls: [ModelRequest]
        do {
            context = try accept(request)
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
        let results = zip(calls, outcomes).map { call, result in
            switch result {
            case .success(let chunk): Self.item(chunk, customID: call.customID, requestID: context.requestID)
            case .failure(let error): Self.failedItem(error, customID: call.customID, requestID: context.requestID)
            }
        }
        return HTTPJSON.response(200, ["request_id": .string(context.requestID), "results": .array(results)])
    }

    // MARK: shared steps

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!

    private func accept(_ request: Request) throws(ModelManagerError) -> InvocationContext {
        let principal = try verifier.verify(authorization: request.headers[.authorization])
        let requestID = request.headers[Self.requestIDHeader].flatMap { $0.isEmpty ? nil : $0 } ?? UUID().uuidString.lowercased()
        let metadata = recordedHeaders.metadata(from: request.headers.lazy.map { (name: $0.name.canonicalName, value: $0.value) })
        return InvocationContext(
            requestID: requestID, originRequestID: request.headers[HTTPField.Name("X-Origin-Request-ID")!], metadata: metadata,
            tokenSubject: principal.subject)
    }

    /// The body as a JSON object, or a 4xx naming what is wrong with it.
    func body(_ request: Request) async throws -> [String: JSONValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumBodyBytes)
        } catch {
            throw ModelManagerError(.payloadTooLarge, "request body exceeds \(Self.maximumBodyBytes >> 20) MiB")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: buffer.readableBytesView, maximumDepth: maximumBodyDepth)
        } catch {
            throw ModelManagerError(.invalidArgument, "request body is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw ModelManagerError(.invalidArgument, "request body must be a JSON object, got \(value.typeName)")
        }
        return object
    }

    /// The JSON answer: `usage` and `raw_response` as objects (not text, unlike gRPC).
    static func item(_ chunk: ResponseChunk, customID: String?, requestID: String) -> JSONValue {
        var item: [String: JSONValue] = [
            "content": .string(chunk.content), "usage": chunk.usageJSON ?? nil, "raw_response": chunk.rawResponse ?? nil,
            "error": chunk.error.map { .string($0) } ?? nil, "request_id": .string(requestID),
        ]
        if let customID { item["custom_id"] = .string(customID) }
        return .object(item)
    }

    static func failedItem(_ error: ModelManagerError, customID: String?, requestID: String) -> JSONValue {
        var item: [String: JSONValue] = ["content": "", "usage": nil, "raw_response": nil, "error": .string(error.message), "request_id": .string(requestID)]
        if let customID { item["custom_id"] = .string(customID) }
        return .object(item)
    }

    static func normalize(_ error: any Error) -> ModelManagerError {
        InvocationService.normalize(error)
    }
}

/// Writes `data: {json}` events and the closing `data: [DONE]`.
final class SSEWriter: @unchecked Sendable {
    private var writer: any ResponseBodyWriter

    init(writer: any ResponseBodyWriter) { self.writer = writer }

    func send(_ value: JSONValue) async throws {
        try await writer.write(ByteBuffer(string: "data: \(value.jsonText)\n\n"))
    }

    func finish() async throws {
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
    }
}
