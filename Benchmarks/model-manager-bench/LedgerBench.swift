import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import ServiceLifecycle

/// Ledger throughput with group commit: many callers each waiting for their record's commit
/// (durable mode), on SQLite and, when given a URL, on PostgreSQL. Prints records/s and the
/// latency the commit adds to a call.
enum LedgerBench {
    static func run(postgresURL: String?) async throws {
        var logger = Logger(label: "ledger-bench")
        logger.logLevel = .error
        print("usage ledger, durable mode (each caller waits for its commit), group commit with two batches in flight")
        print("database    callers   records     records/s   added p50 ms   added p99 ms")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ledger-bench-\(UUID().uuidString).sqlite"
        ).path
        for callers in [1, 16, 64, 256] {
            try await measure("sqlite", callers: callers, database: try SQLiteDatabase(path: path), logger: logger)
        }
        if let postgresURL {
            for callers in [1, 16, 64, 256] {
                try await measure(
                    "postgresql", callers: callers, database: try PostgresDatabase(url: postgresURL, logger: logger),
                    logger: logger)
            }
        } else {
            print("(postgresql skipped: pass --postgres postgres://user@host:port/db)")
        }
    }

    static func measure(_ name: String, callers: Int, database: any SQLDatabase, logger: Logger) async throws {
        let repository = UsageRepository(database: database, sinks: ["nats"])
        let ledger = UsageLedger(repository: repository, logger: logger)
        let perCaller = callers == 1 ? 1000 : 20000 / callers
        let (started, latencies) = try await withRunningServices(
            database.services + [ledger], logger: logger
        ) {
            try await ledger.ready.wait()
            // One record per caller first: connections opened and pages cached before the clock starts.
            _ = await measureCalls(callers: callers, perCaller: 1, ledger: ledger)
            return (ContinuousClock.now, await measureCalls(callers: callers, perCaller: perCaller, ledger: ledger))
        }
        let seconds = (ContinuousClock.now - started).milliseconds / 1000
        await database.close()
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        print(
            name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(
                    format: "  %7d  %8d  %12.0f  %13.2f  %13.2f", callers, latencies.count,
                    Double(latencies.count) / seconds, p50, p99))
    }

    /// Each caller records `perCaller` records one after another; the sorted latencies in ms.
    static func measureCalls(callers: Int, perCaller: Int, ledger: UsageLedger) async -> [Double] {
        await withTaskGroup(of: [Double].self) { group in
            for _ in 0..<callers {
                group.addTask {
                    var mine: [Double] = []
                    for _ in 0..<perCaller {
                        let record = UsageRecord(
                            requestID: UUID().uuidString, orgID: "bench", userID: "bench", clientType: "bench",
                            provider: "openai", channel: "openai",
                            invokeType: "chat-completions", model: "gpt-4o-mini",
                            usage: Usage(promptTokens: 12, completionTokens: 34), cost: 0.00002,
                            latencyMilliseconds: 5, stream: false, success: true)
                        let start = ContinuousClock.now
                        await ledger.record(record)
                        mine.append((ContinuousClock.now - start).milliseconds)
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for await part in group { all += part }
            return all.sorted()
        }
    }
}
