public import Logging
import ModelManagerCore
import Synchronization

/// Writes usage records through one writer that commits them in batches (group commit), off
/// the request path. In durable mode a caller's `record` returns only once its record is
/// committed, so a record is never acknowledged and then lost. In buffered mode `record`
/// returns at once while the buffer has room (records not yet committed are lost if the
/// process dies; `shutdown` flushes them).
public final class UsageLedger: Sendable {
    public enum Mode: Sendable, Hashable {
        case durable
        case buffered(capacity: Int)
    }

    /// A record and, when its caller waits for the commit, that caller.
    private typealias Entry = (record: UsageRecord, waiter: UnsafeContinuation<Void, Never>?)

    private struct Pending {
        var entries: [Entry] = []
    }

    public let repository: UsageRepository
    public let mode: Mode
    private let pending = Mutex(Pending())
    private let wakeups: AsyncStream<Void>.Continuation
    private let writer: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let committedCount = Atomic<Int>(0)
    private let deadLettered = Atomic<Int>(0)
    private let logger: Logger
    /// Called after each commit (the outbox relay listens, to publish at once).
    private let onCommit: @Sendable () -> Void
    static let maximumBatch = 1000

    public init(repository: UsageRepository, mode: Mode = .durable, logger: Logger, onCommit: @escaping @Sendable () -> Void = {}) {
        self.repository = repository
        self.mode = mode
        self.logger = logger
        self.onCommit = onCommit
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeups = continuation
        let task = Task { await self.runWriter(wakeups: stream) }
        writer.withLock { $0 = task }
    }

    private func runWriter(wakeups: AsyncStream<Void>) async {
        for await _ in wakeups {
            while true {
                let batch = pending.withLock { state -> [Entry] in
                    let count = min(state.entries.count, Self.maximumBatch)
                    defer { state.entries.removeFirst(count) }
                    return Array(state.entries.prefix(count))
                }
                guard !batch.isEmpty else { break }
                await commit(batch.map(\.record))
                committedCount.add(batch.count, ordering: .relaxed)
                batch.forEach { $0.waiter?.resume() }
                onCommit()
            }
        }
    }

    /// Records `record`: in durable mode, returns once it is committed.
    public func record(_ record: UsageRecord) async {
        if case .buffered(let capacity) = mode {
            let accepted = pending.withLock { state -> Bool in
                guard state.entries.count < capacity else { return false }
                state.entries.append((record, nil))
                return true
            }
            if accepted {
                wakeups.yield()
                return
            }
            // The buffer is bounded: past it, the caller waits like a durable one.
        }
        await withUnsafeContinuation { continuation in
            pending.withLock { $0.entries.append((record, continuation)) }
            wakeups.yield()
        }
    }

    /// Records committed since start.
    public var committed: Int { committedCount.load(ordering: .relaxed) }

    /// Commits what is pending, then stops the writer.
    public func shutdown() async {
        wakeups.finish()
        await writer.withLock { $0 }?.value
    }

    /// Commits `records`, retrying with backoff: callers wait rather than lose a record. A batch
    /// that keeps failing is split, so one record the database can never accept (PostgreSQL
    /// refuses NUL) cannot hold the others; that record alone goes to the dead letters.
    private func commit(_ records: [UsageRecord]) async {
        var delay = Duration.milliseconds(50)
        var failures = 0
        while true {
            do {
                try await repository.insert(records)
                return
            } catch {
                failures += 1
                if failures >= Self.attemptsBeforeIsolating {
                    if records.count > 1 {
                        let middle = records.count / 2
                        await commit(Array(records[..<middle]))
                        await commit(Array(records[middle...]))
                        return
                    }
                    if await deadLetter(records[0], error: error) { return }
                }
                logger.error(
                    "usage ledger commit failed; retrying",
                    metadata: ["records": "\(records.count)", "error": "\(error)", "retry_ms": "\(delay.wholeMilliseconds)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Failed inserts of one batch before it is split (a database that is down fails every
    /// batch alike; a poisoned row fails only its own).
    static let attemptsBeforeIsolating = 3

    /// Whether `record` reached the dead letters; false while the database takes nothing at all.
    private func deadLetter(_ record: UsageRecord, error: any Error) async -> Bool {
        do {
            try await repository.deadLetter(record, error: "\(error)")
        } catch {
            return false
        }
        deadLettered.add(1, ordering: .relaxed)
        logger.critical(
            "usage record refused by the database; kept in dead_letters",
            metadata: ["record_id": "\(record.id)", "request_id": "\(record.requestID)", "error": "\(error)"])
        return true
    }

    /// Records moved to the dead letters since start.
    public var deadLetteredCount: Int { deadLettered.load(ordering: .relaxed) }
}
