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
    private typealias Entry = (record: UsageRecord, waiter: CommitWaiter?)

    private struct Pending {
        var entries: [Entry] = []
        /// The batch the writer is committing now.
        var inFlight: [Entry] = []
        var stopped = false
    }

    public let repository: UsageRepository
    public let mode: Mode
    /// Where records still uncommitted at shutdown are written, to be replayed at the next start.
    public let spillFile: String?
    /// How long a caller with no deadline waits for its record's commit.
    public let maximumCommitWait: Duration
    private let pending = Mutex(Pending())
    private let wakeups: AsyncStream<Void>.Continuation
    private let writer: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let watchdog: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let committedCount = Atomic<Int>(0)
    private let deadLettered = Atomic<Int>(0)
    private let withheldCount = Atomic<Int>(0)
    private let logger: Logger
    /// Called after each commit (the outbox relay listens, to publish at once).
    private let onCommit: @Sendable () -> Void
    static let maximumBatch = 1000
    /// A withheld answer is reported this long before the call's deadline, so that the caller
    /// hears why rather than a bare DEADLINE_EXCEEDED.
    static let deadlineMargin: Duration = .milliseconds(50)

    public init(
        repository: UsageRepository, mode: Mode = .durable, spillFile: String? = nil, maximumCommitWait: Duration = .seconds(30),
        logger: Logger, onCommit: @escaping @Sendable () -> Void = {}
    ) {
        self.repository = repository
        self.mode = mode
        self.spillFile = spillFile
        self.maximumCommitWait = maximumCommitWait
        self.logger = logger
        self.onCommit = onCommit
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeups = continuation
        let task = Task { await self.runWriter(wakeups: stream) }
        writer.withLock { $0 = task }
        let watching = Task { await self.watchDeadlines() }
        watchdog.withLock { $0 = watching }
    }

    private func runWriter(wakeups: AsyncStream<Void>) async {
        for await _ in wakeups {
            while !Task.isCancelled {
                let batch = pending.withLock { state -> [Entry] in
                    let count = min(state.entries.count, Self.maximumBatch)
                    defer { state.entries.removeFirst(count) }
                    state.inFlight = Array(state.entries.prefix(count))
                    return state.inFlight
                }
                guard !batch.isEmpty else { break }
                let records = batch.map { entry in entry.waiter?.takeForCommit() == true ? entry.record.withheld : entry.record }
                guard await commit(records) else { return }
                pending.withLock { $0.inFlight = [] }
                committedCount.add(batch.count, ordering: .relaxed)
                let late = batch.filter { $0.waiter?.committed() == true }.map(\.record)
                if !late.isEmpty { await correct(late) }
                onCommit()
            }
        }
    }

    /// Records `record`. In durable mode, returns once it is committed (true), or false when
    /// `deadline` (less a small margin) came first: the caller must then withhold the answer,
    /// and the record, when it is written, says so.
    @discardableResult
    public func record(_ record: UsageRecord, deadline: ContinuousClock.Instant? = nil) async -> Bool {
        if case .buffered(let capacity) = mode {
            let accepted = pending.withLock { state -> Bool in
                guard state.entries.count < capacity else { return false }
                state.entries.append((record, nil))
                return true
            }
            if accepted {
                wakeups.yield()
                return true
            }
            // The buffer is bounded: past it, the caller waits like a durable one.
        }
        let waiter = CommitWaiter(deadline: (deadline ?? .now + maximumCommitWait) - Self.deadlineMargin)
        let committed = await withUnsafeContinuation { continuation in
            waiter.wait(with: continuation)
            let accepted = pending.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.entries.append((record, waiter))
                return true
            }
            if accepted { wakeups.yield() } else { waiter.giveUp() }
        }
        if !committed { withheldCount.add(1, ordering: .relaxed) }
        return committed
    }

    /// One task for the whole ledger (no timer per call): every 20 ms it tells the callers whose
    /// deadline has come that their record was not committed in time.
    private func watchDeadlines() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
            let now = ContinuousClock.now
            let expired = pending.withLock { state in
                (state.entries + state.inFlight).compactMap { entry in entry.waiter.flatMap { $0.deadline <= now ? $0 : nil } }
            }
            expired.forEach { $0.giveUp() }
        }
    }

    /// Records committed since start.
    public var committed: Int { committedCount.load(ordering: .relaxed) }
    /// Answers withheld because their record was not committed in time.
    public var withheld: Int { withheldCount.load(ordering: .relaxed) }

    /// Commits what is pending within `grace`; what is still uncommitted then goes to the spill
    /// file (replayed by `replaySpill` at the next start) and its callers are told.
    public func shutdown(grace: Duration = .seconds(5)) async {
        wakeups.finish()
        let writerTask = writer.withLock { $0 }
        let finished = await Self.finishes(writerTask, within: grace)
        if !finished {
            writerTask?.cancel()
            let left = pending.withLock { state -> [Entry] in
                state.stopped = true
                defer {
                    state.entries = []
                    state.inFlight = []
                }
                return state.inFlight + state.entries
            }
            spill(left)
        }
        pending.withLock { $0.stopped = true }
        watchdog.withLock { $0 }?.cancel()
    }

    private static func finishes(_ task: Task<Void, Never>?, within limit: Duration) async -> Bool {
        guard let task else { return true }
        let done = Atomic<Bool>(false)
        let waiting = Task {
            await task.value
            done.store(true, ordering: .relaxed)
        }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !done.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(10)) }
        waiting.cancel()
        return done.load(ordering: .relaxed)
    }

    /// Writes `entries` to the spill file; their waiting callers are told the record was not
    /// committed (so they withhold the answer), and the spilled record says so.
    private func spill(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        let records = entries.map { entry -> UsageRecord in
            guard let waiter = entry.waiter else { return entry.record }
            waiter.giveUp()
            return entry.record.withheld
        }
        guard let spillFile else {
            logger.critical("usage records lost at shutdown: the ledger took no write and no spill file is set", metadata: ["records": "\(records.count)"])
            return
        }
        do {
            try SpillFile(path: spillFile).append(records)
            logger.warning("usage records spilled at shutdown; they are replayed at the next start", metadata: ["records": "\(records.count)", "file": "\(spillFile)"])
        } catch {
            logger.critical("usage records lost at shutdown: the spill file could not be written", metadata: ["records": "\(records.count)", "file": "\(spillFile)", "error": "\(error)"])
        }
    }

    /// Inserts the records a previous run spilled (skipping any that were committed after
    /// all), then removes the file. Runs at start, before any call.
    public static func replaySpill(_ path: String, into repository: UsageRepository, logger: Logger) async throws {
        let file = SpillFile(path: path)
        let records = try file.read()
        guard !records.isEmpty else { return }
        try await repository.insert(records, skippingExisting: true)
        try file.remove()
        logger.notice("replayed usage records spilled at the last shutdown", metadata: ["records": "\(records.count)", "file": "\(path)"])
    }

    /// Marks committed records whose callers gave up while the commit ran.
    private func correct(_ records: [UsageRecord]) async {
        do {
            try await repository.markWithheld(records.map(\.withheld))
        } catch {
            logger.error("could not mark records whose answers were withheld", metadata: ["records": "\(records.count)", "error": "\(error)"])
        }
    }

    /// Commits `records`, retrying with backoff: callers wait rather than lose a record. A batch
    /// that keeps failing is split, so one record the database can never accept (PostgreSQL
    /// refuses NUL) cannot hold the others; that record alone goes to the dead letters.
    /// Returns false only when the writer is cancelled (shutdown past its grace) first.
    private func commit(_ records: [UsageRecord]) async -> Bool {
        var delay = Duration.milliseconds(50)
        var failures = 0
        while !Task.isCancelled {
            do {
                try await repository.insert(records)
                return true
            } catch {
                failures += 1
                if failures >= Self.attemptsBeforeIsolating {
                    if records.count > 1 {
                        let middle = records.count / 2
                        guard await commit(Array(records[..<middle])) else { return false }
                        return await commit(Array(records[middle...]))
                    }
                    if await deadLetter(records[0], error: error) { return true }
                }
                logger.error(
                    "usage ledger commit failed; retrying",
                    metadata: ["records": "\(records.count)", "error": "\(error)", "retry_ms": "\(delay.wholeMilliseconds)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return false
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
