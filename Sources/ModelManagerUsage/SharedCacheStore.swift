public import Foundation

/// The response cache's tier shared by every instance on one PostgreSQL ledger: answers by key,
/// each with its expiry. An instance asks it after its own cache misses and writes each answer it
/// caches; expired rows are deleted a batch at a time as answers are written.
public struct SharedCacheStore: Sendable {
    public let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// The answer stored under `key` and when it expires, unless it has.
    public func answer(key: String, now: Date = Date()) async throws -> (answer: String, expires: Date)? {
        let row = try await database.read(
            SQLStatement(
                "SELECT answer, expires_at FROM response_cache WHERE key = ? AND expires_at > ?",
                [.text(key), .integer(TaskStore.milliseconds(now))])
        ).first
        guard let row, let answer = row[0].text else { return nil }
        return (answer, Date(timeIntervalSince1970: Double(row[1].integer) / 1000))
    }

    public func store(key: String, orgID: String, answer: String, expires: Date) async throws {
        try await database.write([
            SQLStatement(
                """
                INSERT INTO response_cache (key, org_id, answer, expires_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET answer = excluded.answer, expires_at = excluded.expires_at
                """,
                [.text(key), .text(orgID), .text(answer), .integer(TaskStore.milliseconds(expires))])
        ])
    }

    /// Deletes up to `limit` expired answers; returns how many.
    public func prune(now: Date = Date(), limit: Int) async throws -> Int {
        try await database.writeReturning(
            SQLStatement(
                "DELETE FROM response_cache WHERE key IN (SELECT key FROM response_cache WHERE expires_at <= ? LIMIT ?) RETURNING key",
                [.integer(TaskStore.milliseconds(now)), .integer(Int64(limit))])
        ).count
    }
}
