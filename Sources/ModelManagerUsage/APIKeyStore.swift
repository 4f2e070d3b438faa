import Foundation
public import ModelManagerCore

/// An API key's stored form: everything but the key itself, of which only a keyed hash is kept.
public struct APIKeyRecord: Sendable, Hashable {
    public enum Scope: String, Sendable, CaseIterable, Comparable {
        case invoke, tasks
        case adminRead = "admin:read"
        case adminWrite = "admin:write"

        public static func < (left: Scope, right: Scope) -> Bool { left.rawValue < right.rawValue }
    }

    public var id: String
    public var keyHash: String
    public var name: String
    public var orgID: String
    public var userID: String?
    public var scopes: Set<Scope>
    public var allowedProviders: Set<String>
    public var allowedModels: Set<String>
    /// Unix milliseconds.
    public var expiresAt: Int64?
    public var revokedAt: Int64?
    public var createdAt: Int64
    public var rotatedAt: Int64?

    public init(
        id: String, keyHash: String, name: String, orgID: String, userID: String? = nil,
        scopes: Set<Scope> = [.invoke], allowedProviders: Set<String> = [], allowedModels: Set<String> = [],
        expiresAt: Int64? = nil, revokedAt: Int64? = nil, createdAt: Int64, rotatedAt: Int64? = nil
    ) {
        self.id = id
        self.keyHash = keyHash
        self.name = name
        self.orgID = orgID
        self.userID = userID
        self.scopes = scopes
        self.allowedProviders = allowedProviders
        self.allowedModels = allowedModels
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.createdAt = createdAt
        self.rotatedAt = rotatedAt
    }

    public var grant: CallerGrant {
        CallerGrant(
            credential: "API key mmk_\(id)", keyID: id, orgIDs: [orgID], userID: userID,
            allowedProviders: allowedProviders,
            allowedModels: allowedModels, mayUseTasks: scopes.contains(.tasks))
    }

    /// The record as the CLI and the admin API show it (never the hash).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "prefix": .string("mmk_\(id)"), "name": .string(name), "org_id": .string(orgID),
            "scopes": .array(scopes.sorted().map { .string($0.rawValue) }),
            "allowed_providers": .array(allowedProviders.sorted().map { .string($0) }),
            "allowed_models": .array(allowedModels.sorted().map { .string($0) }),
            "created_at": .string(Self.iso(createdAt)),
        ]
        object["user_id"] = userID.map { .string($0) } ?? .null
        object["expires_at"] = expiresAt.map { .string(Self.iso($0)) } ?? .null
        object["revoked_at"] = revokedAt.map { .string(Self.iso($0)) } ?? .null
        object["rotated_at"] = rotatedAt.map { .string(Self.iso($0)) } ?? .null
        return .object(object)
    }

    private static func iso(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }
}

/// API keys in the ledger's database, so that every instance on one database sees the same keys.
public struct APIKeyStore: Sendable {
    public let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    static let columns =
        "id, key_hash, name, org_id, user_id, scopes, allowed_providers, allowed_models, expires_at, revoked_at, "
        + "created_at, rotated_at"

    public func create(_ record: APIKeyRecord) async throws {
        try await database.write([
            SQLStatement(
                "INSERT INTO api_keys (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(record.id), .text(record.keyHash), .text(record.name), .text(record.orgID),
                    record.userID.map { .text($0) } ?? .null,
                    .text(record.scopes.sorted().map(\.rawValue).joined(separator: ",")),
                    .text(record.allowedProviders.sorted().joined(separator: ",")),
                    .text(record.allowedModels.sorted().joined(separator: ",")),
                    record.expiresAt.map { .integer($0) } ?? .null, record.revokedAt.map { .integer($0) } ?? .null,
                    .integer(record.createdAt), record.rotatedAt.map { .integer($0) } ?? .null,
                ])
        ])
    }

    public func find(id: String) async throws -> APIKeyRecord? {
        try await database.read(SQLStatement("SELECT \(Self.columns) FROM api_keys WHERE id = ?", [.text(id)]))
            .first.map(Self.record)
    }

    /// Newest first; all orgs when `orgID` is nil.
    public func list(orgID: String? = nil, limit: Int = 1000) async throws -> [APIKeyRecord] {
        let filter = orgID == nil ? "" : "WHERE org_id = ? "
        return try await database.read(
            SQLStatement(
                "SELECT \(Self.columns) FROM api_keys \(filter)ORDER BY created_at DESC, id LIMIT ?",
                (orgID.map { [SQLValue.text($0)] } ?? []) + [.integer(Int64(limit))])
        ).map(Self.record)
    }

    /// Marks the key revoked; returns false when there is no such key or it was revoked already.
    public func revoke(id: String, at milliseconds: Int64) async throws -> Bool {
        try await !database.writeReturning(
            SQLStatement(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
                [.integer(milliseconds), .text(id)])
        ).isEmpty
    }

    /// Replaces the key's hash (the old key stops working); false when there is no live key `id`.
    public func rotate(id: String, keyHash: String, at milliseconds: Int64) async throws -> Bool {
        try await !database.writeReturning(
            SQLStatement(
                "UPDATE api_keys SET key_hash = ?, rotated_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
                [.text(keyHash), .integer(milliseconds), .text(id)])
        ).isEmpty
    }

    private static func record(_ row: [SQLValue]) -> APIKeyRecord {
        func set(_ value: SQLValue) -> Set<String> {
            Set((value.text ?? "").split(separator: ",").map(String.init))
        }
        return APIKeyRecord(
            id: row[0].text ?? "", keyHash: row[1].text ?? "", name: row[2].text ?? "", orgID: row[3].text ?? "",
            userID: row[4].text, scopes: Set(set(row[5]).compactMap(APIKeyRecord.Scope.init(rawValue:))),
            allowedProviders: set(row[6]), allowedModels: set(row[7]), expiresAt: row[8].optionalInteger,
            revokedAt: row[9].optionalInteger, createdAt: row[10].integer, rotatedAt: row[11].optionalInteger)
    }
}
