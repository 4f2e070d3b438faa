import ModelManagerCore
import Testing

@Suite struct SSEParserTests {
    @Test func eventsSplitAcrossArbitraryChunks() {
        let stream = "data: {\"a\":1}\n\n: comment\n\nevent: message_start\ndata: one\ndata: two\n\ndata: [DONE]\n\n"
        let bytes = Array(stream.utf8)
        for size in [1, 2, 3, 7, bytes.count] {
            var parser = SSEParser()
            var events: [SSEParser.Event] = []
            var index = 0
            while index < bytes.count {
                events += parser.feed(bytes[index..<min(index + size, bytes.count)])
                index += size
            }
            #expect(events == [
                .init(name: nil, data: "{\"a\":1}"),
                .init(name: "message_start", data: "one\ntwo"),
                .init(name: nil, data: "[DONE]"),
            ])
            #expect(!parser.hasPartialEvent)
        }
    }

    @Test func crlfLineEndings() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: x\r\n\r\ndata:y\r\r".utf8)) == [.init(name: nil, data: "x"), .init(name: nil, data: "y")])
    }

    @Test func cutStreamLeavesAPartialEvent() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: {\"a\"".utf8)).isEmpty)
        #expect(parser.hasPartialEvent)
    }
}
