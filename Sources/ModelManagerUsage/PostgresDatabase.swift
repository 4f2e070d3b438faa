import Foundation
public import Logging
import NIOCore
import PostgresNIO
public import ServiceLifecycle

/// PostgreSQL, for several server instances sharing one ledger. A Service: its connection pool
/// serves queries while `run` runs (in the server's group, or `withRunningServices`).
public final class PostgresDatabase: SQLDatabase, Service {
    public let dialect = SQLDialect(kind: .postgres)
    private let client: PostgresClient
    private let logger: Logger

    public struct InvalidURL: Error, CustomStringConvertible {
        public let description: String
    }

    /// `postgres://user[:password]@host[:port]/database` (the password never reaches an error).
    public init(url: String, logger: Logger) throws {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, let user = components.user
        else {
            throw InvalidURL(
                description: "the PostgreSQL URL must look like postgres://user:password@host:port/database")
        }
        let database = components.path.isEmpty ? user : String(components.path.dropFirst())
        let configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database, tls: .disable)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the connection pool until graceful shutdown or cancellation.
    public func run() async { await client.run() }

    public func transact(_ statements: [SQLStatement]) async throws -> [[[SQLValue]]] {
        let logger = logger
        return try await PostgresFailure.translating {
            try await client.withTransaction(logger: logger) { connection in
                var results: [[[SQLValue]]] = []
                for (index, statement) in statements.enumerated() {
                    var rows: [[SQLValue]] = []
                    for try await row in try await connection.query(Self.query(statement), logger: logger) {
                        rows.append(try row.map(Self.value))
                    }
                    if statement.requiresRows, rows.isEmpty { throw SQLRowsRequired(index: index) }
                    results.append(rows)
                }
                return results
            }
        }
    }

    /// A batch that fits PostgreSQL's 65,535 binds is one statement, every insert but the last a
    /// data-modifying CTE: atomic on its own, so one round trip commits it (no BEGIN and COMMIT
    /// round trips). A larger one (a big spill file replayed) is split into multi-row INSERTs of
    /// at most `rowsPerStatement` rows in one transaction.
    public func insert(_ inserts: [SQLInsert]) async throws {
        let inserts = inserts.filter { !$0.rows.isEmpty }
        guard !inserts.isEmpty else { return }
        let binds = inserts.reduce(0) { $0 + $1.rows.count * $1.columns.count }
        guard binds <= Self.maximumBinds else {
            try await write(
                inserts.flatMap { insert in
                    stride(from: 0, to: insert.rows.count, by: Self.rowsPerStatement).map { start in
                        let rows = insert.rows[start..<min(start + Self.rowsPerStatement, insert.rows.count)]
                        return SQLStatement(insert.sql(rows: rows.count), rows.flatMap { $0 })
                    }
                })
            return
        }
        var sql = ""
        for (index, insert) in inserts.enumerated() {
            let statement = insert.sql(rows: insert.rows.count)
            if index == inserts.count - 1 {
                sql += index == 0 ? statement : " " + statement
            } else {
                sql += (index == 0 ? "WITH " : ", ") + "insert\(index) AS (\(statement))"
            }
        }
        let query = Self.query(SQLStatement(sql, inserts.flatMap { $0.rows.flatMap { $0 } }))
        _ = try await PostgresFailure.translating { try await client.query(query, logger: logger) }
    }

    static let maximumBinds = 65_535
    static let rowsPerStatement = 500

    public func refusesRows(_ error: any Error) -> Bool { (error as? PostgresFailure)?.refusesRows ?? false }

    public func read(_ statement: SQLStatement) async throws -> [[SQLValue]] {
        try await PostgresFailure.translating {
            var rows: [[SQLValue]] = []
            for try await row in try await client.query(Self.query(statement), logger: logger) {
                rows.append(try row.map(Self.value))
            }
            return rows
        }
    }

    /// Each migration in its own transaction under an advisory lock, so instances starting together agree.
    public func migrate(_ migrations: [Migration]) async throws {
        let logger = logger
        try await client.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
            logger: logger)
        for migration in migrations {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(7270314)", logger: logger)
                let applied = try await connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)", logger: logger)
                var exists = false
                for try await _ in applied { exists = true }
                guard !exists else { return }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(now))",
                    logger: logger)
            }
        }
    }

    /// The pool closes when `run` ends.
    public func close() async {}

    /// `?` placeholders become `$1`, `$2`, … (our SQL has no `?` inside literals).
    static func query(_ statement: SQLStatement) -> PostgresQuery {
        var sql = ""
        var index = 0
        for character in statement.sql {
            if character == "?" {
                index += 1
                sql += "$\(index)"
            } else {
                sql.append(character)
            }
        }
        var binds = PostgresBindings()
        for value in statement.arguments {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .double(let double): binds.append(double)
            case .text(let text): binds.append(text)
            case .bool(let bool): binds.append(bool)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        case .numeric: return .double(Double(try cell.decode(String.self)) ?? 0)
        default: return .text(try cell.decode(String.self))
        }
    }
}
