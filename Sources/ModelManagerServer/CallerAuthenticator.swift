import ModelManagerAuth
import ModelManagerCore
import ModelManagerUsage

/// Who is calling: an API key (gRPC metadata `api-key` or `apikey`, or `Bearer mmk_…` on either
/// face) or a client JWT (`Bearer <JWT>`, as the Python SDK sends it).
struct CallerAuthenticator: Sendable {
    let tokens: JWTVerifier
    /// Nil when the server has no API key pepper configured: keys are then refused.
    let keys: APIKeyVerifier?

    struct Caller: Sendable {
        /// Kept with each usage record: the key's `key:<id>`, or the token's subject.
        var subject: String
        var grant: CallerGrant?
        /// The token's `org_id` and `user_id` claims (nil for an API key, whose grant names them).
        var orgID: String? = nil
        var userID: String? = nil
    }

    /// Refused callers are counted in the audit log and the metrics.
    let auditor: Auditor
    let metrics: GatewayMetrics

    /// `address` is worked out only for a refused caller.
    func authenticate(authorization: String?, apiKey: String?, address: @autoclosure () -> String?)
        async throws(ModelManagerError) -> Caller
    {
        let presented = apiKey ?? Self.bearerKey(authorization)
        do {
            return try await authenticate(authorization: authorization, presented: presented)
        } catch {
            metrics.refused(error.code == .unauthenticated ? .unauthenticated : .permission)
            auditor.denied(credential: Self.refusedCredential(presented), orgID: nil, error: error, address: address())
            throw error
        }
    }

    private func authenticate(authorization: String?, presented: String?) async throws(ModelManagerError) -> Caller {
        guard let presented else {
            let principal = try tokens.verify(authorization: authorization)
            return Caller(
                subject: principal.subject, grant: principal.grant, orgID: principal.orgID, userID: principal.userID)
        }
        guard let keys else {
            throw ModelManagerError(
                .unauthenticated, "API keys are not enabled on this server (auth.api_key_pepper is not set)")
        }
        let record = try await keys.verify(presented, scope: .invoke)
        return Caller(subject: "key:\(record.id)", grant: record.grant)
    }

    /// The API key in `Bearer mmk_…`, else nil. It runs on every call, so it looks at the UTF-8
    /// bytes: a JWT is not copied, lowercased or trimmed here.
    static func bearerKey(_ authorization: String?) -> String? {
        guard let bytes = authorization?.utf8, bytes.count > 7,
            bytes.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 })
        else { return nil }
        let token = bytes.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
        guard token.starts(with: APIKeySecret.scheme.utf8) else { return nil }
        return Substring(token).trimmingCharacters(in: .whitespaces)
    }

    /// How the audit log names a refused credential: `key:<id>` for a presented key, else `jwt`.
    static func refusedCredential(_ presented: String?) -> String {
        presented.map { "key:" + (APIKeySecret.id(of: $0) ?? "(malformed)") } ?? "jwt"
    }
}
