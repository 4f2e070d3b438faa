import Dispatch
public import Logging
public import ModelManagerCore

/// The blocking twin of `AsyncModelManagerClient`, with the same calls, for code that is not
/// async. Each call runs the async client's (one implementation serves both) and blocks the
/// calling thread until it ends: never call it from a Swift concurrency task.
public final class ModelManagerClient: Sendable {
    public let async: AsyncModelManagerClient

    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "model-manager-client")) {
        async = AsyncModelManagerClient(configuration: configuration, logger: logger)
    }

    public convenience init() throws {
        self.init(configuration: try .fromEnvironment())
    }

    deinit { async.close() }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func invoke(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil)
        throws(ModelManagerClientError) -> ModelResponse
    {
        let client = async
        let origin = ModelManagerRequestContext.originRequestID
        return try runBlocking(origin) { () async throws(ModelManagerClientError) in
            try await client.invoke(request, requestID: requestID, timeout: timeout)
        }
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func invokeStream(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil)
        -> SyncModelResponseStream
    {
        let stream = ModelManagerRequestContext.$originRequestID.withValue(ModelManagerRequestContext.originRequestID) {
            async.invokeStream(request, requestID: requestID, timeout: timeout)
        }
        return SyncModelResponseStream(session: stream.session)
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func invokeBatch(_ requests: [ModelRequest], requestID: String? = nil, timeout: Duration? = nil)
        throws(ModelManagerClientError) -> BatchModelResponse
    {
        let client = async
        return try runBlocking(ModelManagerRequestContext.originRequestID) { () async throws(ModelManagerClientError) in
            try await client.invokeBatch(requests, requestID: requestID, timeout: timeout)
        }
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func getTaskStatus(_ taskID: String, timeout: Duration? = nil) throws(ModelManagerClientError) -> TaskStatus
    {
        let client = async
        return try runBlocking(nil) { () async throws(ModelManagerClientError) in
            try await client.getTaskStatus(taskID, timeout: timeout)
        }
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func batchGetTaskStatus(_ taskIDs: [String], timeout: Duration? = nil) throws(ModelManagerClientError)
        -> [TaskStatus]
    {
        let client = async
        return try runBlocking(nil) { () async throws(ModelManagerClientError) in
            try await client.batchGetTaskStatus(taskIDs, timeout: timeout)
        }
    }

    public var circuitBreakerSnapshot: CircuitBreaker.Snapshot? { async.circuitBreakerSnapshot }

    public func close() { async.close() }
}

/// The chunks of a streamed answer, pulled one at a time with `nextChunk()` (or `for … in`,
/// where a failure ends the loop and is kept in `failure`). Dropping it cancels the call.
public final class SyncModelResponseStream: Sequence, IteratorProtocol {
    private let session: StreamSession
    public private(set) var failure: ModelManagerClientError?

    init(session: StreamSession) { self.session = session }

    @available(*, noasync, message: "blocks the thread; iterate the async stream instead")
    public func nextChunk() throws(ModelManagerClientError) -> ModelResponse? {
        let session = session
        return try runBlocking(nil) { () async throws(ModelManagerClientError) in try await session.next() }
    }

    @available(*, noasync, message: "blocks the thread; iterate the async stream instead")
    public func next() -> ModelResponse? {
        do {
            return try nextChunk()
        } catch {
            failure = error
            return nil
        }
    }
}

/// Runs async client work from a thread that is not a Swift concurrency thread, and waits.
@available(*, noasync)
func runBlocking<Value: Sendable>(
    _ origin: String?, _ work: @escaping @Sendable () async throws(ModelManagerClientError) -> Value
) throws(ModelManagerClientError) -> Value {
    let box = ResultBox<Value>()
    Task {
        let result = await ModelManagerRequestContext.$originRequestID.withValue(origin) {
            () async -> Result<Value, ModelManagerClientError> in
            do throws(ModelManagerClientError) {
                return .success(try await work())
            } catch {
                return .failure(error)
            }
        }
        box.set(result)
    }
    return try box.wait().get()
}

private final class ResultBox<Value>: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<Value, ModelManagerClientError>?

    func set(_ result: Result<Value, ModelManagerClientError>) {
        self.result = result
        ready.signal()
    }

    func wait() -> Result<Value, ModelManagerClientError> {
        ready.wait()
        return result!
    }
}
