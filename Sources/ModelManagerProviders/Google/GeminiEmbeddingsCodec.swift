import ModelManagerCore

/// Gemini `embedContent`: `input` (a string, as the OpenAI-shaped embeddings route takes it) or
/// `content`; `dimensions` or `outputDimensionality`. The vector comes back in the raw response
/// (`embedding.values`); AI Studio reports no token counts for it.
enum GeminiEmbeddingsCodec {
    static func body(_ extra: [String: JSONValue]) throws(ModelManagerError) -> JSONValue {
        var body: [String: JSONValue] = [:]
        if let content = extra["content"], !content.isNull {
            body["content"] = content
        } else if let input = extra["input"]?.stringValue, !input.isEmpty {
            body["content"] = ["parts": [["text": .string(input)]]]
        } else {
            throw ModelManagerError(
                .invalidArgument, "missing required parameter 'input' (a non-empty string) or 'content' in extra")
        }
        if let dimensions = (extra["dimensions"] ?? extra["outputDimensionality"])?.integerValue {
            body["outputDimensionality"] = .integer(dimensions)
        }
        if let task = extra["taskType"] { body["taskType"] = task }
        return .object(body)
    }
}
