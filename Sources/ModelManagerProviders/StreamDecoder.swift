public import ModelManagerCore

/// Turns one upstream's server-sent events into chunks. One decoder per upstream stream
/// format; `StreamDriver` runs any of them.
protocol StreamDecoder {
    /// The chunk to emit for this event, if any. Throws the upstream's in-stream error.
    mutating func decode(_ event: SSEParser.Event) throws(ModelManagerError) -> ResponseChunk?
    /// Whether the upstream said the answer is complete (a stream cut before that is a failure).
    var isComplete: Bool { get }
    /// The last chunk: the usage, and the raw event that closed the answer.
    var finalChunk: ResponseChunk { get }
}

extension UpstreamHTTP {
    /// Streams `response` through `decoder` to `emit`, then emits the final chunk with the usage.
    func drive(
        _ decoder: inout some StreamDecoder, response: HTTPClientResponse, provider: Provider, context: InvocationContext, emit: ChunkSink
    ) async throws {
        try await readEvents(response, provider: provider, context: context) { event in
            if let chunk = try decoder.decode(event) { try await emit(chunk) }
            return !decoder.isComplete
        }
        guard decoder.isComplete else {
            throw ModelManagerError(.unavailable, "\(provider) stream ended before the answer was complete")
        }
        var final = decoder.finalChunk
        final.isFinal = true
        try await emit(final)
    }
}

import AsyncHTTPClient

/// Parses one SSE data payload as JSON, or fails as the upstream's fault.
func parseEventJSON(_ data: String, provider: Provider) throws(ModelManagerError) -> JSONValue {
    do {
        return try JSONValue(parsing: data)
    } catch {
        throw ModelManagerError(.unavailable, "\(provider) sent a stream event that is not JSON (\(error))")
    }
}

/// An `error` object inside a 200 answer or a stream event (OpenAI-compatible servers and Gemini
/// streams do this): the upstream failed after it started answering.
func reportedError(in body: JSONValue, provider: Provider) -> ModelManagerError? {
    guard let error = body["error"], !error.isNull else { return nil }
    let message = error["message"]?.stringValue ?? error.jsonText
    return ModelManagerError(.unavailable, "\(provider) reported an error: \(message)")
}

/// Parameters shared by the request builders.
enum RequestParameters {
    /// OpenAI-SDK pass-through options that configure the HTTP request rather than the body.
    static let transportKeys: Set<String> = ["extra_headers", "extra_query", "extra_body", "timeout", "stream", "stream_options"]

    /// `extra` without the transport keys, `extra_body` merged in, integral doubles made integers for `integerKeys`.
    static func body(from extra: [String: JSONValue], integerKeys: Set<String>, dropping: Set<String> = []) throws(ModelManagerError) -> [String: JSONValue] {
        var body: [String: JSONValue] = [:]
        for (key, value) in extra where !transportKeys.contains(key) && !dropping.contains(key) {
            body[key] = try coerced(key, value, integerKeys: integerKeys)
        }
        if case .object(let extraBody) = extra["extra_body"] {
            for (key, value) in extraBody { body[key] = try coerced(key, value, integerKeys: integerKeys) }
        }
        return body
    }

    static func coerced(_ key: String, _ value: JSONValue, integerKeys: Set<String>) throws(ModelManagerError) -> JSONValue {
        guard integerKeys.contains(key), !value.isNull else { return value }
        guard let integer = value.integerValue else {
            throw ModelManagerError(.invalidArgument, "parameter '\(key)' must be an integer, got \(value.jsonText)")
        }
        return .integer(integer)
    }

    /// `extra_headers` as HTTP headers.
    static func headers(from extra: [String: JSONValue]) -> [(String, String)] {
        guard case .object(let extraHeaders) = extra["extra_headers"] else { return [] }
        return extraHeaders.keys.sorted().compactMap { name in
            guard let value = extraHeaders[name], let text = value.stringValue ?? value.integerValue.map(String.init) else { return nil }
            return (name, text)
        }
    }

    /// `url` with `extra_query` and `fixed` query items appended.
    static func url(_ url: String, extra: [String: JSONValue], fixed: [(String, String)] = []) -> String {
        var items = fixed
        if case .object(let query) = extra["extra_query"] {
            for key in query.keys.sorted() {
                guard let value = query[key], !value.isNull else { continue }
                items.append((key, value.stringValue ?? value.jsonText))
            }
        }
        guard !items.isEmpty else { return url }
        let encoded = items.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
        return url + (url.contains("?") ? "&" : "?") + encoded
    }

    /// The caller's `timeout` (seconds, as in the OpenAI SDK).
    static func timeout(from extra: [String: JSONValue]) -> Duration? {
        extra["timeout"]?.doubleValue.map { .milliseconds(Int64($0 * 1000)) }
    }

    /// A required non-empty array (or, where `allowString`, string) parameter.
    static func requireContent(_ key: String, in extra: [String: JSONValue], allowString: Bool = false) throws(ModelManagerError) {
        guard let value = extra[key] else {
            throw ModelManagerError(.invalidArgument, "missing required parameter '\(key)' in extra")
        }
        switch value {
        case .array(let list) where list.isEmpty:
            throw ModelManagerError(.invalidArgument, "parameter '\(key)' is empty: at least one item is required")
        case .string(let text) where text.isEmpty:
            throw ModelManagerError(.invalidArgument, "parameter '\(key)' is empty")
        case .array:
            return
        case .string where allowString:
            return
        default:
            let expected = allowString ? "an array or a string" : "an array"
            throw ModelManagerError(.invalidArgument, "parameter '\(key)' must be \(expected), got \(value.typeName)")
        }
    }

    private static func percentEncoded(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~".utf8)
        var output = ""
        for byte in text.utf8 {
            if allowed.contains(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

extension ResponseChunk {
    /// This chunk marked as the answer's last.
    var final: ResponseChunk {
        var chunk = self
        chunk.isFinal = true
        return chunk
    }
}
