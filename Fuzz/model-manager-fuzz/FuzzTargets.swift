import ModelManagerAuth
import ModelManagerCore
import ModelManagerWire

/// The code that reads bytes from strangers, as libFuzzer targets: request decoding (bytes →
/// `ModelRequest`), the JSON parser, the SSE parser, the HTTP invoke mapper and JWT
/// verification. A target only has to not crash, not leak and not hang; a result it returns
/// is checked where a property is cheap (JSON round trips).
enum FuzzTarget: String, CaseIterable {
    case requestDecoding = "request-decoding"
    case json
    case sse
    case httpInvoke = "http-invoke"
    case jwt

    static let verifier = JWTVerifier(secrets: ["fuzz-secret-0123456789abcdef0123456789abcdef"])

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .requestDecoding:
            _ = try? ModelServiceCodec.decodeRequestItem(bytes)
            _ = try? ModelServiceCodec.decodeBatchRequest(bytes)
        case .json:
            guard let value = try? JSONValue(parsing: Array(bytes)) else { return }
            // What we write, we read back as the same value.
            let reparsed = try? JSONValue(parsing: value.jsonText)
            precondition(reparsed == value || Self.containsNaN(value), "JSON round trip changed \(value.jsonText)")
        case .sse:
            guard let first = bytes.first else { return }
            // The first byte picks how the rest arrives: in chunks of 1 to 256 bytes.
            let chunk = Int(first) + 1
            var parser = SSEParser(maximumEventBytes: 4096)
            var offset = 1
            while offset < bytes.count {
                let end = min(offset + chunk, bytes.count)
                guard (try? parser.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))) != nil else { return }
                offset = end
            }
        case .httpInvoke:
            guard case .object(let body)? = try? JSONValue(parsing: Array(bytes)) else { return }
            _ = try? HTTPRequestMapper.request(from: body)
            _ = try? HTTPRequestMapper.batch(from: body)
        case .jwt:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? Self.verifier.verify(authorization: text)
            _ = try? Self.verifier.verify(authorization: "Bearer " + text)
        }
    }

    private static func containsNaN(_ value: JSONValue) -> Bool {
        switch value {
        case .double(let number): number.isNaN
        case .array(let values): values.contains(where: containsNaN)
        case .object(let object): object.values.contains(where: containsNaN)
        default: false
        }
    }
}
