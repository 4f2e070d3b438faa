import Foundation
import GRDB
import GRDBSQLite

/// The embedded default: a SQLite file in WAL mode, through GRDB.
public final class SQLiteDatabase: SQLDatabase {
    public enum Synchronous: String, Sendable {
        case full = "FULL"
        case normal = "NORMAL"
    }

    public let dialect = SQLDialect(kind: .sqlite)
    private let pool: DatabasePool

    /// Opens (creating when needed) the database at `path`. `synchronous` FULL (the durable
    /// ledger's) syncs the WAL at every commit, so an acknowledged record survives a power loss
    /// too; NORMAL survives a crash of the process only.
    public init(path: String, synchronous: Synchronous = .full) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
            try db.execute(sql: "PRAGMA busy_timeout = 5000")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
    }

    public func transact(_ statements: [SQLStatement]) async throws -> [[[SQLValue]]] {
        try await pool.write { db -> [[[SQLValue]]] in
            var results: [[[SQLValue]]] = []
            for (index, statement) in statements.enumerated() {
                let rows: [[SQLValue]] = try Row.fetchAll(
                    db, sql: statement.sql, arguments: Self.arguments(statement.arguments)
                ).map { row in row.databaseValues.map { Self.value($0) } }
                if statement.requiresRows, rows.isEmpty { throw SQLRowsRequired(index: index) }
                results.append(rows)
            }
            return results
        }
    }

    /// One prepared single-row statement per table, kept by the connection and run once per
    /// row: SQLite has no round trip to save, and a statement whose text changed with the batch
    /// size would be parsed again at every commit. Values are bound straight from the rows
    /// (no argument array, no C string copies).
    public func insert(_ inserts: [SQLInsert]) async throws {
        try await pool.write { db in
            for insert in inserts where !insert.rows.isEmpty {
                let handle = try db.cachedStatement(sql: insert.sql(rows: 1)).sqliteStatement
                defer { sqlite3_reset(handle) }
                for row in insert.rows {
                    sqlite3_reset(handle)
                    for (index, value) in row.enumerated() { Self.bind(value, at: Int32(index + 1), in: handle) }
                    let code = sqlite3_step(handle)
                    guard code == SQLITE_DONE else {
                        throw DatabaseError(
                            resultCode: ResultCode(rawValue: code),
                            message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                    }
                }
            }
        }
    }

    private static func bind(_ value: SQLValue, at index: Int32, in handle: OpaquePointer) {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .integer(let integer): sqlite3_bind_int64(handle, index, integer)
        case .double(let double): sqlite3_bind_double(handle, index, double)
        case .bool(let bool): sqlite3_bind_int64(handle, index, bool ? 1 : 0)
        case .text(var text):
            // By length, so that text with NUL is stored whole; SQLite copies it (TRANSIENT).
            _ = text.withUTF8 { bytes in
                if let base = bytes.baseAddress {
                    sqlite3_bind_text(handle, index, base, Int32(bytes.count), transient)
                } else {
                    sqlite3_bind_text(handle, index, "", 0, transient)
                }
            }
        }
    }

    /// A constraint, a type mismatch or a value too big; busy, locked, I/O and full are outages.
    public func refusesRows(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return [.SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG, .SQLITE_RANGE].contains(error.resultCode)
    }

    public func read(_ statement: SQLStatement) async throws -> [[SQLValue]] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: statement.sql, arguments: Self.arguments(statement.arguments)).map { row in
                row.databaseValues.map(Self.value)
            }
        }
    }

    public func migrate(_ migrations: [Migration]) async throws {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration("v\(migration.version)") { db in
                for statement in migration.statements { try db.execute(sql: statement) }
            }
        }
        try migrator.migrate(pool)
    }

    public func close() async {
        try? pool.close()
    }

    private static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .null: nil
                case .integer(let integer): integer
                case .double(let double): double
                case .text(let text): text
                case .bool(let bool): bool
                }
            })
    }

    private static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let integer): .integer(integer)
        case .double(let double): .double(double)
        case .string(let text): .text(text)
        case .blob(let data): .text(String(decoding: data, as: UTF8.self))
        }
    }
}

/// SQLite's SQLITE_TRANSIENT: the bound bytes are copied before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
