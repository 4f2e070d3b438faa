public import ModelManagerCore

/// When to retry a failed call, how long to wait, and when to go to the HTTP fallback,
/// by status (PROTOCOL.md §6). A pure value: no clock, no I/O; the caller applies it.
public struct RetryPolicy: Sendable, Hashable {
    public enum Backoff: Sendable, Hashable {
        case exponential
        case linear
    }

    public struct Rule: Sendable, Hashable {
        public var retries: Int
        public var backoff: Backoff
    }

    /// Global cap on retries after the first attempt.
    public var maximumRetries: Int
    /// Base delay of the backoff.
    public var baseDelay: Duration
    public var maximumDelay: Duration
    /// Fraction of the delay added at random (0.05 = up to +5 %).
    public var jitter: Double

    public init(
        maximumRetries: Int = 6, baseDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(60),
        jitter: Double = 0.05
    ) {
        self.maximumRetries = maximumRetries
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
    }

    /// The per-status rule; a status not listed is never retried.
    public static func rule(for status: ModelManagerError.Code) -> Rule? {
        switch status {
        case .unavailable: Rule(retries: 1, backoff: .exponential)
        case .cancelled: Rule(retries: 5, backoff: .linear)
        case .deadlineExceeded: Rule(retries: 3, backoff: .linear)
        case .resourceExhausted: Rule(retries: 3, backoff: .exponential)
        case .aborted: Rule(retries: 3, backoff: .exponential)
        default: nil
        }
    }

    public enum Decision: Sendable, Hashable {
        /// Wait this long, then try again.
        case retry(after: Duration)
        /// Mint a fresh token and try once more at once.
        case refreshTokenAndRetry
        case fail
    }

    /// What to do after `attempt` (0 for the first) failed with `status`, with `remaining` time
    /// left before the call's deadline and `retryAfter` the server's word on when a retry can
    /// succeed. `random` (0…1) drives the jitter.
    public func decide(
        status: ModelManagerError.Code, attempt: Int, remaining: Duration, retryAfter: Duration? = nil,
        canRefreshToken: Bool,
        alreadyRefreshed: Bool,
        streamYieldedChunks: Bool, random: Double
    ) -> Decision {
        // A stream that already handed chunks to the caller is never replayed.
        guard !streamYieldedChunks else { return .fail }
        if status == .unauthenticated {
            return canRefreshToken && !alreadyRefreshed ? .refreshTokenAndRetry : .fail
        }
        guard let rule = Self.rule(for: status), attempt < min(rule.retries, maximumRetries) else { return .fail }
        // Not before the server said a retry can succeed.
        let delay = max(self.delay(attempt: attempt, backoff: rule.backoff, random: random), retryAfter ?? .zero)
        // Never wait past the deadline: a retry that cannot finish in time is not made.
        guard delay < remaining else { return .fail }
        return .retry(after: delay)
    }

    public func delay(attempt: Int, backoff: Backoff, random: Double) -> Duration {
        let factor: Double =
            switch backoff {
            case .exponential: Double(1 << min(attempt, 20))
            case .linear: Double(attempt + 1)
            }
        let base = min(baseDelay * factor, maximumDelay)
        return base + base * (jitter * min(max(random, 0), 1))
    }
}

/// When a failed gRPC call goes to the HTTP fallback (resilient mode with fast fallback on).
public struct FallbackPolicy: Sendable, Hashable {
    public var immediate: Set<ModelManagerError.Code> = [.unavailable, .deadlineExceeded, .cancelled]
    public var never: Set<ModelManagerError.Code> = [.unauthenticated, .permissionDenied, .invalidArgument]
    /// Other statuses fall back once this many attempts have failed.
    public var afterRetries = 1

    public init() {}

    public func shouldFallBack(status: ModelManagerError.Code, attempt: Int) -> Bool {
        guard !never.contains(status) else { return false }
        if immediate.contains(status) { return true }
        return [.resourceExhausted, .aborted].contains(status) && attempt >= afterRetries
    }
}
