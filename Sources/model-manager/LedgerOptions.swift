import ArgumentParser
import Foundation
import Logging
import ModelManagerCore
import ModelManagerServer
import ModelManagerUsage
import ServiceLifecycle

/// The ledger database a command works on: the configuration file's, or `--database`.
struct LedgerOptions: ParsableArguments {
    @Option(help: "JSON configuration file (for its usage.database and auth settings).")
    var config: String?
    @Option(help: "Ledger: a SQLite path or postgres://… (default: the server's).")
    var database: String?

    func configuration() throws -> ServerConfiguration {
        var configuration = try ServerConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
        if let database { try configuration.setDatabase(database) }
        return configuration
    }

    /// Runs `body` with the ledger's repository (migrated), its database running for that long.
    func withRepository<Value>(
        configuration: ServerConfiguration, _ body: (UsageRepository) async throws -> Value
    ) async throws -> Value {
        let logger = Logger(label: "model-manager-ledger")
        let db: any SQLDatabase =
            switch configuration.usage.database {
            case .sqlite(let path): try SQLiteDatabase(path: path)
            case .postgres(let url): try PostgresDatabase(url: url, logger: logger)
            }
        do {
            let value = try await withRunningServices(db.services, logger: logger) {
                let repository = UsageRepository(database: db, sinks: [])
                try await repository.migrate()
                return try await body(repository)
            }
            await db.close()
            return value
        } catch {
            await db.close()
            throw error
        }
    }

    /// Puts an act of this command on the audit log, as `cli:<user>`.
    static func audit(
        _ repository: UsageRepository, _ action: String, on target: String, org: String?, _ details: JSONValue = [:]
    ) async throws {
        try await AuditLog(database: repository.database).append([
            AuditEntry(
                actor: "cli:\(ProcessInfo.processInfo.userName)", action: action, target: target, orgID: org,
                details: details)
        ])
    }
}
