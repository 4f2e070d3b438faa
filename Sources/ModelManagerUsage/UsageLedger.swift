public import CoreMetrics
public import Logging
import ModelManagerCore
public import ServiceLifecycle
import Synchronization

/// Writes usage records through one writer that commits them in batches (group commit), off
/// the request path. In durable mode a caller's `record` returns only once its record is
/// committed, so a record is never acknowledged and then lost. In buffered mode `record`
/// returns at once while the buffer has room (records not yet committed are lost if the
/// process dies; a graceful shutdown commits or spills them).
///
/// The writer is a Service: `run` prepares the database, opens `ready`, and commits until the
/// group shuts down.
public final class UsageLedger: Service, Sendable {
    public enum Mode: Sendable, Hashable {
        case durable
        case buffered(capacity: Int)
    }

    /// A record and, when its caller waits for the commit, that caller.
    private typealias Entry = (encoded: UsageRepository.EncodedRecord, waiter: CommitWaiter?)

    private struct Pending {
        var entries: [Entry] = []
        /// The batches being committed now, by number.
        var inFlight: [Int: [Entry]] = [:]
        var nextBatch = 0
        /// Shutdown began: a record that arrives now goes to the spill file.
        var stopped = false

        var inFlightEntries: [Entry] { inFlight.values.flatMap { $0 } }
    }

    public let repository: UsageRepository
    public let mode: Mode
    /// Where records still uncommitted at shutdown are written, to be replayed at the next start.
    public let spillFile: String?
    /// How long a caller with no deadline waits for its record's commit.
    public let maximumCommitWait: Duration
    /// How long records pending at graceful shutdown get to commit before they are spilled.
    public let shutdownGrace: Duration
    /// Batches committed at once: while one commits (and syncs), the next is already on its way,
    /// so a commit's latency no longer caps records per second at one batch per commit.
    public let concurrentCommits: Int
    /// Opens once the database is migrated and the last run's spill file replayed.
    public let ready: Milestone
    private let pending = Mutex(Pending())
    /// Wakes the writers when records arrive; closed at shutdown.
    private let arrivals = Signal()
    private let committedCount = Atomic<Int>(0)
    private let deadLettered = Atomic<Int>(0)
    private let withheldCount = Atomic<Int>(0)
    private let logger: Logger
    /// Called after each commit (the outbox relay listens, to publish at once).
    private let onCommit: @Sendable () -> Void
    private let commitTimer: CoreMetrics.Timer?
    static let maximumBatch = 1000
    /// A withheld answer is reported this long before the call's deadline, so that the caller
    /// hears why rather than a bare DEADLINE_EXCEEDED.
    static let deadlineMargin: Duration = .milliseconds(50)

    public init(
        repository: UsageRepository, mode: Mode = .durable, spillFile: String? = nil,
        maximumCommitWait: Duration = .seconds(30),
        shutdownGrace: Duration = .seconds(5), concurrentCommits: Int = 2, ready: Milestone = Milestone(),
        commitTimer: CoreMetrics.Timer? = nil, logger: Logger, onCommit: @escaping @Sendable () -> Void = {}
    ) {
        self.commitTimer = commitTimer
        self.concurrentCommits = max(1, concurrentCommits)
        self.ready = ready
        self.repository = repository
        self.mode = mode
        self.spillFile = spillFile
        self.maximumCommitWait = maximumCommitWait
        self.shutdownGrace = shutdownGrace
        self.logger = logger
        self.onCommit = onCommit
    }

