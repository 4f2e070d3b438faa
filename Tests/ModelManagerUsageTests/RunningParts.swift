import Logging
import ModelManagerUsage
import ServiceLifecycle

/// Parts (a ledger, relays, a PostgreSQL pool) running in one ServiceGroup, as the server runs
/// them, until `stop()` shuts the group down gracefully in reverse order and waits for it.
final class RunningParts: Sendable {
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    init(_ services: [any Service]) {
        let group = ServiceGroup(configuration: .init(services: services, logger: Logger(label: "ledger-tests")))
        self.group = group
        running = Task { try await group.run() }
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// A PostgreSQL database whose connection pool runs from creation until `close()` (the server runs
/// the pool in its ServiceGroup instead).
final class StandalonePostgres: SQLDatabase {
    private let base: PostgresDatabase
    private let pool: RunningParts

    init(url: String) throws {
        base = try PostgresDatabase(url: url, logger: Logger(label: "ledger-tests"))
        pool = RunningParts([base])
    }

    var dialect: SQLDialect { base.dialect }
    func transact(_ statements: [SQLStatement]) async throws -> [[[SQLValue]]] {
        try await base.transact(statements)
    }
    func insert(_ inserts: [SQLInsert]) async throws { try await base.insert(inserts) }
    func refusesRows(_ error: any Error) -> Bool { base.refusesRows(error) }
    func read(_ statement: SQLStatement) async throws -> [[SQLValue]] { try await base.read(statement) }
    func migrate(_ migrations: [Migration]) async throws { try await base.migrate(migrations) }
    func close() async { try? await pool.stop() }
}
