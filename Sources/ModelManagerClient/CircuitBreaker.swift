public import Foundation
import Synchronization

/// Closed → open after `threshold` consecutive network failures; open → half-open after
/// `timeout`; one probe in half-open closes it again or reopens it. While open, calls go to
/// the HTTP fallback.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable, Hashable {
        case closed, open
        case halfOpen = "half-open"
    }

    public struct Snapshot: Sendable, Hashable {
        public var state: State
        public var failureCount: Int
        public var lastFailureTime: Date?
        public var fallbackURL: String?
    }

    private struct Machine {
        var state = State.closed
        var failures = 0
        var openedAt: ContinuousClock.Instant?
        var lastFailure: Date?
        var probeInFlight = false
    }

    public let threshold: Int
    public let timeout: Duration
    let fallbackURL: String?
    private let machine = Mutex(Machine())

    public init(threshold: Int = 5, timeout: Duration = .seconds(60), fallbackURL: String? = nil) {
        self.threshold = max(1, threshold)
        self.timeout = timeout
        self.fallbackURL = fallbackURL
    }

    /// Whether the next call should go over gRPC (false: straight to HTTP).
    public func allowsGRPC(now: ContinuousClock.Instant = .now) -> Bool {
        machine.withLock { machine in
            switch machine.state {
            case .closed:
                return true
            case .open:
                guard let openedAt = machine.openedAt, now - openedAt >= timeout else { return false }
                machine.state = .halfOpen
                machine.probeInFlight = true
                return true
            case .halfOpen:
                // One probe at a time; the others keep using HTTP until it answers.
                guard !machine.probeInFlight else { return false }
                machine.probeInFlight = true
                return true
            }
        }
    }

    public func recordSuccess() {
        machine.withLock { machine in
            machine.state = .closed
            machine.failures = 0
            machine.openedAt = nil
            machine.probeInFlight = false
        }
    }

    /// A call failed for a network reason (UNAVAILABLE, CANCELLED by the transport).
    public func recordFailure(now: ContinuousClock.Instant = .now, wallClock: Date = Date()) {
        machine.withLock { machine in
            machine.failures += 1
            machine.lastFailure = wallClock
            machine.probeInFlight = false
            if machine.state == .halfOpen || machine.failures >= threshold {
                machine.state = .open
                machine.openedAt = now
            }
        }
    }

    public var snapshot: Snapshot {
        machine.withLock {
            Snapshot(
                state: $0.state, failureCount: $0.failures, lastFailureTime: $0.lastFailure, fallbackURL: fallbackURL)
        }
    }
}
