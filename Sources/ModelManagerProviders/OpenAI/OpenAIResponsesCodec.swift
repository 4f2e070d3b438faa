import ModelManagerCore

/// The Responses API: request body, answer and its typed SSE events.
enum OpenAIResponsesCodec {
    static let integerKeys: Set<String> = ["max_output_tokens", "top_logprobs", "max_tool_calls"]

    static func body(_ request: ModelRequest, model: String?) throws(ModelManagerError) -> JSONValue {
        if request.extra["prompt"] == nil {
            try RequestParameters.requireContent("input", in: request.extra, allowString: true)
        }
        var body = try RequestParameters.body(from: request.extra, integerKeys: integerKeys)
        if let model { body["model"] = .string(model) }
        body["stream"] = .bool(request.stream)
        return .object(body)
    }

    /// The text of every `output_text` part (the SDKs' `output_text`).
    static func text(of response: JSONValue) -> String {
        var text = ""
        for item in response["output"]?.arrayValue ?? [] where item["type"]?.stringValue == "message" {
            for part in item["content"]?.arrayValue ?? [] where part["type"]?.stringValue == "output_text" {
                text += part["text"]?.stringValue ?? ""
            }
        }
        return text
    }

    static func answer(_ answer: UpstreamJSON, provider: Provider) throws(ModelManagerError) -> ResponseChunk {
        let json = answer.value
        if let failure = reportedError(in: json, provider: provider) { throw failure }
        return ResponseChunk(
            content: text(of: json), usage: OpenAIUsage.responses(json["usage"]), rawResponse: answer.raw)
    }

    struct StreamDecoder: ModelManagerProviders.StreamDecoder {
        let provider: Provider
        private(set) var isComplete = false
        private var final: JSONValue?

        init(provider: Provider) { self.provider = provider }

        mutating func decode(_ event: SSEParser.Event) throws(ModelManagerError) -> ResponseChunk? {
            let payload = try parseEventJSON(event.data, provider: provider)
            switch payload["type"]?.stringValue ?? event.name ?? "" {
            case "response.output_text.delta":
                let delta = payload["delta"]?.stringValue ?? ""
                return delta.isEmpty ? nil : ResponseChunk(content: delta, rawResponse: RawJSON(validated: event.data))
            case "response.function_call_arguments.delta", "response.output_item.added", "response.output_item.done":
                return ResponseChunk(content: "", rawResponse: RawJSON(validated: event.data))
            case "response.completed", "response.incomplete":
                final = payload["response"]
                isComplete = true
                return nil
            case "response.failed":
                let message = payload["response"]?["error"]?["message"]?.stringValue ?? "the response failed"
                throw ModelManagerError(.unavailable, "\(provider) reported an error: \(message)")
            case "error":
                let message =
                    payload["message"]?.stringValue ?? payload["error"]?["message"]?.stringValue ?? payload.jsonText
                throw ModelManagerError(.unavailable, "\(provider) reported an error: \(message)")
            default:
                return nil
            }
        }

        var finalChunk: ResponseChunk {
            ResponseChunk(
                content: "", usage: OpenAIUsage.responses(final?["usage"]), rawResponse: final.map(RawJSON.init))
        }
    }
}
