import Foundation
import ModelManagerAuth
import ModelManagerCore
import Synchronization

/// The `authorization` value for a call: a minted HS256 token (cached per claims, re-minted
/// 60 s before it expires) or the configured fixed token.
package final class TokenSource: Sendable {
    private let minter: JWTMinter?
    private let fixedToken: String?
    private let payload: [String: String]?
    private let lifetime: Duration
    private let cache = Mutex([[String: String]: (token: String, expiresAt: Int64)]())

    package init(configuration: ClientConfiguration) {
        minter = configuration.jwtSecret.map { JWTMinter(secret: $0.revealed) }
        fixedToken = configuration.jwtToken?.revealed
        payload = configuration.jwtPayload
        lifetime = configuration.tokenLifetime
    }

    /// Whether a rejected token can be replaced by a fresh one.
    package var canRefresh: Bool { minter != nil }

    /// `fresh` mints a new token even when the cached one looks valid (after UNAUTHENTICATED).
    package func authorization(orgID: String, userID: String, fresh: Bool = false) -> String? {
        guard let minter else { return fixedToken.map { "Bearer \($0)" } }
        let claims = payload ?? ["org_id": orgID, "user_id": userID]
        let now = Int64(Date().timeIntervalSince1970)
        if !fresh, let cached = cache.withLock({ $0[claims] }), cached.expiresAt - now > 60 {
            return "Bearer \(cached.token)"
        }
        let minted = minter.mint(claims: claims.mapValues { .string($0) }, lifetime: lifetime)
        cache.withLock { cache in
            if cache.count > 1024 { cache.removeAll() }
            cache[claims] = minted
        }
        return "Bearer \(minted.token)"
    }
}
