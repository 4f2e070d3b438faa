public import ModelManagerCore

/// How asynchronous tasks run, are kept and call back.
public struct TaskSettings: Sendable {
    /// Tasks this instance runs at once.
    public var workers = 4
    /// How long a claimed task is its worker's alone; renewed while the call runs, so a task is
    /// taken over this long after its instance died.
    public var lease: Duration = .seconds(60)
    /// How often idle workers look for tasks created on other instances.
    public var pollInterval: Duration = .seconds(1)
    /// Claims after which a task whose runs never finish is failed.
    public var maximumAttempts = 3
    /// Tasks one org may have processing at once; past it creation is RESOURCE_EXHAUSTED.
    public var maximumProcessingPerOrg = 1000
    /// How long a finished task stays readable.
    public var retention: Duration = .seconds(7 * 86_400)
    /// How long an idempotency key keeps naming its task.
    public var idempotencyWindow: Duration = .seconds(86_400)
    /// Signs callbacks; without it a task with `callback_url` is refused.
    public var callbackSecret: Secret?
    /// How long a failing callback is retried (with backoff) before it is given up.
    public var callbackRetryFor: Duration = .seconds(3600)
    public var callbackTimeout: Duration = .seconds(10)
    /// Allow callbacks to loopback and private addresses (tests, internal receivers).
    public var callbackAllowPrivate = false

    public init() {}
}
