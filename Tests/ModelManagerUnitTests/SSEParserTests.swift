import ModelManagerCore
import Testing

@Suite struct SSEParserTests {
    @Test func eventsSplitAcrossArbitraryChunks() throws {
        let stream = "data: {\"a\":1}\n\n: comment\n\nevent: message_start\ndata: one\ndata: two\n\ndata: [DONE]\n\n"
        let bytes = Array(stream.utf8)
        for size in [1, 2, 3, 7, bytes.count] {
            var parser = SSEParser()
            var events: [SSEParser.Event] = []
            var index = 0
            while index < bytes.count {
                events += try parser.feed(bytes[index..<min(index + size, bytes.count)])
                index += size
            }
            #expect(
                events == [
                    .init(name: nil, data: "{\"a\":1}"),
                    .init(name: "message_start", data: "one\ntwo"),
                    .init(name: nil, data: "[DONE]"),
                ])
            #expect(!parser.hasPartialEvent)
        }
    }

    @Test func crlfLineEndings() throws {
        var parser = SSEParser()
        #expect(
            try parser.feed(Array("data: x\r\n\r\ndata:y\r\r".utf8)) == [
                .init(name: nil, data: "x"), .init(name: nil, data: "y"),
            ])
    }

    @Test func crlfPairsSplitAcrossChunksEndOneLine() throws {
        let bytes = Array("event: a\r\ndata: x\r\n\r\ndata: y\r\n\r\n".utf8)
        for split in 1..<bytes.count {
            var parser = SSEParser()
            let events = try parser.feed(bytes[..<split]) + parser.feed(bytes[split...])
            #expect(events == [.init(name: "a", data: "x"), .init(name: nil, data: "y")], "split at \(split)")
        }
    }

    @Test func cutStreamLeavesAPartialEvent() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array("data: {\"a\"".utf8)).isEmpty)
        #expect(parser.hasPartialEvent)
    }

    @Test func aLineOrEventPastTheLimitIsRefusedNotBuffered() throws {
        var parser = SSEParser(maximumEventBytes: 64)
        #expect(throws: SSEParser.EventTooLarge.self) { try parser.feed([UInt8](repeating: 0x61, count: 100)) }
        var manyLines = SSEParser(maximumEventBytes: 64)
        #expect(throws: SSEParser.EventTooLarge.self) {
            for _ in 0..<20 { _ = try manyLines.feed(Array("data: 0123456789\n".utf8)) }
        }
        var fits = SSEParser(maximumEventBytes: 64)
        #expect(try fits.feed(Array("data: ok\n\n".utf8)) == [.init(name: nil, data: "ok")])
    }
}
