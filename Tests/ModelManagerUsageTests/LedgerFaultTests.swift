import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import Synchronization
import Testing

/// A real database whose writes fail while `down` is set, as a locked or unreachable one does.
final class OutageDatabase: SQLDatabase {
    let base: any SQLDatabase
    let down = Atomic<Bool>(false)

    struct Outage: Error {}

    init(_ base: any SQLDatabase) { self.base = base }

    var dialect: SQLDialect { base.dialect }

    func transact(_ statements: [SQLStatement]) async throws -> [[[SQLValue]]] {
        try await failWhileDown()
        return try await base.transact(statements)
    }

    func insert(_ inserts: [SQLInsert]) async throws {
        try await failWhileDown()
        try await base.insert(inserts)
    }

    private func failWhileDown() async throws {
        guard !down.load(ordering: .relaxed) else {
            try await Task.sleep(for: .milliseconds(20))
            throw Outage()
        }
    }

    func refusesRows(_ error: any Error) -> Bool { base.refusesRows(error) }
    func read(_ statement: SQLStatement) async throws -> [[SQLValue]] { try await base.read(statement) }
    func migrate(_ migrations: [Migration]) async throws { try await base.migrate(migrations) }
    func close() async { await base.close() }
}

@Suite struct LedgerFaultTests {
    static func repository() async throws -> (UsageRepository, OutageDatabase) {
        let base = try await Backend.sqlite.repository()
        let outage = OutageDatabase(base.database)
        return (UsageRepository(database: outage, sinks: base.sinks), outage)
    }

    @Test func aRecordNotCommittedByTheDeadlineWithholdsTheAnswerAndSaysSo() async throws {
        let (repository, database) = try await Self.repository()
        let ledger = UsageLedger(repository: repository, logger: Logger(label: "ledger-fault-tests"))
        let running = RunningParts([ledger])
        database.down.store(true, ordering: .relaxed)
        let committed = await ledger.record(record("late", at: Date()), deadline: .now + .milliseconds(300))
        #expect(!committed)
        #expect(ledger.withheld == 1)
        database.down.store(false, ordering: .relaxed)
        // The writer keeps retrying; once the database is back the record is written as withheld.
        var stored: UsageRecord?
        // It was in the writer's batch when its caller gave up: written, then corrected.
        for _ in 0..<200 where stored?.success != false {
            stored = try await repository.records(requestIDs: ["req-late"]).first
            if stored?.success != false { try await Task.sleep(for: .milliseconds(25)) }
        }
        let late = try #require(stored)
        #expect(!late.success)
        #expect(late.error?.contains("answer was withheld") == true)
        // An outage is waited out, never taken for a record the database refuses.
        #expect(try await repository.deadLetters().isEmpty)
        #expect(ledger.deadLetteredCount == 0)
        // A healthy ledger commits within the deadline as before.
        #expect(await ledger.record(record("on-time", at: Date()), deadline: .now + .seconds(5)))
        try await running.stop()
    }

    @Test func recordsStillPendingAtShutdownAreSpilledAndReplayedAtStart() async throws {
        let (repository, database) = try await Self.repository()
        let spill = FileManager.default.temporaryDirectory.appendingPathComponent("spill-\(UUID().uuidString).jsonl")
            .path
        let ledger = UsageLedger(
            repository: repository, mode: .buffered(capacity: 100), spillFile: spill, shutdownGrace: .milliseconds(300),
            logger: Logger(label: "ledger-fault-tests"))
        let running = RunningParts([ledger])
        // The ledger prepares the database before it commits: let it, then take the database down.
        try await ledger.ready.wait()
        database.down.store(true, ordering: .relaxed)
        for index in 0..<5 { await ledger.record(record("spilled\(index)", at: Date())) }
        let started = ContinuousClock.now
        try await running.stop()
        // The database never comes back here: a shutdown that waited for it would not end at all.
        // The bound only tells that from the grace (300 ms) on a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(30), "shutdown must not wait for a stalled database")
        #expect(FileManager.default.fileExists(atPath: spill))

        database.down.store(false, ordering: .relaxed)
        try await UsageLedger.replaySpill(spill, into: repository, logger: Logger(label: "ledger-fault-tests"))
        let replayed = try await repository.records(requestIDs: (0..<5).map { "req-spilled\($0)" })
        #expect(replayed.count == 5)
        #expect(replayed.allSatisfy { $0.success }, "buffered records were acknowledged: they keep their outcome")
        #expect(!FileManager.default.fileExists(atPath: spill))
        #expect(try await repository.backlog()["nats"] == 5, "their billing events ride the outbox as usual")
        // Replaying again (a crash after the insert, before the file was removed) adds nothing.
        let again = UsageLedger(
            repository: repository, mode: .buffered(capacity: 100), spillFile: spill,
            logger: Logger(label: "ledger-fault-tests"))
        try await RunningParts([again]).stop()
        #expect(try await repository.summary(UsageFilter()).calls == 5)
    }

