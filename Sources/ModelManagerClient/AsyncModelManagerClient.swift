public import ModelManagerCore
import ModelManagerGRPC
import ModelManagerWire

/// The async client. Every call carries a deadline (`timeout`, else the configured one).
public final class AsyncModelManagerClient: Sendable {
    let core: ClientCore

    public init(configuration: ClientConfiguration) {
        core = ClientCore(configuration: configuration)
    }

    /// A client configured from the environment (PROTOCOL.md §8).
    public convenience init() throws {
        self.init(configuration: try .fromEnvironment())
    }

    /// One complete answer (the request's `stream` is ignored).
    public func invoke(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil) async throws(ModelManagerError) -> ModelResponse {
        let reply = try await unary(.invoke, ClientCore.encode(request, stream: false), requestID: requestID, request: request, timeout: timeout)
        return try ClientCore.decodeItem(reply)
    }

    /// The answer as it streams: text deltas, then a last chunk with the usage.
    public func invokeStream(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil) -> ModelResponseStream {
        let (call, metadata) = core.prepare(.invoke, requestID: requestID, orgID: request.orgID, userID: request.userID, timeout: timeout)
        return ModelResponseStream(call: call, metadata: metadata, message: ClientCore.encode(request, stream: true))
    }

    /// Several requests in one call; answers come back in request order, each may fail alone.
    public func invokeBatch(_ requests: [ModelRequest], requestID: String? = nil, timeout: Duration? = nil) async throws(ModelManagerError) -> BatchModelResponse {
        let items = requests.map { request -> ModelRequest in
            var item = request
            item.stream = false
            return item
        }
        let first = requests.first ?? ModelRequest(provider: "")
        let reply = try await unary(.batchInvoke, ModelServiceCodec.encodeBatchRequest(items), requestID: requestID, request: first, timeout: timeout)
        return try ClientCore.decodeBatch(reply)
    }

    public func getTaskStatus(_ taskID: String, timeout: Duration? = nil) async throws(ModelManagerError) -> TaskStatus {
        let reply = try await unary(.getTaskStatus, TaskStatusCodec.encodeRequest(taskID: taskID), requestID: nil, request: nil, timeout: timeout)
        return try ClientCore.decodeTask(reply)
    }

    private func unary(
        _ method: ClientCore.Method, _ message: EncodedMessage, requestID: String?, request: ModelRequest?, timeout: Duration?
    ) async throws(ModelManagerError) -> ReceivedMessage {
        let (call, metadata) = core.prepare(method, requestID: requestID, orgID: request?.orgID ?? "", userID: request?.userID ?? "", timeout: timeout)
        let (reply, status) = await withTaskCancellationHandler {
            _ = await call.start(metadata: metadata, message: OutgoingMessage(message))
            let reply = await call.receiveMessage()
            let (status, _) = await call.receiveStatus()
            return (reply, status)
        } onCancel: {
            call.cancel()
        }
        return try ClientCore.reply(reply, status: status)
    }
}

/// The chunks of a streamed answer. Ending iteration early (or cancelling the task) cancels the call.
public struct ModelResponseStream: AsyncSequence, Sendable {
    public typealias Element = ModelResponse
    let call: ClientCall
    let metadata: Metadata
    let message: EncodedMessage

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: ModelResponseStream
        var started = false
        var finished = false

        public mutating func next() async throws(ModelManagerError) -> ModelResponse? {
            guard !finished else { return nil }
            let call = stream.call
            let shouldStart = !started
            started = true
            let (message, status) = await withTaskCancellationHandler { [stream] in
                if shouldStart { _ = await call.start(metadata: stream.metadata, message: OutgoingMessage(stream.message)) }
                if let message = await call.receiveMessage() { return (Optional(message), GRPCStatus?.none) }
                let (status, _) = await call.receiveStatus()
                return (nil, status)
            } onCancel: {
                call.cancel()
            }
            if let message { return try ClientCore.decodeItem(message) }
            finished = true
            if let status, !status.isOK { throw ClientCore.error(status) }
            return nil
        }
    }
}
