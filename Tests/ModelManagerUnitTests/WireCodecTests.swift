import ModelManagerCore
import ModelManagerWire
import Testing

@Suite struct WireCodecTests {
    @Test func requestItemRoundTripsWithPresence() throws {
        let request = ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, stream: true, orgID: "o", userID: "u",
            clientType: "c", priority: nil, customID: "id-1", region: "",
            extra: [
                "model": "gpt-4o-mini", "max_tokens": 64, "messages": [["role": "user", "content": "hé"]], "flag": true,
                "none": nil,
            ])
        let bytes = ModelServiceCodec.encodeRequestItem(request).bytes
        let decoded = try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
            try ModelServiceCodec.decodeRequestItem(buffer)
        }
        #expect(decoded.customID == "id-1")
        #expect(decoded.region == "")
        #expect(decoded.priority == nil)
        #expect(decoded.stream)
        // Struct numbers are doubles.
        #expect(decoded.extra["max_tokens"] == .double(64))
        #expect(decoded.extra["messages"]?[0]?["content"] == "hé")
        #expect(decoded.extra["none"] == .null)
    }

    @Test func garbageDoesNotDecode() {
        let error = #expect(throws: ModelManagerError.self) {
            try [UInt8]([0xFF, 0xFF, 0xFF, 0x0F]).withUnsafeBytes { buffer throws(ModelManagerError) in
                try ModelServiceCodec.decodeRequestItem(buffer)
            }
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("model_service.ModelRequestItem") == true)
    }

    @Test func invalidUTF8IsRefusedNamingTheField() {
        // field 1 (provider), length 2, bytes FF FE
        let error = #expect(throws: ModelManagerError.self) {
            try [UInt8]([0x0A, 0x02, 0xFF, 0xFE]).withUnsafeBytes { buffer throws(ModelManagerError) in
                try ModelServiceCodec.decodeRequestItem(buffer)
            }
        }
        #expect(error?.message.contains("'provider' is not valid UTF-8") == true)
    }

    @Test func invalidUTF8DeepInExtraIsNamedByItsPath() {
        let request = ModelRequest(provider: .openai, extra: ["messages": [["role": "user", "content": "QQQQ"]]])
        var bytes = ModelServiceCodec.encodeRequestItem(request).bytes
        let marker = Array("QQQQ".utf8)
        let start = (0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker }!
        bytes[start] = 0xFF
        bytes[start + 1] = 0xFE
        let error = #expect(throws: ModelManagerError.self) {
            try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
                try ModelServiceCodec.decodeRequestItem(buffer)
            }
        }
        #expect(error?.message == "field 'extra.messages[0].content' is not valid UTF-8")
    }

    @Test func responseItemRoundTrips() throws {
        let item = WireResponseItem(
            content: "x", usage: #"{"total_tokens":1}"#, rawResponse: "{}", error: "", customID: nil, requestID: "r")
        let bytes = ModelServiceCodec.encodeResponseItem(item).bytes
        let decoded = try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
            try ModelServiceCodec.decodeResponseItem(buffer)
        }
        #expect(decoded == item)
    }
}
