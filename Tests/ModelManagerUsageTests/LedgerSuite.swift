import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import Testing

/// The ledger, run the same way against SQLite and PostgreSQL.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// A fresh, migrated, empty repository. PostgreSQL comes from MM_TEST_POSTGRES_URL, set by
    /// scripts/test.sh (which starts the server); each call gets a database of its own.
    func repository(sinks: [String] = ["nats"]) async throws -> UsageRepository {
        let database: any SQLDatabase
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "ledger-\(UUID().uuidString).sqlite"
            ).path
            database = try SQLiteDatabase(path: path)
        case .postgres:
            let url = try #require(
                ProcessInfo.processInfo.environment["MM_TEST_POSTGRES_URL"],
                "MM_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL")
            let name = "ledger_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try StandalonePostgres(url: url)
            try await admin.write([SQLStatement("SELECT 1")])
            _ = try await admin.read(SQLStatement("SELECT 1"))
            try await Self.createDatabase(name, admin: admin)
            await admin.close()
            let base = url[..<url.lastIndex(of: "/")!]
            database = try StandalonePostgres(url: "\(base)/\(name)")
        }
        let repository = UsageRepository(database: database, sinks: sinks)
        try await repository.migrate()
        return repository
    }

    /// CREATE DATABASE cannot run inside a transaction, so it goes through a plain read.
    static func createDatabase(_ name: String, admin: any SQLDatabase) async throws {
        _ = try await admin.read(SQLStatement("CREATE DATABASE \(name)"))
    }
}

func record(
    _ id: String, user: String = "u1", org: String = "o1", model: String = "gpt-4o-mini", prompt: Int = 10,
    completion: Int = 5,
    cached: Int = 0, reasoning: Int = 0, cost: Double? = 0.001, success: Bool = true, at date: Date
) -> UsageRecord {
    UsageRecord(
        id: id, requestID: "req-\(id)", orgID: org, userID: user, clientType: "tests", provider: "openai",
        channel: "openai",
        invokeType: "chat-completions", model: model,
        usage: Usage(
            promptTokens: prompt, completionTokens: completion, cachedTokens: cached, reasoningTokens: reasoning),
        cost: cost, latencyMilliseconds: 12, timeToFirstTokenMilliseconds: 3, stream: false, success: success,
        error: success ? nil : "unavailable: upstream down", metadata: ["x-user-ip": "10.0.0.1"], createdAt: date)
}

func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

