import ModelManagerCore

/// Embeddings API (`/embeddings`): no text answer; the vectors are in the raw response, the
/// input tokens in the usage.
enum OpenAIEmbeddingsCodec {
    static func body(_ request: ModelRequest) throws(ModelManagerError) -> JSONValue {
        guard let input = request.extra["input"], !input.isNull else {
            throw ModelManagerError(
                .invalidArgument, "missing required parameter 'input' in extra (a string or an array of strings)")
        }
        return .object(try RequestParameters.body(from: request.extra, integerKeys: ["dimensions"]))
    }

    static func answer(_ answer: UpstreamJSON) -> ResponseChunk {
        let usage = answer.value["usage"]
        let prompt = Int(usage?["prompt_tokens"]?.integerValue ?? 0)
        return ResponseChunk(
            usage: Usage(
                promptTokens: prompt, completionTokens: 0,
                totalTokens: usage?["total_tokens"]?.integerValue.map { Int($0) }),
            rawResponse: answer.raw)
    }
}
