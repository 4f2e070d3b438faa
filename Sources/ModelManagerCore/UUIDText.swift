/// UUIDs as the 36-character lowercase text the ledger and the logs carry, drawn straight from the
/// system's random source. Foundation's `UUID()` opens, reads and closes `/dev/urandom` for each
/// one on Linux: three system calls and a file on every call that brought no request id.
public enum UUIDText {
    /// A random (version 4) UUID.
    public static func random() -> String {
        var random = SystemRandomNumberGenerator()
        let high = random.next() & ~0xF000 | 0x4000
        let low = 0x8000_0000_0000_0000 | random.next() & 0x3FFF_FFFF_FFFF_FFFF
        return format(high, low)
    }

    /// 8-4-4-4-12 lowercase hex of the 128 bits `high` then `low`.
    public static func format(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = nibble < 16 ? high : low
                let digit = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (nibble % 16)) & 0xF)
                buffer[position] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                position += 1
            }
            return position
        }
    }
}
