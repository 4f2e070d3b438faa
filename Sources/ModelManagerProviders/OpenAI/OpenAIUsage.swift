import ModelManagerCore

/// OpenAI-style usage objects → normalized usage.
enum OpenAIUsage {
    /// Chat Completions (also DeepSeek's and Perplexity's).
    static func chat(_ usage: JSONValue?) -> Usage? {
        guard let usage, case .object = usage, let prompt = usage["prompt_tokens"]?.tokenCount else { return nil }
        // DeepSeek reports cache hits at the top level.
        let cached =
            usage["prompt_tokens_details"]?["cached_tokens"]?.tokenCount ?? usage["prompt_cache_hit_tokens"]?.tokenCount
        return Usage(
            promptTokens: prompt,
            completionTokens: usage["completion_tokens"]?.tokenCount ?? 0,
            totalTokens: usage["total_tokens"]?.tokenCount,
            cachedTokens: cached,
            reasoningTokens: usage["completion_tokens_details"]?["reasoning_tokens"]?.tokenCount)
    }

    /// The Responses API.
    static func responses(_ usage: JSONValue?) -> Usage? {
        guard let usage, case .object = usage, let input = usage["input_tokens"]?.tokenCount else { return nil }
        return Usage(
            promptTokens: input,
            completionTokens: usage["output_tokens"]?.tokenCount ?? 0,
            totalTokens: usage["total_tokens"]?.tokenCount,
            cachedTokens: usage["input_tokens_details"]?["cached_tokens"]?.tokenCount,
            reasoningTokens: usage["output_tokens_details"]?["reasoning_tokens"]?.tokenCount)
    }
}
