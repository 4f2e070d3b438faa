public import Logging
public import ModelManagerCore
import ModelManagerGRPC
import ModelManagerWire

/// The async client: every call carries a deadline (`timeout`, else the configured one) that
/// bounds its retries too; failures are `ModelManagerClientError`.
public final class AsyncModelManagerClient: Sendable {
    let core: ClientCore

    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "model-manager-client")) {
        core = ClientCore(configuration: configuration, logger: logger)
    }

    /// A client configured from the environment and `.env` (PROTOCOL.md §8).
    public convenience init() throws {
        self.init(configuration: try .fromEnvironment())
    }

    /// One complete answer (the request's `stream` is ignored).
    public func invoke(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil)
        async throws(ModelManagerClientError) -> ModelResponse
    {
        let ids = ClientCore.IDs(caller: requestID)
        let core = core
        var single = request
        single.stream = false
        let message = ModelServiceCodec.encodeRequestItem(single)
        return try await core.perform(ids, caller: Self.caller(request), timeout: timeout) {
            metadata, remaining throws(ModelManagerClientError) in
            let reply = try await core.unary(.invoke, message, metadata: metadata, timeout: remaining, ids: ids)
            return try ClientCore.decode(ids) { () throws(ModelManagerError) in
                ModelResponse(
                    try reply.withUnsafeBytes { buffer throws(ModelManagerError) in
                        try ModelServiceCodec.decodeResponseItem(buffer)
                    })
            }
        } http: { remaining throws(ModelManagerClientError) in
            try await core.fallback!.invoke(
                single, headers: core.httpHeaders(ids, caller: Self.caller(request)), timeout: remaining)
        }
    }

    /// The answer as it streams: text deltas, then a last chunk with the usage. Iterating it starts
    /// the call; ending the iteration early (or cancelling the task) cancels it.
    public func invokeStream(_ request: ModelRequest, requestID: String? = nil, timeout: Duration? = nil)
        -> ModelResponseStream
    {
        var streamed = request
        streamed.stream = true
        return ModelResponseStream(
            session: StreamSession(
                core: core, request: streamed, ids: ClientCore.IDs(caller: requestID), timeout: timeout))
    }

    /// Several requests in one call; answers come back in request order, each may fail alone.
    public func invokeBatch(_ requests: [ModelRequest], requestID: String? = nil, timeout: Duration? = nil)
        async throws(ModelManagerClientError) -> BatchModelResponse
    {
        let ids = ClientCore.IDs(caller: requestID)
        let core = core
        let items = requests.map { request -> ModelRequest in
            var item = request
            item.stream = false
            return item
        }
        let message = ModelServiceCodec.encodeBatchRequest(items)
        let caller = requests.first.map(Self.caller) ?? ClientCore.Caller()
        return try await core.perform(ids, caller: caller, timeout: timeout) {
            metadata, remaining throws(ModelManagerClientError) in
            let reply = try await core.unary(.batchInvoke, message, metadata: metadata, timeout: remaining, ids: ids)
            return try ClientCore.decode(ids) { () throws(ModelManagerError) in
                let (requestID, responses) = try reply.withUnsafeBytes { buffer throws(ModelManagerError) in
                    try ModelServiceCodec.decodeBatchResponse(buffer)
                }
                return BatchModelResponse(requestID: requestID, responses: responses.map(ModelResponse.init))
            }
        } http: { remaining throws(ModelManagerClientError) in
            try await core.fallback!.invokeBatch(
                items, headers: core.httpHeaders(ids, caller: caller), timeout: remaining)
        }
    }

    public func getTaskStatus(_ taskID: String, timeout: Duration? = nil) async throws(ModelManagerClientError)
        -> TaskStatus
    {
        try await taskCall(.getTaskStatus, TaskStatusCodec.encodeRequest(taskID: taskID), timeout: timeout) {
            reply throws(ModelManagerError) in
            TaskStatus(
                try reply.withUnsafeBytes { buffer throws(ModelManagerError) in
                    try TaskStatusCodec.decodeResponse(buffer)
                })
        }
    }

    public func batchGetTaskStatus(_ taskIDs: [String], timeout: Duration? = nil) async throws(ModelManagerClientError)
        -> [TaskStatus]
    {
        try await taskCall(.batchGetTaskStatus, TaskStatusCodec.encodeBatchRequest(taskIDs: taskIDs), timeout: timeout)
        { reply throws(ModelManagerError) in
            try reply.withUnsafeBytes { buffer throws(ModelManagerError) in
                try TaskStatusCodec.decodeBatchResponse(buffer)
            }.map(TaskStatus.init)
        }
    }

    /// A task-status call: gRPC only (the HTTP face has no task routes).
    private func taskCall<Value: Sendable>(
        _ method: ClientCore.Method, _ message: EncodedMessage, timeout: Duration?,
        decode: @escaping @Sendable (ReceivedMessage) throws(ModelManagerError) -> Value
    ) async throws(ModelManagerClientError) -> Value {
        let ids = ClientCore.IDs(caller: nil)
        let core = core
        return try await core.perform(
            ids, caller: ClientCore.Caller(), timeout: timeout,
            grpc: { metadata, remaining throws(ModelManagerClientError) in
                let reply = try await core.unary(method, message, metadata: metadata, timeout: remaining, ids: ids)
                return try ClientCore.decode(ids) { () throws(ModelManagerError) in try decode(reply) }
            }, http: nil)
    }

    /// The circuit breaker's state (nil when resilience is off).
    public var circuitBreakerSnapshot: CircuitBreaker.Snapshot? { core.breaker?.snapshot }

    /// Releases the connection; calls after this fail.
    public func close() {
        core.channel.close()
    }

    static func caller(_ request: ModelRequest) -> ClientCore.Caller {
        ClientCore.Caller(orgID: request.orgID, userID: request.userID)
    }
}

/// Runs `body` with a client that is closed when `body` returns or throws.
public func withModelManagerClient<Result>(
    configuration: ClientConfiguration, _ body: (AsyncModelManagerClient) async throws -> Result
) async rethrows -> Result {
    let client = AsyncModelManagerClient(configuration: configuration)
    defer { client.close() }
    return try await body(client)
}
