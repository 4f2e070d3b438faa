public import Foundation
public import ModelManagerCore

/// The ledger's SQL, written once for SQLite and PostgreSQL: records with their outbox rows in
/// one transaction, the outbox's pending rows, and the statistics.
public struct UsageRepository: Sendable {
    public let database: any SQLDatabase
    /// The outbox sinks each record gets a row for (e.g. "nats", "mqtt").
    public let sinks: [String]

    public init(database: any SQLDatabase, sinks: [String]) {
        self.database = database
        self.sinks = sinks
    }

    public func migrate() async throws { try await database.migrate(Schema.migrations) }

    // MARK: writes

    /// A record as the ledger writes it, its row and its outbox rows, encoded by the caller that
    /// records it: the ledger's writers then only bind and commit.
    public struct EncodedRecord: Sendable {
        public let record: UsageRecord
        let row: [SQLValue]
        let outboxRows: [[SQLValue]]
    }

    public func encode(_ record: UsageRecord) -> EncodedRecord {
        let subject = SQLValue.text(record.billingSubject)
        let payload = SQLValue.text(record.billingEvent.jsonText)
        let createdAt = SQLValue.integer(UsageFilter.milliseconds(record.createdAt))
        return EncodedRecord(
            record: record, row: Self.values(record),
            outboxRows: sinks.map { [.text(record.id), .text($0), subject, payload, createdAt] })
    }

    /// Inserts the records and their outbox rows, all or nothing. `skippingExisting` (replaying
    /// a spill file) leaves records, and their outbox rows, that are already there untouched.
    public func insert(_ records: [UsageRecord], skippingExisting: Bool = false) async throws {
        try await insert(records.map(encode), skippingExisting: skippingExisting)
    }

    public func insert(_ records: [EncodedRecord], skippingExisting: Bool = false) async throws {
        guard !records.isEmpty else { return }
        try await database.insert(inserts(records, skippingExisting: skippingExisting))
    }

    /// The records and their outbox rows as plain statements, for a transaction that writes
    /// more with them (a task's completion).
    public func insertStatements(_ records: [EncodedRecord]) -> [SQLStatement] {
        inserts(records, skippingExisting: false).filter { !$0.rows.isEmpty }.map { insert in
            SQLStatement(insert.sql(rows: insert.rows.count), insert.rows.flatMap { $0 })
        }
    }

    private func inserts(_ records: [EncodedRecord], skippingExisting: Bool) -> [SQLInsert] {
        var inserts = [
            SQLInsert(
                table: "usage_records", columns: Schema.recordColumns, rows: records.map(\.row),
                skippingExisting: skippingExisting)
        ]
        if !sinks.isEmpty {
            inserts.append(
                SQLInsert(
                    table: "outbox", columns: ["record_id", "sink", "subject", "payload", "created_at"],
                    rows: records.flatMap(\.outboxRows), skippingExisting: skippingExisting))
        }
        return inserts
    }

    /// Keeps a record the database refused, as escaped JSON, so that it neither blocks the
    /// records behind it nor is lost.
    public func deadLetter(_ record: UsageRecord, error: String) async throws {
        try await database.write([
            SQLStatement(
                "INSERT INTO dead_letters (record_id, payload, error, created_at) VALUES (?, ?, ?, ?)",
                [
                    .text(Self.escaped(record.id)), .text(record.json.jsonText), .text(Self.escaped(error)),
                    .integer(UsageFilter.milliseconds(Date())),
                ])
        ])
    }

    /// Rewrites committed records as failed with their (withheld) error: their callers gave up
    /// waiting while the commit ran.
    public func markWithheld(_ records: [UsageRecord]) async throws {
        try await database.write(
            records.map { record in
                SQLStatement(
                    "UPDATE usage_records SET success = ?, error = ? WHERE id = ?",
                    [.bool(false), .text(record.error ?? ""), .text(record.id)])
            })
    }

