public import Foundation
import ModelManagerCore

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
        return UUIDText.format(high, low)
    }
}
