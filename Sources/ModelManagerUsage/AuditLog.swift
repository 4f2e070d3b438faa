public import Foundation
public import ModelManagerCore

/// One administrative act or refusal on record: who (a credential's id, never a secret), what,
/// on what, when, from where.
public struct AuditEntry: Sendable, Hashable {
    public var id: String
    /// Unix milliseconds.
    public var at: Int64
    /// `admin` (the admin JWT's subject follows), `key:<id>`, `jwt:<subject>`, `cli`.
    public var actor: String
    /// `key.created`, `key.revoked`, `key.rotated`, `quota.set`, `quota.deleted`, `admin.query`,
    /// `call.denied`, `quota.alert` (by the actor `quota`).
    public var action: String
    public var target: String
    /// The org acted on, when there is one (an org admin reads only its own).
    public var orgID: String?
    public var details: JSONValue
    public var address: String?

    public init(
        actor: String, action: String, target: String, orgID: String?, details: JSONValue = [:],
        address: String? = nil, at date: Date = Date()
    ) {
        id = RecordID.make(at: date)
        at = Int64(date.timeIntervalSince1970 * 1000)
        self.actor = actor
        self.action = action
        self.target = target
        self.orgID = orgID
        self.details = details
        self.address = address
    }

    public var json: JSONValue {
        [
            "id": .string(id), "at": .string(Date(timeIntervalSince1970: Double(at) / 1000).formatted(.iso8601)),
            "actor": .string(actor), "action": .string(action), "target": .string(target),
            "org_id": orgID.map { .string($0) } ?? .null, "details": details,
            "address": address.map { .string($0) } ?? .null,
        ]
    }
}

/// The audit log in the ledger's database: appended to, never changed.
public struct AuditLog: Sendable {
    public let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    public struct Filter: Sendable {
        public var orgID: String?
        public var actor: String?
        public var action: String?
        public var start: Date?
        public var end: Date?

        public init(
            orgID: String? = nil, actor: String? = nil, action: String? = nil, start: Date? = nil, end: Date? = nil
        ) {
            self.orgID = orgID
            self.actor = actor
            self.action = action
            self.start = start
            self.end = end
        }
    }

    public func append(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await database.write(entries.map(Self.insert))
    }

    /// The statement that appends `entry`, for a transaction that records more with it.
    public static func insert(_ entry: AuditEntry) -> SQLStatement {
        SQLStatement(
            "INSERT INTO audit_log (id, at, actor, action, target, org_id, details, address) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(entry.id), .integer(entry.at), .text(entry.actor), .text(entry.action), .text(entry.target),
                entry.orgID.map { .text($0) } ?? .null, .text(entry.details.jsonText),
                entry.address.map { .text($0) } ?? .null,
            ])
    }

    /// Newest first.
    public func list(_ filter: Filter, page: Int, pageSize: Int) async throws -> (entries: [AuditEntry], total: Int) {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let orgID = filter.orgID {
            conditions.append("org_id = ?")
            arguments.append(.text(orgID))
        }
        if let actor = filter.actor {
            conditions.append("actor = ?")
            arguments.append(.text(actor))
        }
        if let action = filter.action {
            conditions.append("action = ?")
            arguments.append(.text(action))
        }
        if let start = filter.start {
            conditions.append("at >= ?")
            arguments.append(.integer(Int64(start.timeIntervalSince1970 * 1000)))
        }
        if let end = filter.end {
            conditions.append("at <= ?")
            arguments.append(.integer(Int64(end.timeIntervalSince1970 * 1000)))
        }
        let clause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let total =
            try await database.read(SQLStatement("SELECT COUNT(*) FROM audit_log\(clause)", arguments))
            .first?.first?.integer ?? 0
        let rows = try await database.read(
            SQLStatement(
                "SELECT id, at, actor, action, target, org_id, details, address FROM audit_log\(clause) "
                    + "ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
                arguments + [.integer(Int64(pageSize)), .integer(Int64((page - 1) * pageSize))]))
        return (
            rows.map { row in
                var entry = AuditEntry(
                    actor: row[2].text ?? "", action: row[3].text ?? "", target: row[4].text ?? "", orgID: row[5].text,
                    details: (try? JSONValue(parsing: row[6].text ?? "{}")) ?? [:], address: row[7].text)
                entry.id = row[0].text ?? ""
                entry.at = row[1].integer
                return entry
            }, Int(total)
        )
    }
}
