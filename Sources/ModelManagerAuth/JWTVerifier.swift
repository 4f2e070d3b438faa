internal import CJWT
public import Foundation
public import ModelManagerCore
import Synchronization

/// Verifies `authorization: Bearer <JWT>` with libjwt: HS256 only, `exp` required.
///
/// libjwt 1.10 has no claim validation and `jwt_decode` accepts any HMAC algorithm with
/// the right key, so the algorithm is pinned and `exp`/`nbf` are checked here.
public struct JWTVerifier: Sendable {
    /// One client's secret: named, and optionally bound to the orgs its tokens may act for.
    public struct Client: Sendable {
        /// Nil for the plain `jwt_secrets`.
        public var name: String?
        public var secret: String
        /// Empty: any org.
        public var orgIDs: Set<String>

        public init(name: String? = nil, secret: String, orgIDs: Set<String> = []) {
            self.name = name
            self.secret = secret
            self.orgIDs = orgIDs
        }
    }

    /// Every secret accepted at once, so a secret can be rotated without downtime.
    private let clients: [(key: [UInt8], client: Client)]
    public let leeway: Duration
    /// Tokens already verified: clients reuse one token for up to an hour, so the signature
    /// check and claim parsing run once per token, not once per call. Expiry is still checked.
    private let verified = VerifiedTokens()

    public init(clients: [Client], leeway: Duration = .seconds(30)) {
        precondition(!clients.isEmpty, "a JWT verifier needs at least one secret")
        self.clients = clients.map { (Array($0.secret.utf8), $0) }
        self.leeway = leeway
    }

    public init(secrets: [String], leeway: Duration = .seconds(30)) {
        self.init(clients: secrets.map { Client(secret: $0) }, leeway: leeway)
    }

    /// The principal of a valid token, or UNAUTHENTICATED saying what is wrong.
    public func verify(authorization: String?, now: Date = Date()) throws(ModelManagerError) -> Principal {
        if let authorization, let principal = verified.lookup(authorization),
            Double(principal.expiresAt) + Double(leeway.components.seconds) >= now.timeIntervalSince1970
        {
            return principal
        }
        let principal = try verifyUncached(authorization: authorization, now: now)
        verified.store(authorization!, principal)
        return principal
    }

    private func verifyUncached(authorization: String?, now: Date) throws(ModelManagerError) -> Principal {
        guard let authorization, !authorization.isEmpty else {
            throw Self.failure("missing authorization metadata: expected 'Bearer <JWT>'")
        }
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw Self.failure("authorization is not a Bearer token")
        }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, !segments[0].isEmpty, !segments[1].isEmpty else {
            throw Self.failure("malformed token: expected three dot-separated base64url segments")
        }
        guard let headerBytes = Base64URL.decode(segments[0]), let header = try? JSONValue(parsing: headerBytes),
            let algorithm = header["alg"]?.stringValue
        else {
            throw Self.failure("malformed token: header is not base64url JSON with an 'alg'")
        }
        guard algorithm == "HS256" else {
            throw Self.failure("token algorithm '\(algorithm)' is not accepted; only HS256")
        }
        guard let (claims, client) = decodeWithAnySecret(token) else {
            throw Self.failure("token signature does not match any accepted secret")
        }
        guard let expiry = claims["exp"]?.integerValue else {
            throw Self.failure("token has no integer 'exp' claim")
        }
        let leewaySeconds = Double(leeway.components.seconds)
        let nowSeconds = now.timeIntervalSince1970
        if Double(expiry) + leewaySeconds < nowSeconds {
            let expired = Date(timeIntervalSince1970: Double(expiry)).formatted(.iso8601)
            throw Self.failure("token expired at \(expired)")
        }
        if let notBefore = claims["nbf"]?.integerValue, Double(notBefore) - leewaySeconds > nowSeconds {
            throw Self.failure(
                "token is not valid before \(Date(timeIntervalSince1970: Double(notBefore)).formatted(.iso8601))")
        }
        return Principal(claims: claims, expiresAt: expiry, client: client.name, clientOrgIDs: client.orgIDs)
    }

    private func decodeWithAnySecret(_ token: String) -> ([String: JSONValue], Client)? {
        for (secret, client) in clients {
            var jwt: OpaquePointer?
            let result = secret.withUnsafeBufferPointer { key in
                jwt_decode(&jwt, token, key.baseAddress, Int32(key.count))
            }
            guard result == 0, let jwt else { continue }
            defer { jwt_free(jwt) }
            guard jwt_get_alg(jwt) == JWT_ALG_HS256, let grants = jwt_get_grants_json(jwt, nil) else { continue }
            defer { free(grants) }
            guard let claims = try? JSONValue(parsing: String(cString: grants)).objectValue else { return nil }
            return (claims, client)
        }
        return nil
    }

    private static func failure(_ message: String) -> ModelManagerError {
        ModelManagerError(.unauthenticated, message)
    }
}

/// A bounded map of verified `authorization` values to their principals.
final class VerifiedTokens: Sendable {
    private let tokens = Mutex([String: Principal]())
    static let capacity = 10_000

    func lookup(_ authorization: String) -> Principal? { tokens.withLock { $0[authorization] } }

    func store(_ authorization: String, _ principal: Principal) {
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity { tokens.removeAll(keepingCapacity: true) }
            tokens[authorization] = principal
        }
    }
}