@Suite struct LedgerSuite {
    @Test(arguments: Backend.allCases)
    func recordsRoundTripWithTheirOutboxRows(_ backend: Backend) async throws {
        let repository = try await backend.repository(sinks: ["nats", "mqtt"])
        let original = record("a", cached: 2, reasoning: 1, at: date("2026-03-01T10:15:00Z"))
        try await repository.insert([original, record("b", cost: nil, at: date("2026-03-01T10:16:00Z"))])
        let stored = try await repository.records(requestIDs: ["req-a", "req-b"]).sorted { $0.id < $1.id }
        #expect(stored.count == 2)
        #expect(stored[0] == original)
        #expect(stored[1].cost == nil)
        #expect(try await repository.backlog() == ["nats": 2, "mqtt": 2])
        let pending = try await repository.pending(sink: "nats", limit: 10)
        #expect(pending.map(\.recordID) == ["a", "b"])
        #expect(pending[0].subject == "billing.usage.recorded.gpt-4o-mini")
        let event = try JSONValue(parsing: pending[0].payload)
        #expect(event["user_id"] == "u1")
        #expect(event["product_id"] == "gpt-4o-mini")
        #expect(event["usage_amount"] == .integer(15))
        #expect(event["unit_type"] == "token")
        #expect(event["record_id"] == "a")
        try await repository.markSent(sink: "nats", recordIDs: ["a"])
        #expect(try await repository.pending(sink: "nats", limit: 10).map(\.recordID) == ["b"])
        #expect(try await repository.backlog() == ["nats": 1, "mqtt": 2])
        // A duplicate id is refused whole: nothing half-written.
        await #expect(throws: (any Error).self) {
            try await repository.insert([record("c", at: Date()), record("a", at: Date())])
        }
        #expect(try await repository.records(requestIDs: ["req-c"]).isEmpty)
        // Migrating again is a no-op.
        try await repository.migrate()
    }

    /// A spill file replayed at start can hold more rows than one PostgreSQL statement can bind
    /// (65,535): written whole all the same, and a second replay adds only what is new.
    @Test(arguments: Backend.allCases)
    func aBatchPastOneStatementsBindLimitIsWrittenWhole(_ backend: Backend) async throws {
        let repository = try await backend.repository(sinks: ["nats", "mqtt"])
        let start = Date()
        let records = (0..<3000).map { record("bulk-\($0)", at: start.addingTimeInterval(Double($0) / 1000)) }
        try await repository.insert(records)
        try await repository.insert(records + [record("bulk-new", at: start)], skippingExisting: true)
        #expect(try await repository.summary(UsageFilter()).calls == 3001)
        #expect(try await repository.backlog() == ["nats": 3001, "mqtt": 3001])
    }

    /// Ids are UUIDv7: valid UUIDs, version 7, and later records sort after earlier ones, which
    /// keeps a commit's index writes together.
    @Test func recordIDsAreTimeOrderedUUIDv7() throws {
        let earlier = RecordID.make(at: date("2026-03-01T10:15:00Z"))
        let later = RecordID.make(at: date("2026-03-01T10:15:00.001Z"))
        for id in [earlier, later] {
            let uuid = try #require(UUID(uuidString: id))
            #expect(uuid.uuidString.lowercased() == id)
            #expect(Array(id)[14] == "7")
            #expect("89ab".contains(Array(id)[19]))
        }
        #expect(earlier < later)
        #expect(earlier.prefix(13) == "019ca8e4-e8a0")
        #expect(Set((0..<1000).map { _ in RecordID.make() }).count == 1000)
    }

    @Test(arguments: Backend.allCases)
    func summariesBreakdownsAndFilters(_ backend: Backend) async throws {
        let repository = try await backend.repository()
        try await repository.insert([
            record(
                "1", user: "alice", org: "acme", model: "gpt-4o", prompt: 100, completion: 50, cached: 20, reasoning: 5,
                cost: 0.5, at: date("2026-03-01T00:00:00Z")),
            record(
                "2", user: "alice", org: "acme", model: "gpt-4o-mini", prompt: 10, completion: 5, cost: 0.01,
                at: date("2026-03-01T23:59:59Z")),
            record(
                "3", user: "bob", org: "beta", model: "claude-sonnet-4-5", prompt: 40, completion: 60, cost: nil,
                success: false, at: date("2026-03-02T00:00:00Z")),
            record(
                "4", user: "bob", org: "acme", model: "gpt-4o", prompt: 1, completion: 1, cost: 0.25,
                at: date("2026-04-01T00:00:00Z")),
        ])
        let all = try await repository.summary(UsageFilter())
        #expect(all.promptTokens == 151)
        #expect(all.completionTokens == 116)
        #expect(all.totalTokens == 267)
        #expect(all.cachedTokens == 20)
        #expect(all.reasoningTokens == 5)
        #expect(abs(all.cost - 0.76) < 1e-9)
        #expect(all.calls == 4)
        #expect(all.successfulCalls == 3)
        #expect(all.failedCalls == 1)

        let alice = try await repository.summary(UsageFilter(userID: "alice"))
        #expect(alice.calls == 2 && alice.totalTokens == 165)
        let march1 = try await repository.summary(
            UsageFilter(start: date("2026-03-01T00:00:00Z"), end: date("2026-03-01T23:59:59Z")))
        #expect(march1.calls == 2)
        let acme = try await repository.summary(UsageFilter(orgID: "acme"))
        #expect(acme.calls == 3)

        let byModel = try await repository.breakdown(by: .model, UsageFilter())
        #expect(byModel.map(\.key) == ["gpt-4o", "claude-sonnet-4-5", "gpt-4o-mini"])
        #expect(byModel[0].totals.totalTokens == 152)
        let byUser = try await repository.breakdown(by: .user, UsageFilter())
        #expect(Set(byUser.map(\.key)) == ["alice", "bob"])
        let byOrg = try await repository.breakdown(by: .org, UsageFilter())
        #expect(byOrg.first?.key == "acme")
    }

    @Test(arguments: Backend.allCases)
    func seriesBucketsAtHourDayAndMonthBoundaries(_ backend: Backend) async throws {
        let repository = try await backend.repository()
        try await repository.insert([
            record("h1", at: date("2026-02-28T22:59:59Z")),
            record("h2", at: date("2026-02-28T23:00:00Z")),
            record("h3", at: date("2026-02-28T23:59:59Z")),
            record("d1", at: date("2026-03-01T00:00:00Z")),
            record("m1", at: date("2026-12-31T23:59:59Z")),
        ])
        let hourly = try await repository.series(.day, UsageFilter(end: date("2026-03-01T00:00:00Z")))
        #expect(hourly.map(\.key) == ["2026-02-28T22:00:00Z", "2026-02-28T23:00:00Z", "2026-03-01T00:00:00Z"])
        #expect(hourly.map(\.totals.calls) == [1, 2, 1])
        let daily = try await repository.series(.month, UsageFilter())
        #expect(daily.map(\.key) == ["2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z", "2026-12-31T00:00:00Z"])
        #expect(daily.map(\.totals.calls) == [3, 1, 1])
        let monthly = try await repository.series(.year, UsageFilter())
        #expect(monthly.map(\.key) == ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-12-01T00:00:00Z"])
        #expect(monthly.map(\.totals.totalTokens) == [45, 15, 15])
        #expect(throws: ModelManagerError.self) { try Granularity(parsing: "week") }
    }

    @Test(arguments: Backend.allCases)
    func listingIsNewestFirstWithPaginationEdgesAndFilters(_ backend: Backend) async throws {
        let repository = try await backend.repository()
        let base = date("2026-05-01T00:00:00Z")
        var records: [UsageRecord] = []
        for index in 0..<7 {
            let user = index % 2 == 0 ? "even" : "odd"
            let model = index < 3 ? "gpt-4o-mini" : "gemini-2.0-flash"
            records.append(
                record(
                    "r\(index)", user: user, model: model, success: index != 6,
                    at: base.addingTimeInterval(Double(index) * 60)))
        }
        try await repository.insert(records)
        let first = try await repository.list(UsageFilter(), page: 1, pageSize: 3)
        #expect(first.total == 7)
        #expect(first.records.map(\.id) == ["r6", "r5", "r4"])
        let last = try await repository.list(UsageFilter(), page: 3, pageSize: 3)
        #expect(last.records.map(\.id) == ["r0"])
        let beyond = try await repository.list(UsageFilter(), page: 4, pageSize: 3)
        #expect(beyond.records.isEmpty && beyond.total == 7)
        let exact = try await repository.list(UsageFilter(), page: 1, pageSize: 7)
        #expect(exact.records.count == 7)
        #expect(try await repository.list(UsageFilter(model: "GEMINI"), page: 1, pageSize: 10).total == 4)
        #expect(try await repository.list(UsageFilter(userID: "odd"), page: 1, pageSize: 10).total == 3)
        #expect(
            try await repository.list(UsageFilter(success: false), page: 1, pageSize: 10).records.map(\.id) == ["r6"])
        let window = UsageFilter(start: base.addingTimeInterval(60), end: base.addingTimeInterval(180))
        #expect(try await repository.list(window, page: 1, pageSize: 10).records.map(\.id) == ["r3", "r2", "r1"])
    }

    @Test(arguments: Backend.allCases)
    func publishedOutboxRowsPastRetentionArePrunedAndOwedOnesKept(_ backend: Backend) async throws {
        let repository = try await backend.repository(sinks: ["nats"])
        try await repository.insert((0..<5).map { record("p\($0)", at: Date()) })
        try await repository.markSent(sink: "nats", recordIDs: ["p0", "p1", "p2"])
        try await repository.markFailed(
            sink: "nats", recordID: "p3", error: "refused", permanent: true, setAsideAfter: 1)
        // Nothing was published an hour ago.
        #expect(try await repository.pruneSentOutbox(before: Date().addingTimeInterval(-3600), limit: 10) == 0)
        let later = Date().addingTimeInterval(60)
        #expect(try await repository.pruneSentOutbox(before: later, limit: 2) == 2)
        #expect(try await repository.pruneSentOutbox(before: later, limit: 2) == 1)
        #expect(try await repository.pruneSentOutbox(before: later, limit: 2) == 0)
        // What is still owed stays: the pending row and the one set aside.
        #expect(try await repository.backlog()["nats"] == 1)
        #expect(try await repository.failedOutboxRows(sink: "nats").map(\.row.recordID) == ["p3"])
    }

    @Test(arguments: Backend.allCases)
    func groupCommitCommitsEveryConcurrentRecord(_ backend: Backend) async throws {
        let repository = try await backend.repository()
        let ledger = UsageLedger(repository: repository, logger: Logger(label: "ledger-tests"))
        let running = RunningParts([ledger])
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask { await ledger.record(record("g\(index)", at: Date())) }
            }
        }
        // Durable mode: every record call above returned only after its commit.
        #expect(try await repository.summary(UsageFilter()).calls == 400)
        #expect(ledger.committed == 400)
        try await running.stop()
        await repository.database.close()
    }

    @Test(arguments: Backend.allCases)
    func aRecordTheDatabaseRefusesIsDeadLetteredWithoutHoldingTheOthers(_ backend: Backend) async throws {
        let repository = try await backend.repository()
        let ledger = UsageLedger(repository: repository, logger: Logger(label: "ledger-tests"))
        let running = RunningParts([ledger])
        // PostgreSQL refuses NUL in text: this record can never be inserted there.
        let poisoned = record("poison", org: "o\u{0}1", at: Date())
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await ledger.record(poisoned) }
            for index in 0..<20 { group.addTask { await ledger.record(record("ok\(index)", at: Date())) } }
        }
        await ledger.record(record("after", at: Date()))
        let expected = backend == .postgres ? 21 : 22
        #expect(try await repository.summary(UsageFilter()).calls == Int64(expected))
        let dead = try await repository.deadLetters()
        if backend == .postgres {
            #expect(dead.map(\.recordID) == ["poison"])
            #expect(dead.first?.payload["org_id"] == .string("o\u{0}1"))
            #expect(ledger.deadLetteredCount == 1)
        } else {
            #expect(dead.isEmpty)
        }
        try await running.stop()
        await repository.database.close()
    }

    /// A refusal SQLite reports too (a primary key already there): the one record goes to the
    /// dead letters at once, the records batched with it commit.
    @Test(arguments: Backend.allCases)
    func aDuplicateRecordIsDeadLetteredWithoutHoldingTheOthers(_ backend: Backend) async throws {
        let repository = try await backend.repository()
        try await repository.insert([record("taken", at: Date())])
        let ledger = UsageLedger(repository: repository, logger: Logger(label: "ledger-tests"))
        let running = RunningParts([ledger])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await ledger.record(record("taken", at: Date())) }
            for index in 0..<10 { group.addTask { await ledger.record(record("fine\(index)", at: Date())) } }
        }
        #expect(try await repository.summary(UsageFilter()).calls == 11)
        #expect(try await repository.deadLetters().map(\.recordID) == ["taken"])
        #expect(ledger.deadLetteredCount == 1)
        try await running.stop()
        await repository.database.close()
    }

    @Test(arguments: Backend.allCases)
    func bufferedModeFlushesOnShutdown(_ backend: Backend) async throws {
        let repository = try await backend.repository()
        let ledger = UsageLedger(
            repository: repository, mode: .buffered(capacity: 1000), logger: Logger(label: "ledger-tests"))
        let running = RunningParts([ledger])
        for index in 0..<250 { await ledger.record(record("b\(index)", at: Date())) }
        try await running.stop()
        #expect(try await repository.summary(UsageFilter()).calls == 250)
        await repository.database.close()
    }
}

