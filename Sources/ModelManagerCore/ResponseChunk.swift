/// Token counts normalized across providers.
public struct Usage: Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var cachedTokens: Int?
    public var reasoningTokens: Int?
    /// Images produced, for image calls.
    public var imageCount: Int?

    public init(
        promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedTokens: Int? = nil,
        reasoningTokens: Int? = nil,
        imageCount: Int? = nil
    ) {
        // Counts are clamped (TokenCount.maximum) so the total cannot overflow.
        self.promptTokens = TokenCount.clamped(Int64(promptTokens))
        self.completionTokens = TokenCount.clamped(Int64(completionTokens))
        self.totalTokens = max(TokenCount.clamped(Int64(totalTokens ?? 0)), self.promptTokens + self.completionTokens)
        self.cachedTokens = cachedTokens
        self.reasoningTokens = reasoningTokens
        self.imageCount = imageCount
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
        if let imageCount { object["image_count"] = .integer(Int64(imageCount)) }
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let prompt = json["prompt_tokens"]?.tokenCount, let completion = json["completion_tokens"]?.tokenCount
        else {
            return nil
        }
        self.init(
            promptTokens: prompt,
            completionTokens: completion,
            totalTokens: json["total_tokens"]?.tokenCount,
            cachedTokens: json["cached_tokens"]?.tokenCount,
            reasoningTokens: json["reasoning_tokens"]?.tokenCount,
            imageCount: json["image_count"]?.tokenCount
        )
    }
}

/// Which upstream answered (after failover or an alias, not necessarily the one asked for).
public struct ServedBy: Sendable, Hashable {
    public var provider: Provider
    public var channel: Channel
    public var model: String

    public init(provider: Provider, channel: Channel, model: String) {
        self.provider = provider
        self.channel = channel
        self.model = model
    }

    public var json: JSONValue {
        ["provider": .string(provider.rawValue), "channel": .string(channel.rawValue), "model": .string(model)]
    }
}

/// One item of an answer: a text delta, or the call's completion (the whole text of a non-stream
/// answer; the usage, the raw response and who served it), which is always the last item.
public struct ResponseChunk: Sendable, Hashable {
    public var content: String
    public var usage: Usage?
    /// The upstream's own JSON for this item, relayed as it came.
    public var rawResponse: RawJSON?
    /// Set only on a failed item: the reason, for the caller.
    public var error: String?
    /// Set on the item that carries the usage.
    public var servedBy: ServedBy?
    /// The cost of the call, set on the final item once it is known (nil: no price for the model).
    public var cost: Double?
    public var currency: String?
    /// `exact` or `semantic` for an answer from the response cache.
    public var cacheHit: String?
    /// For a cache hit: what the answer cost when it was paid for.
    public var savedCost: Double?
    /// Why the upstream stopped, on a stream's completion when no relayed event says it (an
    /// OpenAI stream's finish chunk carries no content, so it is not relayed as a delta).
    public var finishReason: String?

    public init(
        content: String = "", usage: Usage? = nil, rawResponse: RawJSON? = nil, error: String? = nil
    ) {
        self.content = content
        self.usage = usage
        self.rawResponse = rawResponse
        self.error = error
    }
}

extension ResponseChunk {
    /// The usage object callers get: the counts, and which upstream served the call.
    public var usageJSON: JSONValue? {
        guard let usage, case .object(var object) = usage.json else { return nil }
        if let servedBy { object["served_by"] = servedBy.json }
        if let currency {
            object["total_cost"] = cost.map { .double($0) } ?? .null
            object["currency"] = .string(currency)
        }
        if let cacheHit {
            object["cache_hit"] = .string(cacheHit)
            object["saved_cost"] = savedCost.map { .double($0) } ?? .null
        }
        return .object(object)
    }
}
