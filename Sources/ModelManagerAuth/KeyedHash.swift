import Crypto
import Foundation
public import ModelManagerCore

/// HMAC-SHA256 in lowercase hex: API keys' stored hashes and the alert webhook's signatures.
public enum KeyedHash {
    public static func hex(_ message: String, key: Secret) -> String {
        Digest.hex(
            HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.revealed.utf8)))
        )
    }
}
