import Synchronization

/// A caller waiting for its record's commit, until its deadline. The writer and the ledger's
/// watchdog race for it; whichever comes first decides what the caller is told, and the record
/// is made to say the same.
final class CommitWaiter: Sendable {
    private struct State {
        var continuation: UnsafeContinuation<Bool, Never>?
        var gaveUp = false
        /// The record was rewritten to say the answer was withheld before it was written.
        var rewritten = false
    }

    let deadline: ContinuousClock.Instant
    private let state = Mutex(State())

    init(deadline: ContinuousClock.Instant) { self.deadline = deadline }

    func wait(with continuation: UnsafeContinuation<Bool, Never>) { state.withLock { $0.continuation = continuation } }

    /// The deadline passed (or the ledger is shutting down): the caller is told its record was
    /// not committed in time.
    func giveUp() {
        state.withLock { state -> UnsafeContinuation<Bool, Never>? in
            guard !state.gaveUp else { return nil }
            state.gaveUp = true
            defer { state.continuation = nil }
            return state.continuation
        }?.resume(returning: false)
    }

    /// The writer takes the record into a batch: true when the caller already gave up, so the
    /// record must be written as withheld.
    func takeForCommit() -> Bool {
        state.withLock { state in
            state.rewritten = state.gaveUp
            return state.gaveUp
        }
    }

    /// The record is committed. Resumes a waiting caller; returns true when the caller gave up
    /// after the record was taken, so the committed record needs correcting.
    func committed() -> Bool {
        let (continuation, needsCorrection) = state.withLock { state -> (UnsafeContinuation<Bool, Never>?, Bool) in
            if state.gaveUp { return (nil, !state.rewritten) }
            state.gaveUp = true
            defer { state.continuation = nil }
            return (state.continuation, false)
        }
        continuation?.resume(returning: true)
        return needsCorrection
    }
}

extension UsageRecord {
    /// What the caller of a withheld answer received, as the record says it.
    static let withheldError = "unavailable: the answer was withheld because its usage record was not committed in time"

    /// This record, saying the caller got no answer because the record was not committed in time.
    var withheld: UsageRecord {
        var record = self
        record.success = false
        record.error = Self.withheldError + (error.map { " (the call had failed: \($0))" } ?? "")
        return record
    }
}
