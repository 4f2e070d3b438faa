public import ModelManagerCore

/// A task the server accepted: poll it with `getTaskStatus` or `waitForTask`.
public struct TaskHandle: Sendable, Hashable {
    public let id: String
    /// The creating call's request id.
    public let requestID: String?
}

extension TaskStatus {
    /// `completed` or `failed`: the status will not change any more.
    public var isFinished: Bool { status != "processing" }
    /// A completed task's answer text.
    public var content: String? { resultData?["content"]?.stringValue }
}

extension AsyncModelManagerClient {
    /// Sends `request` as an asynchronous task (`extra.enable_async_task`): the server stores it
    /// and answers at once. With `idempotencyKey`, the same key from the same org within the
    /// server's window names the same task; with `callbackURL`, the server posts the finished
    /// task's status there, signed.
    public func createTask(
        _ request: ModelRequest, callbackURL: String? = nil, idempotencyKey: String? = nil, requestID: String? = nil,
        timeout: Duration? = nil
    ) async throws(ModelManagerClientError) -> TaskHandle {
        var task = request
        task.extra["enable_async_task"] = true
        if let callbackURL { task.extra["callback_url"] = .string(callbackURL) }
        if let idempotencyKey { task.extra["idempotency_key"] = .string(idempotencyKey) }
        let answer = try await invoke(task, requestID: requestID, timeout: timeout)
        guard let id = answer.rawResponse?["task_id"]?.stringValue else {
            throw ModelManagerClientError(
                status: .internalError, message: "the server answered the task request without a task id",
                requestID: answer.requestID)
        }
        return TaskHandle(id: id, requestID: answer.requestID)
    }

    /// Polls the task every `interval` until it is finished; DEADLINE_EXCEEDED if it is still
    /// processing after `timeout`.
    public func waitForTask(_ id: String, every interval: Duration = .seconds(1), timeout: Duration)
        async throws(ModelManagerClientError) -> TaskStatus
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await getTaskStatus(id, timeout: max(.seconds(1), deadline - .now))
            if status.isFinished { return status }
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw ModelManagerClientError(
                    status: .deadlineExceeded, message: "task '\(id)' is still processing after \(timeout)")
            }
            do {
                try await Task.sleep(for: min(interval, remaining))
            } catch {
                throw ModelManagerClientError(status: .cancelled, message: "waiting for task '\(id)' was cancelled")
            }
        }
    }
}

extension ModelManagerClient {
    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func createTask(
        _ request: ModelRequest, callbackURL: String? = nil, idempotencyKey: String? = nil, requestID: String? = nil,
        timeout: Duration? = nil
    ) throws(ModelManagerClientError) -> TaskHandle {
        let client = async
        return try runBlocking(ModelManagerRequestContext.originRequestID) { () async throws(ModelManagerClientError) in
            try await client.createTask(
                request, callbackURL: callbackURL, idempotencyKey: idempotencyKey, requestID: requestID,
                timeout: timeout)
        }
    }

    @available(*, noasync, message: "blocks the thread; use AsyncModelManagerClient")
    public func waitForTask(_ id: String, every interval: Duration = .seconds(1), timeout: Duration)
        throws(ModelManagerClientError) -> TaskStatus
    {
        let client = async
        return try runBlocking(nil) { () async throws(ModelManagerClientError) in
            try await client.waitForTask(id, every: interval, timeout: timeout)
        }
    }
}
