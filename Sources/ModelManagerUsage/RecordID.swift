public import Foundation

/// Usage record ids are UUIDv7 (RFC 9562): the creation time in milliseconds leads, then 74
/// random bits. Records committed together sort together, so a commit appends to the right edge
/// of the ledger's primary-key index and of the outbox's instead of dirtying one random index
/// page per record (which is what bounded durable group commit with random v4 ids).
public enum RecordID {
    public static func make(at date: Date = Date()) -> String {
        var random = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        let high = milliseconds << 16 | 0x7000 | random.next() & 0x0FFF
        let low = 0x8000_0000_0000_0000 | random.next() & 0x3FFF_FFFF_FFFF_FFFF
        return format(high, low)
    }

    /// 8-4-4-4-12 lowercase hex, as `UUID().uuidString.lowercased()` writes it.
    static func format(_ high: UInt64, _ low: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = nibble < 16 ? high : low
                buffer[position] = digits[Int(word >> UInt64(60 - 4 * (nibble % 16)) & 0xF)]
                position += 1
            }
            return position
        }
    }
}
