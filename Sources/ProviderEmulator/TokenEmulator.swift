import Foundation
import Hummingbird
import ModelManagerAuth
import ModelManagerCore
import Synchronization

/// Google's OAuth2 token endpoint for service accounts: a JWT-bearer grant whose RS256
/// assertion must be signed by the one service account this emulator trusts.
final class TokenEmulator: Sendable {
    let clientEmail: String
    let publicKeyPEM: String
    let recorder: EmulatorRecorder
    private let issued = Mutex(Set<String>())

    init(clientEmail: String, publicKeyPEM: String, recorder: EmulatorRecorder) {
        self.clientEmail = clientEmail
        self.publicKeyPEM = publicKeyPEM
        self.recorder = recorder
    }

    func isValid(_ token: String) -> Bool { issued.withLock { $0.contains(token) } }

    func exchange(_ request: Request, tokenURL: String) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        var form: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        recorder.record(.init(path: request.uri.path, headers: [:], body: .object(form.mapValues { .string($0) })))
        func refuse(_ description: String) -> Response {
            EmulatorHTTP.json(400, ["error": "invalid_grant", "error_description": .string(description)])
        }
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"]
        else {
            return EmulatorHTTP.json(
                400, ["error": "unsupported_grant_type", "error_description": "Invalid grant_type"])
        }
        guard let claims = RS256.verify(assertion, publicKeyPEM: publicKeyPEM) else {
            return refuse("Invalid JWT Signature.")
        }
        guard claims["iss"]?.stringValue == clientEmail else { return refuse("Invalid email or User ID") }
        guard claims["aud"]?.stringValue == tokenURL else {
            return refuse(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
            )
        }
        guard let expiry = claims["exp"]?.integerValue, expiry > Int64(Date().timeIntervalSince1970) else {
            return refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        }
        let token = "ya29.emulator-" + UUIDText.random()
        issued.withLock { _ = $0.insert(token) }
        return EmulatorHTTP.json(200, ["access_token": .string(token), "expires_in": 3599, "token_type": "Bearer"])
    }
}
