import ModelManagerCore
public import ServiceLifecycle

/// A value bound into or read out of SQL, the same for SQLite and PostgreSQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)

    var integer: Int64 {
        switch self {
        case .integer(let value): value
        case .double(let value): Int64(value)
        case .bool(let value): value ? 1 : 0
        case .text(let value): Int64(value) ?? 0
        case .null: 0
        }
    }

    var optionalInteger: Int64? {
        if case .null = self { return nil }
        return integer
    }

    var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    var bool: Bool {
        switch self {
        case .bool(let value): value
        case .integer(let value): value != 0
        default: false
        }
    }
}

/// One SQL statement with `?` placeholders.
public struct SQLStatement: Sendable {
    public var sql: String
    public var arguments: [SQLValue]
    /// The statement must return a row (a conditional `UPDATE … RETURNING` that matched),
    /// else its whole transaction is rolled back with `SQLRowsRequired`.
    public var requiresRows: Bool

    public init(_ sql: String, _ arguments: [SQLValue] = [], requiresRows: Bool = false) {
        self.sql = sql
        self.arguments = arguments
        self.requiresRows = requiresRows
    }
}

/// A statement that had to return rows returned none: the transaction was rolled back.
public struct SQLRowsRequired: Error, Sendable {
    /// Its position in the transaction.
    public var index: Int
}

/// Rows for one table, which `SQLDatabase.insert` writes in the way its database does best.
public struct SQLInsert: Sendable {
    public var table: String
    public var columns: [String]
    public var rows: [[SQLValue]]
    /// Rows whose key is already there are left as they are.
    public var skippingExisting: Bool

    public init(table: String, columns: [String], rows: [[SQLValue]], skippingExisting: Bool = false) {
        self.table = table
        self.columns = columns
        self.rows = rows
        self.skippingExisting = skippingExisting
    }

    /// `INSERT … VALUES` for `count` rows, with `?` placeholders.
    func sql(rows count: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
            + Array(repeating: row, count: count).joined(separator: ", ")
            + (skippingExisting ? " ON CONFLICT DO NOTHING" : "")
    }
}

/// The few places where SQLite and PostgreSQL SQL differ.
public struct SQLDialect: Sendable {
    public enum Kind: Sendable { case sqlite, postgres }
    public let kind: Kind

    /// A UTC bucket label (ISO 8601) for an epoch-milliseconds column.
    func bucket(_ column: String, _ unit: BucketUnit) -> String {
        switch (kind, unit) {
        case (.sqlite, .hour): "strftime('%Y-%m-%dT%H:00:00Z', \(column) / 1000, 'unixepoch')"
        case (.sqlite, .day): "strftime('%Y-%m-%dT00:00:00Z', \(column) / 1000, 'unixepoch')"
        case (.sqlite, .month): "strftime('%Y-%m-01T00:00:00Z', \(column) / 1000, 'unixepoch')"
        case (.postgres, .hour):
            "to_char(to_timestamp(\(column) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":00:00Z\"')"
        case (.postgres, .day):
            "to_char(to_timestamp(\(column) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T00:00:00Z\"')"
        case (.postgres, .month):
            "to_char(to_timestamp(\(column) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM\"-01T00:00:00Z\"')"
        }
    }

    /// Case-insensitive substring match.
    func contains(_ column: String) -> String {
        switch kind {
        case .sqlite: "\(column) LIKE ?"
        case .postgres: "\(column) ILIKE ?"
        }
    }

    enum BucketUnit { case hour, day, month }
}

/// What the ledger needs of a database; SQLite (GRDB) and PostgreSQL (PostgresNIO) implement it.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs the statements in one transaction (all or nothing) and returns each one's rows; a
    /// statement that `requiresRows` and returns none rolls it back (`SQLRowsRequired`).
    func transact(_ statements: [SQLStatement]) async throws -> [[[SQLValue]]]
    /// Inserts the rows in one transaction (all or nothing), in the order given: the ledger's
    /// group commit, so each database does it its fastest way.
    func insert(_ inserts: [SQLInsert]) async throws
    /// Rows as column values in select order.
    func read(_ statement: SQLStatement) async throws -> [[SQLValue]]
    /// Whether `error` says the database refuses these rows for what they hold (a value it cannot
    /// store, a constraint), so that the same rows can never be written; false for an outage, a
    /// lock or any error it cannot place, which retrying may cure.
    func refusesRows(_ error: any Error) -> Bool
    /// Applies the migrations not yet applied, in order, safely with other instances doing the same.
    func migrate(_ migrations: [Migration]) async throws
    func close() async
}

extension SQLDatabase {
    /// Runs the statements in one transaction (all or nothing).
    public func write(_ statements: [SQLStatement]) async throws { _ = try await transact(statements) }

    /// One writing statement (`UPDATE … RETURNING`) and the rows it returns.
    public func writeReturning(_ statement: SQLStatement) async throws -> [[SQLValue]] {
        try await transact([statement])[0]
    }

    /// What must run while the database is in use: PostgreSQL's connection pool; nothing for SQLite.
    public var services: [any Service] { (self as? any Service).map { [$0] } ?? [] }
}

/// One schema version: statements applied once, recorded in `schema_migrations`.
public struct Migration: Sendable {
    public var version: Int
    public var statements: [String]
}
