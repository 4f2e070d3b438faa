internal import CJWT
public import Foundation
public import ModelManagerCore

/// Mints HS256 tokens like the Python SDK's: `{"alg":"HS256","typ":"JWT"}` with the given claims and `exp`.
public struct JWTMinter: Sendable {
    private let secret: [UInt8]

    public init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// A token whose claims are `claims` plus `exp` = now + `lifetime`.
    public func mint(claims: [String: JSONValue], lifetime: Duration = .seconds(3600), now: Date = Date()) -> (
        token: String, expiresAt: Int64
    ) {
        let expiresAt = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        var grants = claims
        grants["exp"] = .integer(expiresAt)
        var jwt: OpaquePointer?
        guard jwt_new(&jwt) == 0, let jwt else { fatalError("jwt_new failed: out of memory") }
        defer { jwt_free(jwt) }
        precondition(jwt_add_grants_json(jwt, JSONValue.object(grants).jsonText) == 0, "libjwt rejected the claims")
        let status = secret.withUnsafeBufferPointer { key in
            jwt_set_alg(jwt, JWT_ALG_HS256, key.baseAddress, Int32(key.count))
        }
        precondition(status == 0, "libjwt rejected the HS256 key (empty secret?)")
        guard let encoded = jwt_encode_str(jwt) else { fatalError("jwt_encode_str failed") }
        defer { free(encoded) }
        return (String(cString: encoded), expiresAt)
    }
}
