public import ModelManagerCore
import Synchronization

/// Runs a request through the router's attempts: a credential that answers 429 or 5xx (or
/// whose key is rejected) cools down and the next one is tried, then an alias's next target,
/// all within the call's deadline and only while nothing has reached the caller yet.
public struct Invoker: Sendable {
    public let router: Router
    let observer: (any UpstreamObserver)?

    public init(router: Router, observer: (any UpstreamObserver)? = nil) {
        self.router = router
        self.observer = observer
    }

    /// Deltas go to `emit`; returns the completion, stamped with who served it.
    public func invoke(_ request: ModelRequest, context: InvocationContext, emit: ChunkSink)
        async throws(ModelManagerError) -> ResponseChunk
    {
        let attempts = try router.plan(request)
        var lastError: ModelManagerError?
        for (index, attempt) in attempts.enumerated() {
            if let deadline = context.deadline, deadline <= .now {
                throw lastError
                    ?? ModelManagerError(.deadlineExceeded, "the call's deadline passed before an upstream answered")
            }
            let emitted = Atomic(false)
            let servedBy = ServedBy(
                provider: attempt.request.provider, channel: attempt.target.settings.channels[0],
                model: attempt.request.model ?? "")
            var attemptContext = context
            attemptContext.trace = context.trace?.child(
                "upstream \(attempt.request.provider)", kind: .client,
                attributes: [
                    "server.address": .string(attempt.target.baseURL), "gen_ai.request.model": .string(servedBy.model),
                    "model_manager.attempt": .integer(index + 1),
                ])
            defer { attemptContext.trace?.end() }
            do {
                var completion = try await attempt.adapter.invoke(
                    attempt.request, as: attempt.invokeType, target: attempt.target, context: attemptContext
                ) { deltas in
                    emitted.store(true, ordering: .relaxed)
                    try await emit(deltas)
                }
                completion.servedBy = servedBy
                return completion
            } catch {
                let failure = Self.normalize(error)
                attemptContext.trace?.fail(type: failure.code.identifier, message: failure.message)
                let isLast = index == attempts.count - 1
                let failsOver = !isLast && !emitted.load(ordering: .relaxed) && Self.triesAnotherTarget(failure)
                if failure.code != .cancelled {
                    observer?.upstreamFailed(
                        provider: attempt.request.provider, code: failure.code, failingOver: failsOver)
                }
                guard failsOver else { throw failure }
                router.pool.coolDown(
                    attempt.target, for: failure.retryAfterSeconds.flatMap { Duration.clampedSeconds($0) })
                lastError = failure
            }
        }
        throw lastError ?? ModelManagerError(.internalError, "no upstream attempt was made")
    }

    static func triesAnotherTarget(_ error: ModelManagerError) -> Bool {
        [.resourceExhausted, .unavailable, .failedPrecondition].contains(error.code)
    }

    static func normalize(_ error: any Error) -> ModelManagerError {
        switch error {
        case let error as ModelManagerError: error
        case is CancellationError: ModelManagerError(.cancelled, "the call was cancelled")
        default: ModelManagerError(.internalError, "unexpected failure: \(type(of: error))", cause: error)
        }
    }
}

/// Told of each failed upstream attempt (metrics count errors, cool-downs and failovers).
public protocol UpstreamObserver: Sendable {
    /// `failingOver`: the attempt's credential cools down and the next target is tried.
    func upstreamFailed(provider: Provider, code: ModelManagerError.Code, failingOver: Bool)
}
