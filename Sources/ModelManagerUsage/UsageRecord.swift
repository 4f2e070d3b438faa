public import Foundation
public import ModelManagerCore

/// One call's accounting: who, what, how many tokens, what it cost, how it went.
public struct UsageRecord: Sendable, Hashable {
    public var id: String
    public var requestID: String
    public var originRequestID: String?
    public var orgID: String
    public var userID: String
    public var clientType: String
    public var provider: String
    public var channel: String
    public var invokeType: String
    public var model: String
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var cachedTokens: Int
    public var reasoningTokens: Int
    public var imageCount: Int
    /// nil when the model has no known price (never a made-up zero).
    public var cost: Double?
    public var currency: String
    public var latencyMilliseconds: Int
    public var timeToFirstTokenMilliseconds: Int?
    public var stream: Bool
    public var success: Bool
    public var error: String?
    /// Caller-supplied context (request metadata), as a JSON object.
    public var metadata: [String: JSONValue]
    /// The verified token's subject, beside the request's own identity above.
    public var tokenSubject: String?
    /// `exact` or `semantic` when the answer came from the response cache (no upstream call,
    /// no tokens charged); nil for an upstream call.
    public var cacheHit: String?
    /// What the cached answer cost when it was first paid for, saved by this hit.
    public var savedCost: Double?
    public var createdAt: Date

    public init(
        id: String = RecordID.make(), requestID: String, originRequestID: String? = nil, orgID: String,
        userID: String,
        clientType: String, provider: String, channel: String, invokeType: String, model: String, usage: Usage?,
        cost: Double?,
        currency: String = "USD", latencyMilliseconds: Int, timeToFirstTokenMilliseconds: Int? = nil, stream: Bool,
        success: Bool,
        error: String? = nil, metadata: [String: JSONValue] = [:], tokenSubject: String? = nil, createdAt: Date = Date()
    ) {
        self.tokenSubject = tokenSubject
        self.id = id
        self.requestID = requestID
        self.originRequestID = originRequestID
        self.orgID = orgID
        self.userID = userID
        self.clientType = clientType
        self.provider = provider
        self.channel = channel
        self.invokeType = invokeType
        self.model = model
        promptTokens = usage?.promptTokens ?? 0
        completionTokens = usage?.completionTokens ?? 0
        totalTokens = usage?.totalTokens ?? 0
        cachedTokens = usage?.cachedTokens ?? 0
        reasoningTokens = usage?.reasoningTokens ?? 0
        imageCount = usage?.imageCount ?? 0
        self.cost = cost
        self.currency = currency
        self.latencyMilliseconds = latencyMilliseconds
        self.timeToFirstTokenMilliseconds = timeToFirstTokenMilliseconds
        self.stream = stream
        self.success = success
        self.error = error
        self.metadata = metadata
        self.createdAt = createdAt
    }

    /// The record as the admin API lists it.
    public var json: JSONValue {
        [
            "id": .string(id), "request_id": .string(requestID),
            "origin_request_id": originRequestID.map { .string($0) } ?? .null,
            "org_id": .string(orgID), "user_id": .string(userID), "client_type": .string(clientType),
            "provider": .string(provider),
            "channel": .string(channel), "invoke_type": .string(invokeType), "model": .string(model),
            "prompt_tokens": .integer(Int64(promptTokens)), "completion_tokens": .integer(Int64(completionTokens)),
            "total_tokens": .integer(Int64(totalTokens)), "cached_tokens": .integer(Int64(cachedTokens)),
            "reasoning_tokens": .integer(Int64(reasoningTokens)), "image_count": .integer(Int64(imageCount)),
            "cost": cost.map { .double($0) } ?? .null, "currency": .string(currency),
            "latency_ms": .integer(Int64(latencyMilliseconds)),
            "ttft_ms": timeToFirstTokenMilliseconds.map { .integer(Int64($0)) } ?? .null,
            "stream": .bool(stream), "success": .bool(success), "error": error.map { .string($0) } ?? .null,
            "metadata": .object(metadata), "token_subject": tokenSubject.map { .string($0) } ?? .null,
            "cache_hit": cacheHit.map { .string($0) } ?? .null, "saved_cost": savedCost.map { .double($0) } ?? .null,
            "created_at": .string(createdAt.formatted(.iso8601)),
        ]
    }

    /// The billing event for this record (`billing.usage.recorded.{product_id}`).
    public var billingEvent: JSONValue {
        let byTokens = totalTokens > 0
        return [
            "id": .string(id), "record_id": .string(id), "user_id": .string(userID), "org_id": .string(orgID),
            "product_id": .string(model),
            "usage_amount": .integer(Int64(byTokens ? totalTokens : 1)),
            "unit_type": .string(byTokens ? "token" : "request"),
            "usage_details": [
                "provider": .string(provider), "model": .string(model), "operation": .string(invokeType),
                "service_type": .string(channel),
                "input_tokens": .integer(Int64(promptTokens)), "output_tokens": .integer(Int64(completionTokens)),
                "cached_tokens": .integer(Int64(cachedTokens)), "reasoning_tokens": .integer(Int64(reasoningTokens)),
                "image_count": .integer(Int64(imageCount)), "success": .bool(success), "request_id": .string(requestID),
                "cache_hit": cacheHit.map { .string($0) } ?? .null,
                "saved_cost": savedCost.map { .double($0) } ?? .null,
            ],
            "cost": cost.map { .double($0) } ?? .null, "currency": .string(currency),
            "timestamp": .string(createdAt.formatted(.iso8601)),
        ]
    }

    /// The subject a billing event is published on.
    public var billingSubject: String { "billing.usage.recorded.\(Self.subjectToken(model))" }

    /// One subject token (and MQTT topic level) from a caller-chosen name, in a safe alphabet:
    /// letters, digits, '-' and '_' (anything else, NATS's `. * >`, MQTT's `+ #`, spaces and
    /// control characters among it, becomes '_'), at most 128 bytes.
    static func subjectToken(_ text: String) -> String {
        let cleaned = text.utf8.prefix(128).map { byte -> Character in
            let isSafe =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
            return isSafe ? Character(Unicode.Scalar(byte)) : "_"
        }
        return cleaned.isEmpty ? "unknown" : String(cleaned)
    }
}
