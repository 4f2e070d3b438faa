import ModelManagerCore

/// Turns one upstream's server-sent events into chunks. One decoder per upstream stream
/// format; `StreamDriver` runs any of them.
protocol StreamDecoder {
    /// The chunk to emit for this event, if any. Throws the upstream's in-stream error.
    mutating func decode(_ event: SSEParser.Event) throws(ModelManagerError) -> ResponseChunk?
    /// Whether the upstream said the answer is complete (a stream cut before that is a failure).
    var isComplete: Bool { get }
    /// The completion: the usage, and the raw event that closed the answer.
    var finalChunk: ResponseChunk { get }
}

extension UpstreamHTTP {
    /// Streams the deltas of `response` through `decoder` to `emit`; returns the completion.
    func drive(
        _ decoder: inout some StreamDecoder, response: UpstreamResponse, provider: Provider,
        context: InvocationContext, emit: ChunkSink
    ) async throws -> ResponseChunk {
        do {
            try await readEvents(response, provider: provider, context: context) { events in
                var deltas: [ResponseChunk] = []
                for event in events where !decoder.isComplete {
                    if let delta = try decoder.decode(event) { deltas.append(delta) }
                }
                if !deltas.isEmpty { try await emit(deltas) }
                return !decoder.isComplete
            }
            guard decoder.isComplete else {
                throw ModelManagerError(.unavailable, "\(provider) stream ended before the answer was complete")
            }
        } catch var failure as ModelManagerError {
            // What the upstream counted before failing is still billed.
            if failure.reportedUsage == nil { failure.reportedUsage = decoder.finalChunk.usage }
            throw failure
        }
        return decoder.finalChunk
    }
}

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
    static let transportKeys: Set<String> = [
        "extra_headers", "extra_query", "extra_body", "timeout", "stream", "stream_options",
    ]

    /// `extra` without the transport keys, `extra_body` merged in, integral doubles made integers for `integerKeys`.
    static func body(from extra: [String: JSONValue], integerKeys: Set<String>, dropping: Set<String> = [])
        throws(ModelManagerError) -> [String: JSONValue]
    {
        var body: [String: JSONValue] = [:]
        for (key, value) in extra where !transportKeys.contains(key) && !dropping.contains(key) {
            body[key] = try coerced(key, value, integerKeys: integerKeys)
        }
        if case .object(let extraBody) = extra["extra_body"] {
            for (key, value) in extraBody {
                guard !gatewayBodyKeys.contains(key) else {
                    throw ModelManagerError(
                        .invalidArgument,
                        "extra_body may not set '\(key)': the gateway sets it from the request (set it in extra, where it is checked and billed)"
                    )
                }
                body[key] = try coerced(key, value, integerKeys: integerKeys)
            }
        }
        return body
    }

    /// Body keys that decide what is served and billed: the model, whether it streams, and the
    /// stream options that carry the usage.
    static let gatewayBodyKeys: Set<String> = ["model", "stream", "stream_options"]

    /// Query parameters the gateway owns: Google's `key` and `alt`, Azure's `api-version`.
    static let gatewayQueryKeys: Set<String> = ["key", "alt", "api-version"]

    /// Headers a caller may pass in `extra_headers`: provider feature flags and the caller's own
    /// `x-` headers. Never credentials, the host, framing or hop-by-hop headers, or headers that
    /// move the bill to another account (`OpenAI-Organization`, `x-goog-user-project`).
    static func isPassThroughHeader(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if ["anthropic-beta", "anthropic-version", "openai-beta", "user-agent"].contains(lowered) { return true }
        guard lowered.hasPrefix("x-"), !lowered.hasPrefix("x-goog-"), !lowered.hasPrefix("x-amz-"),
            !lowered.hasPrefix("x-ms-")
        else {
            return false
        }
        return !CredentialNames.matches(lowered)
    }

    /// A header name is an RFC 9110 token; a value has no CR, LF or NUL (no header injection).
    static func isValidHeader(name: String, value: String) -> Bool {
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        return !name.isEmpty && name.utf8.allSatisfy(tokenCharacters.contains)
            && !value.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }

    static func coerced(_ key: String, _ value: JSONValue, integerKeys: Set<String>) throws(ModelManagerError)
        -> JSONValue
    {
        guard integerKeys.contains(key), !value.isNull else { return value }
        guard let integer = value.integerValue else {
            throw ModelManagerError(.invalidArgument, "parameter '\(key)' must be an integer, got \(value.jsonText)")
        }
        return .integer(integer)
    }

    /// `extra_headers` as HTTP headers; a header outside `isPassThroughHeader` is refused by name.
    static func headers(from extra: [String: JSONValue]) throws(ModelManagerError) -> [(String, String)] {
        guard case .object(let extraHeaders) = extra["extra_headers"] else { return [] }
        var headers: [(String, String)] = []
        for name in extraHeaders.keys.sorted() {
            guard let value = extraHeaders[name], let text = value.stringValue ?? value.integerValue.map(String.init)
            else { continue }
            guard isValidHeader(name: name, value: text) else {
                throw ModelManagerError(
                    .invalidArgument,
                    "extra_headers '\(name.prefix(64))' is not a valid HTTP header (name a token, value without CR, LF or NUL)"
                )
            }
            guard isPassThroughHeader(name) else {
                throw ModelManagerError(
                    .invalidArgument,
                    "extra_headers may not set '\(name)': only x- headers (not credentials) and anthropic-beta, anthropic-version, openai-beta, user-agent pass"
                )
            }
            headers.append((name, text))
        }
        return headers
    }

    /// `name` as one path segment of an upstream URL (a Google model, an Azure deployment):
    /// letters, digits and `. _ - ~ @` only, so no caller text can reach another path or query.
    static func pathSegment(_ name: String, parameter: String) throws(ModelManagerError) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-~@".utf8)
        guard !name.isEmpty, name.utf8.count <= 256, name.utf8.allSatisfy(allowed.contains), name != ".", name != ".."
        else {
            throw ModelManagerError(
                .invalidArgument,
                "\(parameter) '\(name.prefix(128))' is not a valid name: use letters, digits and . _ - ~ @ (at most 256)"
            )
        }
        return name
    }

    /// `url` with `extra_query` and `fixed` query items appended.
    static func url(_ url: String, extra: [String: JSONValue], fixed: [(String, String)] = []) throws(ModelManagerError)
        -> String
    {
        var items = fixed
        if case .object(let query) = extra["extra_query"] {
            for key in query.keys.sorted() {
                guard let value = query[key], !value.isNull else { continue }
                guard !gatewayQueryKeys.contains(key.lowercased()) else {
                    throw ModelManagerError(.invalidArgument, "extra_query may not set '\(key)': the gateway sets it")
                }
                items.append((key, value.stringValue ?? value.jsonText))
            }
        }
        guard !items.isEmpty else { return url }
        let encoded = items.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
        return url + (url.contains("?") ? "&" : "?") + encoded
    }

    /// The caller's `timeout` (seconds, as in the OpenAI SDK), bounded above by the deadline;
    /// a number that is not positive is refused.
    static func timeout(from extra: [String: JSONValue]) throws(ModelManagerError) -> Duration? {
        guard let value = extra["timeout"], !value.isNull else { return nil }
        guard let seconds = value.doubleValue, seconds > 0, let timeout = Duration.clampedSeconds(seconds) else {
            throw ModelManagerError(
                .invalidArgument, "parameter 'timeout' must be a positive number of seconds, got \(value.jsonText)")
        }
        return timeout
    }

    /// A required non-empty array (or, where `allowString`, string) parameter.
    static func requireContent(_ key: String, in extra: [String: JSONValue], allowString: Bool = false)
        throws(ModelManagerError)
    {
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
