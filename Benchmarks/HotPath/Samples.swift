import Foundation
import ModelManagerAuth
import ModelManagerCore
import ModelManagerUsage
import ModelManagerWire

/// Inputs shaped like the gateway benchmark's: a chat request, its answer and its stream.
enum Samples {
    static let secret = "hot-path-benchmark-secret-0123456789abcdef"

    static let request = ModelRequest(
        provider: .openai, channel: Channel("openai"), invokeType: InvokeType("chat-completions"), stream: false,
        orgID: "bench-org", userID: "bench-user", clientType: "bench",
        extra: [
            "model": "gpt-4o-mini", "temperature": 0.7, "max_tokens": 64, "user": "bench-user",
            "messages": [
                ["role": "system", "content": "You are a terse assistant."],
                ["role": "user", "content": "Say hello in five words and explain why in two sentences."],
            ],
        ])

    static let requestBytes: [UInt8] = ModelServiceCodec.encodeRequestItem(request).bytes

    static let chatCompletion = #"""
        {"id":"chatcmpl-bench0001","object":"chat.completion","created":1733000000,"model":"gpt-4o-mini-2024-07-18",\#
        "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how are you today? \#
        I keep it short because you asked for five words, and brevity respects your time.","refusal":null},\#
        "logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":57,"completion_tokens":40,\#
        "total_tokens":97,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},\#
        "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,\#
        "rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_bench"}
        """#

    static let raw = RawJSON(validated: chatCompletion)
    static let content = "Hello there, how are you today? I keep it short because you asked for five words."
    static let usage: JSONValue = [
        "prompt_tokens": 57, "completion_tokens": 40, "total_tokens": 97, "total_cost": 0.0000325, "currency": "USD",
        "served_by": ["provider": "openai", "channel": "openai", "model": "gpt-4o-mini"],
    ]

    static let responseItem = WireResponseItem(
        content: content, usage: usage.jsonText, rawResponse: chatCompletion, error: "", customID: nil,
        requestID: "bench-1")

    /// 21 content deltas, the finish event and the usage event, then `[DONE]`.
    static let stream: [UInt8] = {
        var text = ""
        let words = content.split(separator: " ")
        for index in 0..<21 {
            let word = words[index % words.count]
            text +=
                #"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1733000000,"#
                + #""model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"\#(word) "},"finish_reason":null}]}"#
                + "\n\n"
        }
        text +=
            #"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"#
            + #""finish_reason":"stop"}]}"# + "\n\n"
        text +=
            #"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","choices":[],"#
            + #""usage":{"prompt_tokens":57,"completion_tokens":40,"total_tokens":97}}"# + "\n\n"
        text += "data: [DONE]\n\n"
        return Array(text.utf8)
    }()

    static let authorization = "Bearer " + JWTMinter(secret: secret).mint(claims: ["org_id": "bench-org"]).token

    static func distinctAuthorizations(_ count: Int) -> [String] {
        let minter = JWTMinter(secret: secret)
        return (0..<count).map {
            "Bearer " + minter.mint(claims: ["org_id": "bench-org", "jti": .string("t\($0)")]).token
        }
    }

    static func record(_ index: Int) -> UsageRecord {
        UsageRecord(
            requestID: "bench-\(index)", orgID: "bench-org", userID: "bench-user", clientType: "bench",
            provider: "openai",
            channel: "openai", invokeType: "chat-completions", model: "gpt-4o-mini",
            usage: Usage(promptTokens: 57, completionTokens: 40),
            cost: 0.0000325, latencyMilliseconds: 1, stream: false, success: true)
    }
}