@Suite struct PricingAndRelayTests {
    @Test func costsFromThePriceTable() {
        let prices = PriceTable(logger: Logger(label: "prices"))
        // gpt-4o-mini: 0.15 in, 0.075 cached in, 0.60 out per 1M.
        let cost = prices.cost(
            of: Usage(promptTokens: 1_000_000, completionTokens: 1_000_000, cachedTokens: 400_000),
            model: "gpt-4o-mini-2024-07-18")
        #expect(cost.map { abs($0 - (0.6 * 0.15 + 0.4 * 0.075 + 0.60)) < 1e-9 } == true)
        #expect(prices.cost(of: Usage(promptTokens: 0, completionTokens: 0, imageCount: 3), model: "dall-e-3") == 0.12)
        #expect(prices.cost(of: Usage(promptTokens: 10, completionTokens: 10), model: "no-such-model") == nil)
    }

    @Test func aDatedSnapshotOrLatestTakesItsModelsPriceNeverAnotherModels() {
        let gpt4o = PriceTable.Price(input: 2.5, output: 10)
        let mini = PriceTable.Price(input: 0.15, output: 0.6)
        let prices = PriceTable(prices: ["gpt-4o": gpt4o, "gpt-4o-mini": mini], logger: Logger(label: "prices"))
        #expect(prices.price(of: "gpt-4o-mini-2024-07-18") == mini)
        #expect(prices.price(of: "gpt-4o-2024-08-06") == gpt4o)
        #expect(prices.price(of: "gpt-4o-mini-latest") == mini)
        #expect(prices.price(of: "gpt-4o-mini-audio-2024-12-17") == nil, "another model, not a snapshot")
        #expect(prices.price(of: "gpt-4o-x-latest") == nil)
        #expect(prices.price(of: "gpt-4o-") == gpt4o, "an empty date is still no other model")
        #expect(prices.price(of: "-") == nil)
    }