    /// Migrates the database and replays the spill file (a failure ends start-up with its
    /// error), opens `ready`, then commits until graceful shutdown. Records pending then get
    /// `shutdownGrace`; what is still uncommitted after it, or when the group is cancelled,
    /// goes to the spill file and its waiting callers are told.
    public func run() async throws {
        try await repository.migrate()
        if let spillFile { try await Self.replaySpill(spillFile, into: repository, logger: logger) }
        ready.open()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { writers in
                    for _ in 0..<self.concurrentCommits { writers.addTask { await self.runWriter() } }
                }
            }
            group.addTask { await self.watchDeadlines() }
            group.addTask {
                guard (try? await gracefulShutdown()) != nil else { return }
                self.stopTaking()
                try? await Task.sleep(for: self.shutdownGrace)
            }
            // The writer drained what was pending, or the grace ran out, or the group was cancelled.
            await group.next()
            group.cancelAll()
        }
        stopTaking()
        spill(
            pending.withLock { state -> [Entry] in
                defer {
                    state.entries = []
                    state.inFlight = [:]
                }
                return state.inFlightEntries + state.entries
            })
    }

    private func stopTaking() {
        pending.withLock { $0.stopped = true }
        arrivals.close()
    }

    /// One of the `concurrentCommits` writers: takes whatever is pending, up to a batch, and
    /// commits it; after `stopTaking`, commits what is left and returns. Returns early, leaving
    /// its batch in flight, when cancelled.
    private func runWriter() async {
        while !Task.isCancelled {
            let (number, batch, stopped) = pending.withLock { state -> (Int, [Entry], Bool) in
                let count = min(state.entries.count, Self.maximumBatch)
                guard count > 0 else { return (0, [], state.stopped) }
                let batch = Array(state.entries.prefix(count))
                state.entries.removeFirst(count)
                state.nextBatch += 1
                state.inFlight[state.nextBatch] = batch
                return (state.nextBatch, batch, state.stopped)
            }
            guard !batch.isEmpty else {
                if stopped { return }
                await arrivals.wait()
                continue
            }
            let records = batch.map { entry in
                entry.waiter?.takeForCommit() == true ? repository.encode(entry.encoded.record.withheld) : entry.encoded
            }
            let began = ContinuousClock.now
            guard await commit(records) else { return }
            commitTimer?.recordInterval(since: began)
            pending.withLock { $0.inFlight[number] = nil }
            committedCount.add(batch.count, ordering: .relaxed)
            let late = batch.filter { $0.waiter?.committed() == true }.map(\.encoded.record)
            if !late.isEmpty { await correct(late) }
            onCommit()
        }
    }

    /// Records `record`. In durable mode, returns once it is committed (true), or false when
    /// `deadline` (less a small margin) came first: the caller must then withhold the answer,
    /// and the record, when it is written, says so.
    @discardableResult
    public func record(_ record: UsageRecord, deadline: ContinuousClock.Instant? = nil) async -> Bool {
        let encoded = repository.encode(record)
        if case .buffered(let capacity) = mode {
            let admission = pending.withLock { state -> Admission in
                guard !state.stopped else { return .stopped }
                guard state.entries.count < capacity else { return .full }
                state.entries.append((encoded, nil))
                return .accepted
            }
            switch admission {
            case .accepted:
                arrivals.fire()
                return true
            case .stopped:
                // Acknowledged as buffered records are: the spill file carries it to the next start.
                spill([(encoded, nil)])
                return true
            case .full:
                // The buffer is bounded: past it, the caller waits like a durable one.
                break
            }
        }
        let waiter = CommitWaiter(deadline: (deadline ?? .now + maximumCommitWait) - Self.deadlineMargin)
        let committed = await withUnsafeContinuation { continuation in
            waiter.wait(with: continuation)
            let accepted = pending.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.entries.append((encoded, waiter))
                return true
            }
            if accepted { arrivals.fire() } else { spill([(encoded, waiter)]) }
        }
        if !committed { withheldCount.add(1, ordering: .relaxed) }
        return committed
    }

    private enum Admission {
        case accepted, full, stopped
    }

    /// One task for the whole ledger (no timer per call): every 20 ms it tells the callers whose
    /// deadline has come that their record was not committed in time.
    private func watchDeadlines() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
            let now = ContinuousClock.now
            let expired = pending.withLock { state in
                (state.entries + state.inFlightEntries).compactMap { entry in
                    entry.waiter.flatMap { $0.deadline <= now ? $0 : nil }
                }
            }
            expired.forEach { $0.giveUp() }
        }
    }

    /// Records waiting for a writer.
    public var pendingCount: Int { pending.withLock { $0.entries.count } }

    /// Records committed since start.
    public var committed: Int { committedCount.load(ordering: .relaxed) }
    /// Answers withheld because their record was not committed in time.
    public var withheld: Int { withheldCount.load(ordering: .relaxed) }

    /// Writes `entries` to the spill file; their waiting callers are told the record was not
    /// committed (so they withhold the answer), and the spilled record says so.
    private func spill(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        let records = entries.map { entry -> UsageRecord in
            guard let waiter = entry.waiter else { return entry.encoded.record }
            waiter.giveUp()
            return entry.encoded.record.withheld
        }
        guard let spillFile else {
            logger.critical(
                "usage records lost at shutdown: the ledger took no write and no spill file is set",
                metadata: ["records": "\(records.count)"])
            return
        }
        do {
            try SpillFile(path: spillFile).append(records)
            logger.warning(
                "usage records spilled at shutdown; they are replayed at the next start",
                metadata: ["records": "\(records.count)", "file": "\(spillFile)"])
        } catch {
            logger.critical(
                "usage records lost at shutdown: the spill file could not be written",
                metadata: ["records": "\(records.count)", "file": "\(spillFile)", "error": "\(error)"])
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
        logger.notice(
            "replayed usage records spilled at the last shutdown",
            metadata: ["records": "\(records.count)", "file": "\(path)"])
    }

    /// Marks committed records whose callers gave up while the commit ran.
    private func correct(_ records: [UsageRecord]) async {
        do {
            try await repository.markWithheld(records.map(\.withheld))
        } catch {
            logger.error(
                "could not mark records whose answers were withheld",
                metadata: ["records": "\(records.count)", "error": "\(error)"])
        }
    }

    /// Commits `records`, retrying an outage with backoff: callers wait rather than lose a record.
    /// A batch the database refuses for what it holds (PostgreSQL refuses NUL) is split at once,
    /// so that one record cannot hold the others; that record alone goes to the dead letters.
    /// Returns false only when the writer is cancelled (shutdown past its grace) first.
    private func commit(_ records: [UsageRepository.EncodedRecord]) async -> Bool {
        var delay = Duration.milliseconds(50)
        while !Task.isCancelled {
            do {
                try await repository.insert(records)
                return true
            } catch  where Task.isCancelled {
                // Shutdown past its grace: the batch is spilled, not retried.
                return false
            } catch {
                if repository.database.refusesRows(error) {
                    if records.count > 1 {
                        let middle = records.count / 2
                        guard await commit(Array(records[..<middle])) else { return false }
                        return await commit(Array(records[middle...]))
                    }
                    if await deadLetter(records[0].record, error: error) { return true }
                }
                logger.error(
                    "usage ledger commit failed; retrying",
                    metadata: [
                        "records": "\(records.count)", "error": "\(error)", "retry_ms": "\(delay.wholeMilliseconds)",
                    ])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return false
    }

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

extension CoreMetrics.Timer {
    /// Records the time from `start` until now.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
