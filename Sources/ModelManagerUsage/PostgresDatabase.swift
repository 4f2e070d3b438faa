import Foundation
public import Logging
import NIOCore
import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// PostgreSQL, for several server instances sharing one ledger. A Service: its connection pool
/// serves queries while `run` runs (in the server's group, or `withRunningServices`).
public final class PostgresDatabase: SQLDatabase, Service {
    public let dialect = SQLDialect(kind: .postgres)
    private let client: PostgresClient
    private let logger: Logger
    private let knownColumnTypes = Mutex<[String: [String: String]]>([:])

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

    /// A batch is one statement, whatever its size: each column goes as one array bind and
    /// `unnest` turns the arrays back into rows, so the text (and its parse) is the same from
    /// commit to commit. Every insert but the last is a data-modifying CTE: atomic on its own, so
    /// one round trip commits it (no BEGIN and COMMIT round trips).
    public func insert(_ inserts: [SQLInsert]) async throws {
        let inserts = inserts.filter { !$0.rows.isEmpty }
        guard !inserts.isEmpty else { return }
        var sql = ""
        var binds = PostgresBindings()
        for (index, insert) in inserts.enumerated() {
            let types = try await columnTypes(of: insert.table)
            var arrays: [String] = []
            var selected: [String] = []
            for (position, column) in insert.columns.enumerated() {
                guard let type = types[column] else {
                    throw PostgresFailure(description: "table \(insert.table) has no column \(column)", sqlState: nil)
                }
                let kind = PostgresColumnArray.Kind(udtName: type)
                do {
                    try binds.append(
                        PostgresColumnArray(column: column, kind: kind, values: insert.rows.map { $0[position] }))
                } catch {
                    // A value the column cannot hold is the rows' fault, as a data exception is.
                    throw PostgresFailure(description: "\(error)", sqlState: "22000")
                }
                arrays.append("$\(binds.count)::\(kind.arrayTypeName)")
                // Columns of a type without an array of its own travel as text and are cast here.
                selected.append(kind == .text && type != "text" ? "c\(position)::\(type)" : "c\(position)")
            }
            let names = insert.columns.joined(separator: ", ")
            let aliases = insert.columns.indices.map { "c\($0)" }.joined(separator: ", ")
            let conflict = insert.skippingExisting ? " ON CONFLICT DO NOTHING" : ""
            let statement: String =
                "INSERT INTO \(insert.table) (\(names)) SELECT \(selected.joined(separator: ", "))"
                + " FROM unnest(\(arrays.joined(separator: ", "))) AS rows(\(aliases))\(conflict)"
            if index == inserts.count - 1 {
                sql += index == 0 ? statement : " " + statement
            } else {
                sql += (index == 0 ? "WITH " : ", ") + "insert\(index) AS (\(statement))"
            }
        }
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        _ = try await PostgresFailure.translating { try await client.query(query, logger: logger) }
    }

    /// Each table's column types (`udt_name`), read from the catalog the first time it is written.
    private func columnTypes(of table: String) async throws -> [String: String] {
        if let known = knownColumnTypes.withLock({ $0[table] }) { return known }
        let rows = try await read(
            SQLStatement(
                "SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
                [.text(table)]))
        var types: [String: String] = [:]
        for row in rows {
            if case .text(let name) = row[0], case .text(let type) = row[1] { types[name] = type }
        }
        knownColumnTypes.withLock { $0[table] = types }
        return types
    }

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
