public import ModelManagerCore
import ModelManagerGRPC
import ModelManagerWire

/// The blocking twin of `AsyncModelManagerClient`, for code that is not async.
/// Calls block the calling thread: never call them from a Swift concurrency task.
public final class ModelManagerClient: Sendable {
    let core: ClientCore

    public init(configuration: ClientConfiguration) {
        core = ClientCore(configuration: configuration)
    }

    public convenience init() throws {
        self.init(configuration: try .fromEnvironment())
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func invoke(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil) throws(ModelManagerError) -> ModelResponse {
        let reply = try unary(.invoke, ClientCore.encode(request, stream: false), requestID: requestID, request: request, timeout: timeout)
        return try ClientCore.decodeItem(reply)
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func invokeStream(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil) -> SyncModelResponseStream {
        let (call, metadata) = core.prepare(.invoke, requestID: requestID, orgID: request.orgID, userID: request.userID, timeout: timeout)
        return SyncModelResponseStream(call: call, metadata: metadata, message: ClientCore.encode(request, stream: true))
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func invokeBatch(_ requests: [ModelRequest], requestID: String? = nil, timeout: Duration? = nil) throws(ModelManagerError) -> BatchModelResponse {
        let items = requests.map { request -> ModelRequest in
            var item = request
            item.stream = false
            return item
        }
        let reply = try unary(.batchInvoke, ModelServiceCodec.encodeBatchRequest(items), requestID: requestID, request: requests.first, timeout: timeout)
        return try ClientCore.decodeBatch(reply)
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func getTaskStatus(_ taskID: String, timeout: Duration? = nil) throws(ModelManagerError) -> TaskStatus {
        let reply = try unary(.getTaskStatus, TaskStatusCodec.encodeRequest(taskID: taskID), requestID: nil, request: nil, timeout: timeout)
        return try ClientCore.decodeTask(reply)
    }

    @available(*, noasync)
    private func unary(
        _ method: ClientCore.Method, _ message: EncodedMessage, requestID: String?, request: ModelRequest?, timeout: Duration?
    ) throws(ModelManagerError) -> ReceivedMessage {
        let (call, metadata) = core.prepare(method, requestID: requestID, orgID: request?.orgID ?? "", userID: request?.userID ?? "", timeout: timeout)
        _ = call.startBlocking(metadata: metadata, message: OutgoingMessage(message))
        let reply = call.receiveMessageBlocking()
        let (status, _) = call.receiveStatusBlocking()
        return try ClientCore.reply(reply, status: status)
    }
}

/// The chunks of a streamed answer, pulled one at a time; dropping it cancels the call.
public final class SyncModelResponseStream: Sequence, IteratorProtocol {
    private let call: ClientCall
    private let metadata: Metadata
    private let message: EncodedMessage
    private var started = false
    private var finished = false
    /// Why the stream ended early, when it failed (`next()` then returns nil).
    public private(set) var failure: ModelManagerError?

    init(call: ClientCall, metadata: Metadata, message: EncodedMessage) {
        self.call = call
        self.metadata = metadata
        self.message = message
    }

    /// The next chunk; nil at the end. A failed stream throws once.
    @available(*, noasync)
    public func nextChunk() throws(ModelManagerError) -> ModelResponse? {
        guard !finished else { return nil }
        if !started {
            started = true
            _ = call.startBlocking(metadata: metadata, message: OutgoingMessage(message))
        }
        if let reply = call.receiveMessageBlocking() { return try ClientCore.decodeItem(reply) }
        finished = true
        let (status, _) = call.receiveStatusBlocking()
        if !status.isOK { throw ClientCore.error(status) }
        return nil
    }

    /// For `for chunk in stream`: a failure ends the loop and is kept in `failure`.
    @available(*, noasync)
    public func next() -> ModelResponse? {
        do {
            return try nextChunk()
        } catch {
            failure = error
            return nil
        }
    }

    deinit {
        if !finished { call.cancel() }
    }
}
