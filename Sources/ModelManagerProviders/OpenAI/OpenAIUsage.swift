import ModelManagerCore

/// OpenAI-style usage objects → normalized usage.
enum OpenAIUsage {
    /// Chat Completions (also DeepSeek's and Perplexity's).
    static func chat(_ usage: JSONValue?) -> Usage? {
        guard let usage, case .object = usage, let prompt = usage["prompt_tokens"]?.integerValue else { return nil }
        // DeepSeek reports cache hits at the top level.
        let cached = usage["prompt_tokens_details"]?["cached_tokens"]?.integerValue ?? usage["prompt_cache_hit_tokens"]?.integerValue
        return Usage(
            promptTokens: Int(prompt),
            completionTokens: Int(usage["completion_tokens"]?.integerValue ?? 0),
            totalTokens: usage["total_tokens"]?.integerValue.map { Int($0) },
            cachedTokens: cached.map { Int($0) },
            reasoningTokens: usage["completion_tokens_details"]?["reasoning_tokens"]?.integerValue.map { Int($0) })
    }

    /// The Responses API.
    static func responses(_ usage: JSONValue?) -> Usage? {
        guard let usage, case .object = usage, let input = usage["input_tokens"]?.integerValue else { return nil }
        return Usage(
            promptTokens: Int(input),
            completionTokens: Int(usage["output_tokens"]?.integerValue ?? 0),
            totalTokens: usage["total_tokens"]?.integerValue.map { Int($0) },
            cachedTokens: usage["input_tokens_details"]?["cached_tokens"]?.integerValue.map { Int($0) },
            reasoningTokens: usage["output_tokens_details"]?["reasoning_tokens"]?.integerValue.map { Int($0) })
    }
}
