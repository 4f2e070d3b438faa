import ModelManagerCore

/// OpenAI's usage object (also DeepSeek's and Perplexity's) → normalized usage.
enum OpenAIUsage {
    static func normalize(_ usage: JSONValue?) -> Usage? {
        guard let usage, case .object = usage, let prompt = usage["prompt_tokens"]?.integerValue else { return nil }
        let completion = usage["completion_tokens"]?.integerValue ?? 0
        // DeepSeek reports cache hits at the top level.
        let cached = usage["prompt_tokens_details"]?["cached_tokens"]?.integerValue ?? usage["prompt_cache_hit_tokens"]?.integerValue
        let reasoning = usage["completion_tokens_details"]?["reasoning_tokens"]?.integerValue
        return Usage(
            promptTokens: Int(prompt),
            completionTokens: Int(completion),
            totalTokens: usage["total_tokens"]?.integerValue.map { Int($0) },
            cachedTokens: cached.map { Int($0) },
            reasoningTokens: reasoning.map { Int($0) }
        )
    }
}
