import ModelManagerCore

/// Images API (`/images/generations`): one answer, the first image in `content`.
enum OpenAIImagesCodec {
    static let integerKeys: Set<String> = ["n", "output_compression", "partial_images"]

    static func body(_ request: ModelRequest, model: String?) throws(ModelManagerError) -> JSONValue {
        guard let prompt = request.extra["prompt"]?.stringValue, !prompt.isEmpty else {
            throw ModelManagerError(
                .invalidArgument, "missing required parameter 'prompt' in extra (a non-empty string)")
        }
        // Streamed partial images are not relayed: the gateway answers with the finished images.
        var body = try RequestParameters.body(
            from: request.extra, integerKeys: integerKeys,
            dropping: ["callback_url", "enable_async_task", "idempotency_key"])
        body["prompt"] = .string(prompt)
        if let model { body["model"] = .string(model) }
        return .object(body)
    }

    static func answer(_ answer: UpstreamJSON, provider: Provider) throws(ModelManagerError) -> ResponseChunk {
        let json = answer.value
        let images = json["data"]?.arrayValue ?? []
        let first = images.first.flatMap { $0["url"]?.stringValue ?? $0["b64_json"]?.stringValue } ?? ""
        let usage = json["usage"]
        return ResponseChunk(
            content: first,
            usage: Usage(
                promptTokens: Int(usage?["input_tokens"]?.integerValue ?? 0),
                completionTokens: Int(usage?["output_tokens"]?.integerValue ?? 0),
                totalTokens: usage?["total_tokens"]?.integerValue.map { Int($0) },
                imageCount: images.count),
            rawResponse: answer.raw)
    }
}
