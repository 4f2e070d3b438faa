internal import CJWT
import Foundation
public import ModelManagerCore

/// RS256 tokens, for Google service accounts: the gateway signs assertions it exchanges for
/// access tokens; the emulator checks them.
public enum RS256 {
    /// A signed token with `claims`; throws when the key is not a PEM RSA private key.
    public static func sign(claims: [String: JSONValue], privateKeyPEM: String) throws(ModelManagerError) -> String {
        var jwt: OpaquePointer?
        guard jwt_new(&jwt) == 0, let jwt else {
            throw ModelManagerError(.internalError, "libjwt could not allocate a token")
        }
        defer { jwt_free(jwt) }
        guard jwt_add_grants_json(jwt, JSONValue.object(claims).jsonText) == 0 else {
            throw ModelManagerError(.internalError, "libjwt rejected the assertion claims")
        }
        let key = Array(privateKeyPEM.utf8)
        let status = key.withUnsafeBufferPointer { jwt_set_alg(jwt, JWT_ALG_RS256, $0.baseAddress, Int32($0.count)) }
        guard status == 0, let encoded = jwt_encode_str(jwt) else {
            throw ModelManagerError(
                .failedPrecondition, "the service account's private key is not a usable PEM RSA key")
        }
        defer { free(encoded) }
        return String(cString: encoded)
    }

    /// The claims of `token` when it is RS256 and signed by `publicKeyPEM`'s key.
    public static func verify(_ token: String, publicKeyPEM: String) -> [String: JSONValue]? {
        var jwt: OpaquePointer?
        let key = Array(publicKeyPEM.utf8)
        let result = key.withUnsafeBufferPointer { jwt_decode(&jwt, token, $0.baseAddress, Int32($0.count)) }
        guard result == 0, let jwt else { return nil }
        defer { jwt_free(jwt) }
        guard jwt_get_alg(jwt) == JWT_ALG_RS256, let grants = jwt_get_grants_json(jwt, nil) else { return nil }
        defer { free(grants) }
        return try? JSONValue(parsing: String(cString: grants)).objectValue
    }
}
