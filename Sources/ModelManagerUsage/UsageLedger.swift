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
                await Self.commit(batch.map(\.record), repository: repository, logger: logger)
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

    /// Commits `records`, retrying with backoff until the database takes them: callers wait rather
    /// than lose a record.
    private static func commit(_ records: [UsageRecord], repository: UsageRepository, logger: Logger) async {
        var delay = Duration.milliseconds(50)
        while true {
            do {
                try await repository.insert(records)
                return
            } catch {
                logger.error("usage ledger commit failed; retrying", metadata: ["records": "\(records.count)", "error": "\(error)", "retry_ms": "\(delay.wholeMilliseconds)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
