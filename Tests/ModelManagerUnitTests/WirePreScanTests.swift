import ModelManagerCore
import ModelManagerWire
import Testing

/// Bytes that protobuf-c must never see: nesting that overflows its recursion, NUL inside
/// strings (it would cut them), and value counts that amplify memory.
@Suite struct WirePreScanTests {
    /// Protobuf building blocks, written by hand so that the test does not recurse either.
    static func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value)
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }

    static func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(payload.count) + payload
    }
    static func string(_ number: Int, _ text: [UInt8]) -> [UInt8] { field(number, text) }

    /// A request item whose `extra` is `{"x": value}`.
    static func item(extraValue value: [UInt8], orgID: [UInt8] = Array("acme".utf8)) -> [UInt8] {
        let entry = string(1, Array("x".utf8)) + field(2, value)
        return string(1, Array("openai".utf8)) + string(5, orgID) + field(10, field(1, entry))
    }

    static func nestedLists(depth: Int) -> [UInt8] {
        var value: [UInt8] = []
        for _ in 0..<depth { value = field(6, field(1, value)) }
        return value
    }

    static func decode(_ bytes: [UInt8]) throws -> ModelRequest {
        try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in try ModelServiceCodec.decodeRequestItem(buffer)
        }
    }

    @Test func nestingDeeperThanTheLimitIsRefusedBeforeDecoding() throws {
        // 4,500 levels overflowed protobuf-c's recursion on a worker thread's stack.
        let error = #expect(throws: ModelManagerError.self) {
            try Self.decode(Self.item(extraValue: Self.nestedLists(depth: 4_500)))
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("nests deeper than 64 levels") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("extra.x[0][0]") == true, "\(error?.message ?? "")")
        // Within the limit (extra itself is level 1) it decodes.
        let decoded = try Self.decode(Self.item(extraValue: Self.nestedLists(depth: 63)))
        #expect(decoded.extra["x"]?.arrayValue != nil)
    }

    @Test func theDepthLimitIsConfigurable() {
        let bytes = Self.item(extraValue: Self.nestedLists(depth: 10))
        let error = #expect(throws: ModelManagerError.self) {
            try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
                try ModelServiceCodec.decodeRequestItem(buffer, limits: WireLimits(maximumDepth: 8))
            }
        }
        #expect(error?.message.contains("deeper than 8 levels") == true)
    }

    @Test func nulInAFieldIsRefusedNamingIt() {
        let error = #expect(throws: ModelManagerError.self) {
            try Self.decode(Self.item(extraValue: [], orgID: Array("ac\u{0}me".utf8)))
        }
        #expect(error?.message == "field 'org_id' contains a NUL character")
    }

    @Test func nulDeepInExtraIsNamedByItsPath() {
        // extra = {"x": [{"content": "a\0b"}]}
        let inner = Self.field(
            1, Self.string(1, Array("content".utf8)) + Self.field(2, Self.string(3, [0x61, 0, 0x62])))
        let list = Self.field(6, Self.field(1, Self.field(5, inner)))
        let error = #expect(throws: ModelManagerError.self) { try Self.decode(Self.item(extraValue: list)) }
        #expect(error?.message == "field 'extra.x[0].content' contains a NUL character", "\(error?.message ?? "")")
    }

    @Test func nulInABatchItemNamesTheItem() {
        let good = Self.item(extraValue: [])
        let bad = Self.item(extraValue: [], orgID: [0x6F, 0])
        let batch = Self.field(1, good) + Self.field(1, good) + Self.field(1, bad)
        let error = #expect(throws: ModelManagerError.self) {
            try batch.withUnsafeBytes { buffer throws(ModelManagerError) in
                try ModelServiceCodec.decodeBatchRequest(buffer)
            }
        }
        #expect(error?.message == "field 'items[2].org_id' contains a NUL character", "\(error?.message ?? "")")
    }

    @Test func millionsOfEmptyValuesAreRefused() {
        // An 8 MB message of 4 M empty Values grew the server by 330 MB; the count is bounded.
        let emptyValue = Self.field(1, [])
        let list = Self.field(6, [UInt8]((0..<250_000).flatMap { _ in emptyValue }))
        let error = #expect(throws: ModelManagerError.self) { try Self.decode(Self.item(extraValue: list)) }
        #expect(error?.message.contains("more than 200000 values") == true, "\(error?.message ?? "")")
    }

    @Test func truncatedBytesAreMalformedNotACrash() {
        var bytes = Self.item(extraValue: Self.nestedLists(depth: 3))
        bytes.removeLast(2)
        let error = #expect(throws: ModelManagerError.self) { try Self.decode(bytes) }
        #expect(error?.message.contains("does not decode as model_service.ModelRequestItem") == true)
    }
}