    @Test func priceFileOverridesAndExtendsTheDefaults() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("prices-\(UUID().uuidString).json")
            .path
        try
            #"{"currency": "EUR", "models": {"house-model": {"input": 1, "output": 2}, "gpt-4o-mini": {"input": 10, "output": 20}}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let prices = try PriceTable.load(file: path, logger: Logger(label: "prices"))
        #expect(prices.currency == "EUR")
        #expect(prices.cost(of: Usage(promptTokens: 1_000_000, completionTokens: 0), model: "house-model") == 1)
        #expect(prices.cost(of: Usage(promptTokens: 0, completionTokens: 1_000_000), model: "gpt-4o-mini") == 20)
        #expect(prices.price(of: "gemini-2.5-pro") != nil)
    }

    @Test func relayBackoffDoublesToItsCapAndResets() {
        var backoff = RelayBackoff(initial: .milliseconds(100), maximum: .milliseconds(700))
        #expect(
            [backoff.failed(), backoff.failed(), backoff.failed(), backoff.failed(), backoff.failed()]
                == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(700), .milliseconds(700)])
        backoff.succeeded()
        #expect(backoff.failed() == .milliseconds(100))
    }

    @Test func billingEventsUseTheRequestUnitWhenNoTokensWereCounted() throws {
        var failed = record("f", prompt: 0, completion: 0, cost: nil, success: false, at: Date())
        failed.model = "imagen.3*x"
        #expect(failed.billingEvent["unit_type"] == "request")
        #expect(failed.billingEvent["usage_amount"] == .integer(1))
        #expect(failed.billingSubject == "billing.usage.recorded.imagen_3_x")
    }
}