    /// Writes the readiness row: succeeds only while the database takes writes.
    public func probeWrite() async throws {
        try await database.write([
            SQLStatement(
                "INSERT INTO readiness (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                [.integer(UsageFilter.milliseconds(Date()))])
        ])
    }

    /// The dead-lettered records, oldest first (payload is the record's JSON).
    public func deadLetters(limit: Int = 100) async throws -> [(recordID: String, payload: JSONValue, error: String)] {
        try await database.read(
            SQLStatement(
                "SELECT record_id, payload, error FROM dead_letters ORDER BY created_at, record_id LIMIT ?",
                [.integer(Int64(limit))]
            )
        ).map { ($0[0].text ?? "", (try? JSONValue(parsing: $0[1].text ?? "")) ?? .null, $0[2].text ?? "") }
    }

    /// Text whose every byte a database column takes (PostgreSQL refuses NUL).
    private static func escaped(_ text: String) -> String { text.replacingOccurrences(of: "\u{0}", with: "\\u0000") }

    static func values(_ record: UsageRecord) -> [SQLValue] {
        [
            .text(record.id), .text(record.requestID), record.originRequestID.map { .text($0) } ?? .null,
            .text(record.orgID),
            .text(record.userID), .text(record.clientType), .text(record.provider), .text(record.channel),
            .text(record.invokeType),
            .text(record.model), .integer(Int64(record.promptTokens)), .integer(Int64(record.completionTokens)),
            .integer(Int64(record.totalTokens)), .integer(Int64(record.cachedTokens)),
            .integer(Int64(record.reasoningTokens)),
            .integer(Int64(record.imageCount)), record.cost.map { .double($0) } ?? .null, .text(record.currency),
            .integer(Int64(record.latencyMilliseconds)),
            record.timeToFirstTokenMilliseconds.map { .integer(Int64($0)) } ?? .null,
            .bool(record.stream), .bool(record.success), record.error.map { .text($0) } ?? .null,
            .text(JSONValue.object(record.metadata).jsonText), .integer(UsageFilter.milliseconds(record.createdAt)),
            record.tokenSubject.map { .text($0) } ?? .null, record.cacheHit.map { .text($0) } ?? .null,
            record.savedCost.map { .double($0) } ?? .null,
        ]
    }

    // MARK: outbox

    public struct OutboxRow: Sendable, Hashable {
        public var recordID: String
        public var subject: String
        public var payload: String
        /// Failed publishes so far.
        public var attempts: Int = 0
    }

    /// Unsent rows of `sink`, oldest first, without claiming them.
    public func pending(sink: String, limit: Int) async throws -> [OutboxRow] {
        try await database.read(
            SQLStatement(
                "SELECT record_id, subject, payload, attempts FROM outbox WHERE sink = ? AND sent_at IS NULL AND failed_at IS NULL "
                    + "ORDER BY created_at, record_id LIMIT ?",
                [.text(sink), .integer(Int64(limit))]
            )
        ).map(Self.outboxRow)
    }

    /// Claims up to `limit` unsent rows of `sink` for `lease`: rows another relay claimed and
    /// still holds are skipped (PostgreSQL: `FOR UPDATE SKIP LOCKED`), so with several
    /// instances on one database each row is published by one of them. A relay that dies
    /// leaves its claim to expire.
    public func claim(sink: String, limit: Int, lease: Duration) async throws -> [OutboxRow] {
        let now = UsageFilter.milliseconds(Date())
        let locking = database.dialect.kind == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let rows = try await database.writeReturning(
            SQLStatement(
                "UPDATE outbox SET claimed_until = ? WHERE sink = ? AND record_id IN (SELECT record_id FROM outbox WHERE sink = ? "
                    + "AND sent_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?) "
                    + "ORDER BY created_at, record_id LIMIT ?\(locking)) RETURNING record_id, subject, payload, attempts, created_at",
                [
                    .integer(now + lease.wholeMilliseconds), .text(sink), .text(sink), .integer(now),
                    .integer(Int64(limit)),
                ]))
        return rows.sorted { ($0[4].integer, $0[0].text ?? "") < ($1[4].integer, $1[0].text ?? "") }.map(Self.outboxRow)
    }

    /// A failed publish of one row: counted; a failure the broker will repeat forever sets
    /// the row aside (`failed_at`), with its error, once it has happened `setAsideAfter` times.
    public func markFailed(sink: String, recordID: String, error: String, permanent: Bool, setAsideAfter: Int)
        async throws
    {
        let now = UsageFilter.milliseconds(Date())
        try await database.write([
            SQLStatement(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, claimed_until = NULL, "
                    + "failed_at = CASE WHEN ? AND attempts + 1 >= ? THEN ? ELSE NULL END WHERE sink = ? AND record_id = ?",
                [
                    .text(Self.escaped(String(error.prefix(1000)))), .bool(permanent), .integer(Int64(setAsideAfter)),
                    .integer(now), .text(sink), .text(recordID),
                ])
        ])
    }

    /// Gives claimed rows back before their lease ends.
    public func releaseClaims(sink: String, recordIDs: [String]) async throws {
        guard !recordIDs.isEmpty else { return }
        try await database.write([
            SQLStatement(
                "UPDATE outbox SET claimed_until = NULL WHERE sink = ? AND record_id IN ("
                    + Array(repeating: "?", count: recordIDs.count).joined(separator: ", ") + ")",
                [.text(sink)] + recordIDs.map { .text($0) })
        ])
    }

    /// Rows set aside because their broker refused them for good.
    public func failedOutboxRows(sink: String) async throws -> [(row: OutboxRow, error: String)] {
        try await database.read(
            SQLStatement(
                "SELECT record_id, subject, payload, attempts, last_error FROM outbox WHERE sink = ? AND failed_at IS NOT NULL ORDER BY created_at",
                [.text(sink)])
        ).map { (Self.outboxRow($0), $0[4].text ?? "") }
    }

    private static func outboxRow(_ columns: [SQLValue]) -> OutboxRow {
        OutboxRow(
            recordID: columns[0].text ?? "", subject: columns[1].text ?? "", payload: columns[2].text ?? "",
            attempts: Int(columns[3].integer))
    }

    public func markSent(sink: String, recordIDs: [String]) async throws {
        guard !recordIDs.isEmpty else { return }
        let now = UsageFilter.milliseconds(Date())
        try await database.write([
            SQLStatement(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, claimed_until = NULL WHERE sink = ? AND record_id IN ("
                    + Array(repeating: "?", count: recordIDs.count).joined(separator: ", ") + ")",
                [.integer(now), .text(sink)] + recordIDs.map { .text($0) })
        ])
    }

    /// Deletes at most `limit` rows published before `cutoff`, the oldest first; returns how many
    /// went. A row never published (pending, or set aside as refused) is kept whatever its age:
    /// it is a billing event still owed.
    public func pruneSentOutbox(before cutoff: Date, limit: Int) async throws -> Int {
        let deleted = try await database.writeReturning(
            SQLStatement(
                "DELETE FROM outbox WHERE (record_id, sink) IN (SELECT record_id, sink FROM outbox"
                    + " WHERE sent_at IS NOT NULL AND sent_at < ? ORDER BY sent_at LIMIT ?) RETURNING record_id",
                [.integer(UsageFilter.milliseconds(cutoff)), .integer(Int64(limit))]))
        return deleted.count
    }

    /// Unsent rows per sink.
    public func backlog() async throws -> [String: Int64] {
        let rows = try await database.read(
            SQLStatement(
                "SELECT sink, CAST(COUNT(*) AS BIGINT) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY sink"
            ))
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0].text ?? "", $0[1].integer) })
    }

    // MARK: statistics

    public func summary(_ filter: UsageFilter) async throws -> UsageTotals {
        let (whereClause, arguments) = filter.whereClause(dialect: database.dialect)
        let rows = try await database.read(
            SQLStatement("SELECT \(UsageTotals.selectList) FROM usage_records \(whereClause)", arguments))
        return rows.first.map { UsageTotals(row: $0[...]) } ?? UsageTotals()
    }

    public enum Dimension: String, Sendable {
        case model
        case org = "org_id"
        case user = "user_id"
    }

    /// Totals per model, org or user, most tokens first.
    public func breakdown(by dimension: Dimension, _ filter: UsageFilter) async throws -> [UsageGroup] {
        let (whereClause, arguments) = filter.whereClause(dialect: database.dialect)
        let column = dimension.rawValue
        return try await grouped(
            "SELECT \(column), \(UsageTotals.selectList) FROM usage_records \(whereClause) GROUP BY \(column) ORDER BY 4 DESC, 1",
            arguments)
    }

    /// Totals per time bucket (UTC), oldest first.
    public func series(_ granularity: Granularity, _ filter: UsageFilter) async throws -> [UsageGroup] {
        let (whereClause, arguments) = filter.whereClause(dialect: database.dialect)
        let bucket = database.dialect.bucket("created_at", granularity.unit)
        return try await grouped(
            "SELECT \(bucket) AS bucket, \(UsageTotals.selectList) FROM usage_records \(whereClause) GROUP BY bucket ORDER BY bucket",
            arguments)
    }

    private func grouped(_ sql: String, _ arguments: [SQLValue]) async throws -> [UsageGroup] {
        try await database.read(SQLStatement(sql, arguments)).map { row in
            UsageGroup(key: row[0].text ?? "", totals: UsageTotals(row: row[1...]))
        }
    }

    /// Records matching `filter`, newest first; `page` counts from 1.
    public func list(_ filter: UsageFilter, page: Int, pageSize: Int) async throws -> UsagePage {
        let (whereClause, arguments) = filter.whereClause(dialect: database.dialect)
        let total =
            try await database.read(
                SQLStatement("SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records \(whereClause)", arguments)
            ).first?[0].integer ?? 0
        let rows = try await database.read(
            SQLStatement(
                "SELECT \(Schema.recordColumns.joined(separator: ", ")) FROM usage_records \(whereClause) ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                arguments + [.integer(Int64(pageSize)), .integer(Int64((page - 1) * pageSize))]))
        return UsagePage(records: rows.map(Self.record), total: total, page: page, pageSize: pageSize)
    }

    /// Records with these request ids (the crash test's view).
    public func records(requestIDs: [String]) async throws -> [UsageRecord] {
        guard !requestIDs.isEmpty else { return [] }
        return try await database.read(
            SQLStatement(
                "SELECT \(Schema.recordColumns.joined(separator: ", ")) FROM usage_records WHERE request_id IN ("
                    + Array(repeating: "?", count: requestIDs.count).joined(separator: ", ") + ")",
                requestIDs.map { .text($0) })
        ).map(Self.record)
    }

    static func record(_ row: [SQLValue]) -> UsageRecord {
        var record = UsageRecord(
            id: row[0].text ?? "", requestID: row[1].text ?? "", originRequestID: row[2].text, orgID: row[3].text ?? "",
            userID: row[4].text ?? "", clientType: row[5].text ?? "", provider: row[6].text ?? "",
            channel: row[7].text ?? "",
            invokeType: row[8].text ?? "", model: row[9].text ?? "", usage: nil, cost: row[16].double,
            currency: row[17].text ?? "",
            latencyMilliseconds: Int(row[18].integer),
            timeToFirstTokenMilliseconds: row[19] == .null ? nil : Int(row[19].integer),
            stream: row[20].bool, success: row[21].bool, error: row[22].text,
            metadata: (try? JSONValue(parsing: row[23].text ?? "{}"))?.objectValue ?? [:], tokenSubject: row[25].text,
            createdAt: Date(timeIntervalSince1970: Double(row[24].integer) / 1000))
        record.promptTokens = Int(row[10].integer)
        record.completionTokens = Int(row[11].integer)
        record.totalTokens = Int(row[12].integer)
        record.cachedTokens = Int(row[13].integer)
        record.reasoningTokens = Int(row[14].integer)
        record.imageCount = Int(row[15].integer)
        record.cacheHit = row[26].text
        record.savedCost = row[27].double
        return record
    }
}
