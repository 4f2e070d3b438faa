import Foundation
public import ModelManagerCore

/// An API key as handed to its holder once: `mmk_<id>_<secret>`. The server keeps only the id
/// (the visible prefix) and an HMAC-SHA256 of the whole key under the server's pepper, so a
/// stolen database alone cannot be turned into working keys.
public struct APIKeySecret: Sendable {
    public static let scheme = "mmk_"
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// The key's id, which is also its visible prefix (`mmk_<id>`).
    public let id: String
    public let key: Secret

    /// A new key: 12 random characters of id and 32 of secret (190 bits).
    public static func generate(id: String? = nil) -> APIKeySecret {
        let id = id ?? random(12)
        return APIKeySecret(id: id, key: Secret("\(scheme)\(id)_\(random(32))"))
    }

    /// The id of a presented key, or nil when the text is not shaped like one of ours.
    public static func id(of presented: String) -> String? {
        guard presented.hasPrefix(scheme) else { return nil }
        let parts = presented.dropFirst(scheme.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 12, parts[1].count == 32 else { return nil }
        return String(parts[0])
    }

    /// Hex HMAC-SHA256 of the key under the pepper.
    public static func hash(_ presented: String, pepper: Secret) -> String {
        KeyedHash.hex(presented, key: pepper)
    }

    public static func matches(_ presented: String, hash expected: String, pepper: Secret) -> Bool {
        equal(hash(presented, pepper: pepper), expected)
    }

    /// Compares in time independent of where the texts differ, so that timing tells nothing of a key.
    public static func equal(_ left: String, _ right: String) -> Bool {
        let left = Array(left.utf8)
        let right = Array(right.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func random(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        // 62 does not divide 256: draw below 248 (4 × 62) so each character is equally likely.
        var characters: [UInt8] = []
        characters.reserveCapacity(count)
        while characters.count < count {
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < 248 { characters.append(alphabet[Int(byte % 62)]) }
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
