import Hummingbird
import ModelManagerCore

/// Anthropic's Messages API (`POST /v1/messages`): `x-api-key`, `anthropic-version`, JSON or typed SSE events.
struct AnthropicEmulator {
    let keys: EmulatorKeys
    let recorder: EmulatorRecorder
    private let style = ErrorStyle.anthropic

    func messages(_ request: Request) async throws -> Response {
        let input = try await EmulatedRequest.read(request, recorder: recorder)
        // Current SDKs send the key as a Bearer token; older clients as x-api-key. Both are accepted.
        let key =
            input.header("x-api-key")
            ?? input.header("authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        if let refusal = keys.refusal(key, style: style, unknown: style.response(401, "invalid x-api-key")) {
            return refusal
        }
        guard input.header("anthropic-version") != nil else {
            return style.response(400, "anthropic-version: header is required")
        }
        if let injected = style.injected(input.fault) { return injected }
        guard case .object(let parameters) = input.body ?? .null else {
            return style.response(400, "Request body is not valid JSON")
        }
        guard let model = parameters["model"]?.stringValue else { return style.response(400, "model: Field required") }
        guard let maxTokensValue = parameters["max_tokens"] else {
            return style.response(400, "max_tokens: Field required")
        }
        guard let maxTokens = maxTokensValue.integerValue, maxTokens > 0 else {
            return style.response(400, "max_tokens: Input should be a valid integer")
        }
        guard case .array(let messages) = parameters["messages"] ?? .null else {
            return style.response(400, "messages: Field required")
        }
        guard !messages.isEmpty else { return style.response(400, "messages: at least one message is required") }
        for (index, message) in messages.enumerated() {
            let role = message["role"]?.stringValue ?? ""
            guard role == "user" || role == "assistant" else {
                return style.response(400, "messages.\(index).role: Input should be 'user' or 'assistant'")
            }
        }
        guard let snapshot = ModelCatalog.anthropic[model] else { return style.response(404, "model: \(model)") }

        let system: String =
            switch parameters["system"] {
            case .string(let text): text + "\n"
            case .array(let blocks): blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n") + "\n"
            default: ""
            }
        let prompt = messages.map { message -> String in
            if case .array(let blocks) = message["content"] {
                return blocks.compactMap { $0["text"]?.stringValue }.joined(separator: " ")
            }
            return message["content"]?.stringValue ?? ""
        }.joined(separator: "\n")
        var answer = DeterministicAnswer(
            prompt: system + prompt, messageCount: messages.count, maxTokens: Int(maxTokens), reasoning: false)
        let lastBlocks = messages.last?["content"]?.arrayValue ?? []
        let toolCall = EmulatedToolCall(
            tools: (parameters["tools"]?.arrayValue ?? []).compactMap { tool in
                tool["name"]?.stringValue.map { ($0, tool["input_schema"]) }
            },
            forced: parameters["tool_choice"]?["type"]?.stringValue == "tool"
                ? parameters["tool_choice"]?["name"]?.stringValue : nil,
            disabled: parameters["tool_choice"]?["type"]?.stringValue == "none",
            answered: lastBlocks.contains { $0["type"]?.stringValue == "tool_result" }, prompt: prompt)
        if toolCall != nil { answer = answer.callingTool() }
        let id = "msg_" + EmulatorHTTP.identifier(for: prompt + model)
        let stopReason: JSONValue =
            switch answer.finishReason {
            case "stop": "end_turn"
            case "tool_calls": "tool_use"
            default: "max_tokens"
            }
        let toolUse: JSONValue? = toolCall.map {
            ["type": "tool_use", "id": .string("toolu_" + $0.id), "name": .string($0.name), "input": $0.arguments]
        }
        func message(content: JSONValue, stopReason: JSONValue, outputTokens: Int) -> JSONValue {
            [
                "id": .string(id), "type": "message", "role": "assistant", "model": .string(snapshot),
                "content": content,
                "stop_reason": stopReason, "stop_sequence": nil,
                "usage": [
                    "input_tokens": .integer(Int64(answer.promptTokens - answer.cachedTokens)),
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": .integer(Int64(answer.cachedTokens)),
                    "output_tokens": .integer(Int64(outputTokens)),
                    "service_tier": "standard",
                ],
            ]
        }
        guard parameters["stream"]?.boolValue == true else {
            return EmulatorHTTP.json(
                200,
                message(
                    content: toolUse.map { [$0] } ?? [["type": "text", "text": .string(answer.text)]],
                    stopReason: stopReason,
                    outputTokens: answer.completionTokens))
        }
        func event(_ type: String, _ fields: [String: JSONValue]) -> (String?, String) {
            var object = fields
            object["type"] = .string(type)
            return (type, JSONValue.object(object).jsonText)
        }
        var events = [
            event("message_start", ["message": message(content: [], stopReason: nil, outputTokens: 1)])
        ]
        if let toolCall, case .object(var start) = toolUse {
            start["input"] = [:]
            events += [
                event("content_block_start", ["index": 0, "content_block": .object(start)]), event("ping", [:]),
            ]
            events += toolCall.argumentPieces.map {
                event(
                    "content_block_delta",
                    ["index": 0, "delta": ["type": "input_json_delta", "partial_json": .string($0)]])
            }
        } else {
            events += [
                event("content_block_start", ["index": 0, "content_block": ["type": "text", "text": ""]]),
                event("ping", [:]),
            ]
            events += answer.words.map {
                event("content_block_delta", ["index": 0, "delta": ["type": "text_delta", "text": .string($0)]])
            }
        }
        events += [
            event("content_block_stop", ["index": 0]),
            event(
                "message_delta",
                [
                    "delta": ["stop_reason": stopReason, "stop_sequence": nil],
                    "usage": ["output_tokens": .integer(Int64(answer.completionTokens))],
                ]),
            event("message_stop", [:]),
        ]
        return EmulatorHTTP.eventStream(events, fault: input.fault, recorder: recorder)
    }
}