    /// Records what it was given; refuses a model named "refused" for good, as a broker refuses an invalid subject.
    final class RecordingPublisher: BillingPublisher {
        let sink: String
        let published = Mutex<[String]>([])

        init(sink: String) { self.sink = sink }

        func publish(recordID: String, subject: String, payload: String) async throws {
            if subject.hasSuffix(".refused") { throw PublishError("invalid subject", permanent: true) }
            published.withLock { $0.append(recordID) }
        }

        func close() async {}
    }

    @Test(arguments: Backend.allCases)
    func twoRelaysOnOneDatabasePublishEachRowOnce(_ backend: Backend) async throws {
        let repository = try await backend.repository(sinks: ["mqtt"])
        try await repository.insert((0..<300).map { record("shared\($0)", at: Date()) })
        let publishers = [RecordingPublisher(sink: "mqtt"), RecordingPublisher(sink: "mqtt")]
        let relays = publishers.map {
            OutboxRelay(
                repository: repository, publishers: [$0], logger: Logger(label: "relay-tests"),
                pollInterval: .milliseconds(20))
        }
        let running = RunningParts(relays)
        for _ in 0..<250 where try await repository.backlog()["mqtt", default: 0] > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await running.stop()
        let all = publishers.flatMap { $0.published.withLock { $0 } }
        #expect(all.count == 300, "each row once: MQTT subscribers have no broker-side de-duplication")
        #expect(Set(all).count == 300)
    }

    @Test func theRelayDeletesPublishedRowsPastRetention() async throws {
        let repository = try await Backend.sqlite.repository(sinks: ["nats"])
        try await repository.insert((0..<3).map { record("kept\($0)", at: Date()) })
        let publisher = RecordingPublisher(sink: "nats")
        let relay = OutboxRelay(
            repository: repository, publishers: [publisher], retention: .zero, logger: Logger(label: "relay-tests"),
            pollInterval: .milliseconds(20), pruneInterval: .milliseconds(20))
        let running = RunningParts([relay])
        var left = -1
        for _ in 0..<250 where left != 0 {
            try await Task.sleep(for: .milliseconds(20))
            left = try await repository.database.read(SQLStatement("SELECT record_id FROM outbox")).count
        }
        try await running.stop()
        #expect(Set(publisher.published.withLock { $0 }) == ["kept0", "kept1", "kept2"], "published first")
        #expect(left == 0, "then deleted: a retention of zero keeps nothing published")
    }

    @Test(arguments: Backend.allCases)
    func aRowTheBrokerRefusesForGoodIsSetAsideWithoutHoldingTheOthers(_ backend: Backend) async throws {
        let repository = try await backend.repository(sinks: ["nats"])
        try await repository.insert([
            record("before", at: Date()), record("refused", model: "refused", at: Date()), record("after", at: Date()),
        ])
        let publisher = RecordingPublisher(sink: "nats")
        let relay = OutboxRelay(
            repository: repository, publishers: [publisher], logger: Logger(label: "relay-tests"),
            pollInterval: .milliseconds(20))
        let running = RunningParts([relay])
        for _ in 0..<250 where try await repository.backlog()["nats", default: 0] > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await running.stop()
        #expect(Set(publisher.published.withLock { $0 }) == ["before", "after"])
        let setAside = try await repository.failedOutboxRows(sink: "nats")
        #expect(setAside.map(\.row.recordID) == ["refused"])
        #expect(setAside.first?.row.attempts == OutboxRelay.permanentFailuresBeforeSettingAside)
        #expect(setAside.first?.error.contains("invalid subject") == true)
    }
}
