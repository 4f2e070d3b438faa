import ModelManagerCore

/// Chat Completions: request body, answer and SSE stream (OpenAI and every compatible server).
enum OpenAIChatCodec {
    static let integerKeys: Set<String> = ["max_tokens", "max_completion_tokens", "n", "seed", "top_logprobs"]

    static func body(_ request: ModelRequest, model: String?) throws(ModelManagerError) -> JSONValue {
        try RequestParameters.requireContent("messages", in: request.extra)
        var body = try RequestParameters.body(from: request.extra, integerKeys: integerKeys)
        if let model { body["model"] = .string(model) }
        body["stream"] = .bool(request.stream)
        if request.stream {
            // Ask for usage on the final chunk, keeping any other stream options the caller set.
            var options = request.extra["stream_options"]?.objectValue ?? [:]
            options["include_usage"] = true
            body["stream_options"] = .object(options)
        }
        return .object(body)
    }

    static func answer(_ answer: UpstreamJSON, provider: Provider) throws(ModelManagerError) -> ResponseChunk {
        let json = answer.value
        if let failure = reportedError(in: json, provider: provider) { throw failure }
        let content = json["choices"]?[0]?["message"]?["content"]?.stringValue ?? ""
        return ResponseChunk(content: content, usage: OpenAIUsage.chat(json["usage"]), rawResponse: answer.raw)
    }

    struct StreamDecoder: ModelManagerProviders.StreamDecoder {
        let provider: Provider
        private(set) var isComplete = false
        private var usage: Usage?
        private var lastEvent: RawJSON?
        private var finishReason: String?

        init(provider: Provider) { self.provider = provider }

        mutating func decode(_ event: SSEParser.Event) throws(ModelManagerError) -> ResponseChunk? {
            if event.data == "[DONE]" {
                isComplete = true
                return nil
            }
            let chunk = try parseEventJSON(event.data, provider: provider)
            if let failure = reportedError(in: chunk, provider: provider) { throw failure }
            if let reported = OpenAIUsage.chat(chunk["usage"]) { usage = reported }
            lastEvent = RawJSON(validated: event.data)
            if let reason = chunk["choices"]?[0]?["finish_reason"]?.stringValue { finishReason = reason }
            let delta = chunk["choices"]?[0]?["delta"]
            let content = delta?["content"]?.stringValue ?? ""
            let carriesMore = delta?["tool_calls"] != nil || delta?["function_call"] != nil
            return content.isEmpty && !carriesMore ? nil : ResponseChunk(content: content, rawResponse: lastEvent)
        }

        var finalChunk: ResponseChunk {
            var chunk = ResponseChunk(content: "", usage: usage, rawResponse: lastEvent)
            chunk.finishReason = finishReason
            return chunk
        }
    }
}
