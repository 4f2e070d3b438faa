import Crypto
import Foundation
public import ModelManagerCore

/// HMAC-SHA256 in lowercase hex: API keys' stored hashes and the alert webhook's signatures.
public enum KeyedHash {
    public static func hex(_ message: String, key: Secret) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Data(message.utf8), using: SymmetricKey(data: Data(key.revealed.utf8)))
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in code {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
