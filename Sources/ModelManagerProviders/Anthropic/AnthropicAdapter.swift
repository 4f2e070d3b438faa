public import ModelManagerCore

/// Anthropic Messages API: `x-api-key` and `anthropic-version`, JSON or its typed SSE events.
public struct AnthropicAdapter: ProviderAdapter {
    static let version = "2023-06-01"
    static let integerKeys: Set<String> = ["max_tokens", "top_k"]
    private let http: UpstreamHTTP

    public init(http: UpstreamHTTP) { self.http = http }

    public var invokeTypes: [InvokeType: InvokeType] { [.messages: .messages, .generation: .messages] }

    public func inferInvokeType(model: String, extra: [String: JSONValue]) -> InvokeType? { .messages }

    public func invoke(
        _ request: ModelRequest, as invokeType: InvokeType, target: UpstreamTarget, context: InvocationContext,
        emit: ChunkSink
    ) async throws -> ResponseChunk {
        let provider = request.provider
        try RequestParameters.requireContent("messages", in: request.extra)
        guard request.extra["max_tokens"] != nil else {
            throw ModelManagerError(
                .invalidArgument, "missing required parameter 'max_tokens' in extra (Anthropic requires it)")
        }
        var body = try RequestParameters.body(from: request.extra, integerKeys: Self.integerKeys)
        body["stream"] = .bool(request.stream)
        var headers = [("x-api-key", try target.apiKey()), ("anthropic-version", Self.version)]
        for (name, value) in try RequestParameters.headers(from: request.extra) {
            headers.removeAll { $0.0.lowercased() == name.lowercased() }
            headers.append((name, value))
        }
        let call = UpstreamHTTP.Call(
            url: try RequestParameters.url("\(target.baseURL)/v1/messages", extra: request.extra), headers: headers,
            body: .object(body),
            timeout: try RequestParameters.timeout(from: request.extra))
        let response = try await http.send(call, provider: provider, context: context)
        guard request.stream else {
            let answer = try await http.readJSON(response, provider: provider, context: context)
            let message = answer.value
            return ResponseChunk(
                content: Self.text(of: message), usage: Self.usage(message["usage"]), rawResponse: answer.raw)
        }
        var decoder = StreamDecoder(provider: provider)
        return try await http.drive(&decoder, response: response, provider: provider, context: context, emit: emit)
    }

    static func text(of message: JSONValue) -> String {
        (message["content"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "text" }.compactMap {
            $0["text"]?.stringValue
        }.joined()
    }

    /// Anthropic's `input_tokens` excludes cache reads and writes; the prompt is all three.
    static func usage(_ usage: JSONValue?) -> Usage? {
        guard let usage, let input = usage["input_tokens"]?.tokenCount else { return nil }
        let cacheRead = usage["cache_read_input_tokens"]?.tokenCount ?? 0
        let cacheWrite = usage["cache_creation_input_tokens"]?.tokenCount ?? 0
        return Usage(
            promptTokens: input + cacheRead + cacheWrite,
            completionTokens: usage["output_tokens"]?.tokenCount ?? 0,
            cachedTokens: cacheRead)
    }

    /// Errors Anthropic sends inside a stream, mapped like their HTTP twins.
    static func streamError(_ payload: JSONValue, provider: Provider) -> ModelManagerError {
        let type = payload["error"]?["type"]?.stringValue ?? ""
        let message = payload["error"]?["message"]?.stringValue ?? payload.jsonText
        let code: ModelManagerError.Code =
            switch type {
            case "invalid_request_error", "not_found_error", "request_too_large": .invalidArgument
            case "rate_limit_error": .resourceExhausted
            case "authentication_error": .failedPrecondition
            case "permission_error": .permissionDenied
            default: .unavailable
            }
        return ModelManagerError(code, "\(provider) reported an error (\(type)): \(message)")
    }

    /// `message_start` (input usage) … `content_block_delta` … `message_delta` (output usage) … `message_stop`.
    struct StreamDecoder: ModelManagerProviders.StreamDecoder {
        let provider: Provider
        private(set) var isComplete = false
        private var message: [String: JSONValue] = [:]
        private var usage: [String: JSONValue] = [:]

        init(provider: Provider) { self.provider = provider }

        mutating func decode(_ event: SSEParser.Event) throws(ModelManagerError) -> ResponseChunk? {
            let payload = try parseEventJSON(event.data, provider: provider)
            switch payload["type"]?.stringValue ?? event.name ?? "" {
            case "message_start":
                message = payload["message"]?.objectValue ?? [:]
                usage = message["usage"]?.objectValue ?? [:]
            case "content_block_delta":
                if let text = payload["delta"]?["text"]?.stringValue {
                    return text.isEmpty
                        ? nil : ResponseChunk(content: text, rawResponse: RawJSON(validated: event.data))
                }
                return ResponseChunk(content: "", rawResponse: RawJSON(validated: event.data))
            case "content_block_start":
                if payload["content_block"]?["type"]?.stringValue == "tool_use" {
                    return ResponseChunk(content: "", rawResponse: RawJSON(validated: event.data))
                }
            case "message_delta":
                // Counts here are cumulative and replace the ones from message_start.
                for (key, value) in payload["usage"]?.objectValue ?? [:] where !value.isNull { usage[key] = value }
                for (key, value) in payload["delta"]?.objectValue ?? [:] { message[key] = value }
            case "message_stop":
                isComplete = true
            case "error":
                throw AnthropicAdapter.streamError(payload, provider: provider)
            default:
                break
            }
            return nil
        }

        var finalChunk: ResponseChunk {
            var raw = message
            raw["usage"] = .object(usage)
            return ResponseChunk(
                content: "", usage: AnthropicAdapter.usage(.object(usage)), rawResponse: RawJSON(.object(raw)))
        }
    }
}
