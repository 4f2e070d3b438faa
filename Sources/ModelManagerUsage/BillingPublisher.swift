/// A broker the outbox relay publishes billing events to. `publish` returns only once the
/// broker acknowledged the event; it throws otherwise.
public protocol BillingPublisher: Sendable {
    /// The outbox sink name ("nats", "mqtt").
    var sink: String { get }
    func publish(recordID: String, subject: String, payload: String) async throws
    func close() async
}

/// The relay's retry delays: doubling from `initial` to `maximum`, back to `initial` on success.
public struct RelayBackoff: Sendable, Hashable {
    public let initial: Duration
    public let maximum: Duration
    public private(set) var next: Duration

    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(10)) {
        self.initial = initial
        self.maximum = maximum
        next = initial
    }

    /// The delay before the next attempt after a failure.
    public mutating func failed() -> Duration {
        defer { next = min(next * 2, maximum) }
        return next
    }

    public mutating func succeeded() { next = initial }
}

public struct PublishError: Error, CustomStringConvertible {
    public let description: String
    /// The broker refused this event and will refuse it again (an invalid subject, a payload
    /// over its limit): retrying cannot help, unlike a broker that is down.
    public let isPermanent: Bool

    public init(_ description: String, permanent: Bool = false) {
        self.description = description
        isPermanent = permanent
    }
}
