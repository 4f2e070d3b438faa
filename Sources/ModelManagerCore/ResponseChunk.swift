/// Token counts normalized across providers.
public struct Usage: Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var cachedTokens: Int?
    public var reasoningTokens: Int?

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedTokens: Int? = nil, reasoningTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = max(totalTokens ?? 0, promptTokens + completionTokens)
        self.cachedTokens = cachedTokens
        self.reasoningTokens = reasoningTokens
    }

    /// The JSON object sent as `usage`: integers only, optional counts only when known.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "prompt_tokens": .integer(Int64(promptTokens)),
            "completion_tokens": .integer(Int64(completionTokens)),
            "total_tokens": .integer(Int64(totalTokens)),
        ]
        if let cachedTokens { object["cached_tokens"] = .integer(Int64(cachedTokens)) }
        if let reasoningTokens { object["reasoning_tokens"] = .integer(Int64(reasoningTokens)) }
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let prompt = json["prompt_tokens"]?.integerValue, let completion = json["completion_tokens"]?.integerValue else {
            return nil
        }
        self.init(
            promptTokens: Int(prompt),
            completionTokens: Int(completion),
            totalTokens: json["total_tokens"]?.integerValue.map { Int($0) },
            cachedTokens: json["cached_tokens"]?.integerValue.map { Int($0) },
            reasoningTokens: json["reasoning_tokens"]?.integerValue.map { Int($0) }
        )
    }
}

/// One item of an answer: a text delta (or the whole text), and on the last item the usage.
public struct ResponseChunk: Sendable, Hashable {
    public var content: String
    public var usage: Usage?
    public var rawResponse: JSONValue?
    /// Set only on a failed item: the reason, for the caller.
    public var error: String?

    public init(content: String = "", usage: Usage? = nil, rawResponse: JSONValue? = nil, error: String? = nil) {
        self.content = content
        self.usage = usage
        self.rawResponse = rawResponse
        self.error = error
    }
}
