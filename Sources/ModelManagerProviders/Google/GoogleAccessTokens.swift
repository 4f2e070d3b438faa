public import AsyncHTTPClient
import Foundation
import ModelManagerAuth
import ModelManagerCore
import NIOCore
import Synchronization

/// OAuth2 access tokens for service accounts: a signed RS256 assertion exchanged at the
/// account's token endpoint, cached until a minute before it expires.
public final class GoogleAccessTokens: Sendable {
    static let scope = "https://www.googleapis.com/auth/cloud-platform"
    private let client: HTTPClient
    private let cache = Mutex([String: (token: String, expiresAt: ContinuousClock.Instant)]())

    public init(client: HTTPClient) { self.client = client }

    func token(for account: ServiceAccount, context: InvocationContext) async throws(ModelManagerError) -> String {
        if let cached = cache.withLock({ $0[account.clientEmail] }), cached.expiresAt - .now > .seconds(60) {
            return cached.token
        }
        let now = Int64(Date().timeIntervalSince1970)
        let assertion = try RS256.sign(
            claims: [
                "iss": .string(account.clientEmail), "scope": .string(Self.scope), "aud": .string(account.tokenURI),
                "iat": .integer(now), "exp": .integer(now + 3600),
            ],
            privateKeyPEM: account.privateKeyPEM.revealed)
        var request = HTTPClientRequest(url: account.tokenURI)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(
            ByteBuffer(
                string: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"))
        let answer: JSONValue
        let status: Int
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            status = Int(response.status.code)
            answer =
                (try? JSONValue(parsing: try await response.body.collect(upTo: 1 << 20).readableBytesView)) ?? .null
        } catch {
            throw UpstreamFailure.fromTransport(error, provider: "google token endpoint", deadlinePassed: false)
        }
        guard status == 200, let token = answer["access_token"]?.stringValue else {
            if status >= 500 || status == 429 {
                throw ModelManagerError(.unavailable, "the Google token endpoint answered HTTP \(status)")
            }
            let reason = answer["error_description"]?.stringValue ?? answer["error"]?.stringValue ?? "HTTP \(status)"
            throw ModelManagerError(
                .failedPrecondition,
                "the Google token endpoint refused service account \(account.clientEmail): \(reason)")
        }
        let lifetime = answer["expires_in"]?.integerValue ?? 3600
        cache.withLock { $0[account.clientEmail] = (token, .now + .seconds(lifetime)) }
        return token
    }
}
