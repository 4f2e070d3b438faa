import Foundation
import ModelManagerAuth
import ModelManagerCore
import ModelManagerUsage
import Synchronization

/// Checks presented API keys against the keys in the database. Lookups are cached, bounded in
/// entries and for `cacheLifetime` (1 s by default), so a key revoked or rotated on any instance,
/// or with the CLI, stops working everywhere within that time without a message between instances.
final class APIKeyVerifier: Sendable {
    private let store: APIKeyStore
    private let pepper: Secret
    private let cacheLifetime: Duration
    private let maximumCachedKeys: Int
    private let cache = Mutex<[String: Lookup]>([:])

    private struct Lookup {
        var record: APIKeyRecord?
        var fetched: ContinuousClock.Instant
        /// The key last shown to match the record's hash: the same key again skips the HMAC.
        var verified: String?
    }

    init(store: APIKeyStore, pepper: Secret, cacheLifetime: Duration, maximumCachedKeys: Int) {
        self.store = store
        self.pepper = pepper
        self.cacheLifetime = cacheLifetime
        self.maximumCachedKeys = maximumCachedKeys
    }

    /// The key's record when `presented` is one of its live keys with `scope`; else
    /// UNAUTHENTICATED (unknown, wrong, revoked, expired) or PERMISSION_DENIED (scope), naming the
    /// key by its visible prefix only.
    func verify(_ presented: String, scope: APIKeyRecord.Scope, now: Date = Date()) async throws(ModelManagerError)
        -> APIKeyRecord
    {
        guard let id = APIKeySecret.id(of: presented) else {
            throw ModelManagerError(.unauthenticated, "malformed API key: expected mmk_<12 characters>_<32 characters>")
        }
        let prefix = "\(APIKeySecret.scheme)\(id)"
        let (record, verified) = try await lookup(id)
        guard let record,
            verified.map({ APIKeySecret.equal($0, presented) }) == true
                || APIKeySecret.matches(presented, hash: record.keyHash, pepper: pepper)
        else {
            throw ModelManagerError(.unauthenticated, "API key \(prefix) is not valid")
        }
        if verified == nil { cache.withLock { $0[id]?.verified = presented } }
        if record.revokedAt != nil { throw ModelManagerError(.unauthenticated, "API key \(prefix) was revoked") }
        if let expiresAt = record.expiresAt, Double(expiresAt) / 1000 <= now.timeIntervalSince1970 {
            throw ModelManagerError(
                .unauthenticated,
                "API key \(prefix) expired at \(Date(timeIntervalSince1970: Double(expiresAt) / 1000).formatted(.iso8601))"
            )
        }
        guard record.scopes.contains(scope) else {
            throw ModelManagerError(
                .permissionDenied,
                "API key \(prefix) lacks scope '\(scope.rawValue)' (it has: "
                    + "\(record.scopes.sorted().map(\.rawValue).joined(separator: ", ")))")
        }
        return record
    }

    private func lookup(_ id: String) async throws(ModelManagerError) -> (APIKeyRecord?, verified: String?) {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[id] }), now - cached.fetched < cacheLifetime {
            return (cached.record, cached.verified)
        }
        let record: APIKeyRecord?
        do {
            record = try await store.find(id: id)
        } catch {
            throw ModelManagerError(.unavailable, "cannot check the API key: the key database is unavailable")
        }
        cache.withLock { cache in
            if cache.count >= maximumCachedKeys {
                cache = cache.filter { now - $0.value.fetched < cacheLifetime }
                if cache.count >= maximumCachedKeys, let any = cache.keys.first { cache[any] = nil }
            }
            cache[id] = Lookup(record: record, fetched: now)
        }
        return (record, nil)
    }
}
