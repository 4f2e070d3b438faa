import ModelManagerCore
import Testing

@Suite struct JSONTests {
    @Test func integersAndDoublesStayApart() throws {
        let value = try JSONValue(
            parsing: #"{"a": 7, "b": 7.0, "c": -1.5e3, "d": [true, null, "x\n\u00e9\ud83d\ude00"]}"#)
        #expect(value["a"] == .integer(7))
        #expect(value["b"] == .double(7))
        #expect(value["c"] == .double(-1500))
        #expect(value["d"]?[2] == .string("x\né😀"))
        #expect(value["b"]?.integerValue == 7)
        #expect(JSONValue.double(2.5).integerValue == nil)
    }

    /// Containers are built at their closing bracket from the parser's shared pending stacks:
    /// nesting of every shape comes out whole, and a repeated key keeps its last value.
    @Test func nestedContainersAndRepeatedKeys() throws {
        let parsed = try JSONValue(parsing: #"{"x":[1,{"y":[2,[],{}],"k":"v"},4],"z":{"w":[{"a":1,"a":2}]},"e":[]}"#)
        let expected: JSONValue = [
            "x": [1, ["y": [2, [], [:]], "k": "v"], 4], "z": ["w": [["a": 2]]], "e": [],
        ]
        #expect(parsed == expected)
        #expect(try JSONValue(parsing: "[[[]],[[1]]]") == [[[]], [[1]]])
    }

    @Test func writerRoundTripsAndEscapes() throws {
        let value: JSONValue = [
            "text": "quote \" backslash \\ tab \t ctrl \u{01}", "n": 3, "f": 0.25, "list": [nil, false],
        ]
        let text = value.jsonText
        #expect(text == #"{"f":0.25,"list":[null,false],"n":3,"text":"quote \" backslash \\ tab \t ctrl \u0001"}"#)
        #expect(try JSONValue(parsing: text) == value)
    }

    @Test func writerKeepsMultiByteTextAndEscapesEveryControlByte() throws {
        let text = "é😀 \u{1F}\r\n\u{7F} ünïcode \u{2028}"
        let written = JSONValue.string(text).jsonText
        #expect(written == #""é😀 \u001f\r\n\#u{7F} ünïcode \#u{2028}""#)
        #expect(try JSONValue(parsing: written) == .string(text))
        for byte in UInt8(0)..<0x20 {
            let control = String(decoding: [byte], as: UTF8.self)
            #expect(try JSONValue(parsing: JSONValue.string(control).jsonText) == .string(control))
        }
    }

    @Test(arguments: [Int64.min, -1, 0, 7, 1_000_000, Int64.max])
    func integersAreWrittenExactly(_ integer: Int64) {
        #expect(JSONValue.integer(integer).jsonText == String(integer))
    }

    @Test func relayedJSONIsSplicedAsItCame() {
        var output = JSONOutput()
        output.append("[")
        output.write(RawJSON(validated: #"{"b":1, "a" : [ 2 ]}"#))
        output.append("]")
        #expect(output.text == #"[{"b":1, "a" : [ 2 ]}]"#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "tru", "01", "1.", "\"\\x\"", "{} x", "\"\u{01}\"", "1e400", "[-1e999]",
    ])
    func malformedInputIsRefused(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0xFE, 0x22]) }
    }
}
