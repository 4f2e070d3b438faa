import Foundation
import ModelManagerCore

/// OpenAI's Responses API for models of other APIs: the request read as a Chat Completions
/// body, and the answer stated as a `response` object.
struct ResponsesFormat {
    let id: String
    let model: String

    init(requestID: String, model: String) {
        id = "resp_" + requestID.replacingOccurrences(of: "-", with: "")
        self.model = model
    }

    var messageItemID: String { "msg_" + id.dropFirst(5) }

    func callItemID(_ call: AssistantTurn.ToolCall) -> String { "fc_" + call.id }

    static func textPart(_ text: String) -> JSONValue {
        ["type": "output_text", "text": .string(text), "annotations": []]
    }

    func messageItem(text: String, done: Bool) -> JSONValue {
        [
            "type": "message", "id": .string(messageItemID), "status": done ? "completed" : "in_progress",
            "role": "assistant", "content": done ? [Self.textPart(text)] : [],
        ]
    }

    func callItem(_ call: AssistantTurn.ToolCall, done: Bool) -> JSONValue {
        [
            "type": "function_call", "id": .string(callItemID(call)), "call_id": .string(call.id),
            "name": .string(call.name), "arguments": .string(call.arguments),
            "status": done ? "completed" : "in_progress",
        ]
    }

    /// The response as `response.created` states it: nothing answered yet.
    var inProgress: JSONValue {
        guard case .object(var response) = response(AssistantTurn(text: "", toolCalls: [], stop: .done, usage: nil))
        else { return .null }
        response["status"] = "in_progress"
        response["usage"] = .null
        return .object(response)
    }

    func response(_ turn: AssistantTurn) -> JSONValue {
        var output: [JSONValue] = turn.text.isEmpty ? [] : [messageItem(text: turn.text, done: true)]
        for call in turn.toolCalls { output.append(callItem(call, done: true)) }
        let usage = turn.usage ?? Usage(promptTokens: 0, completionTokens: 0)
        return [
            "id": .string(id), "object": "response", "created_at": .integer(Int64(Date().timeIntervalSince1970)),
            "status": turn.stop == .length ? "incomplete" : "completed",
            "incomplete_details": turn.stop == .length ? ["reason": "max_output_tokens"] : nil,
            "model": .string(model), "output": .array(output), "parallel_tool_calls": true, "tool_choice": "auto",
            "tools": [], "error": nil,
            "usage": [
                "input_tokens": .integer(Int64(usage.promptTokens)),
                "input_tokens_details": ["cached_tokens": .integer(Int64(usage.cachedTokens ?? 0))],
                "output_tokens": .integer(Int64(usage.completionTokens)),
                "output_tokens_details": ["reasoning_tokens": .integer(Int64(usage.reasoningTokens ?? 0))],
                "total_tokens": .integer(Int64(usage.totalTokens)),
            ],
        ]
    }

    /// A Responses request as the Chat Completions body it means.
    static func chatBody(_ body: [String: JSONValue]) throws(ModelManagerError) -> [String: JSONValue] {
        var messages: [JSONValue] = []
        if let instructions = body["instructions"]?.stringValue {
            messages.append(["role": "system", "content": .string(instructions)])
        }
        switch body["input"] {
        case .string(let text):
            messages.append(["role": "user", "content": .string(text)])
        case .array(let items):
            for (index, item) in items.enumerated() {
                switch item["type"]?.stringValue ?? "message" {
                case "message":
                    messages.append([
                        "role": item["role"] ?? "user", "content": try chatContent(item["content"], at: index),
                    ])
                case "function_call":
                    messages.append([
                        "role": "assistant", "content": nil,
                        "tool_calls": [
                            [
                                "id": item["call_id"] ?? "", "type": "function",
                                "function": ["name": item["name"] ?? "", "arguments": item["arguments"] ?? "{}"],
                            ]
                        ],
                    ])
                case "function_call_output":
                    messages.append([
                        "role": "tool", "tool_call_id": item["call_id"] ?? "",
                        "content": .string(item["output"]?.stringValue ?? item["output"]?.jsonText ?? ""),
                    ])
                case let type:
                    throw ModelManagerError(
                        .invalidArgument, "input[\(index)] is of type '\(type)', which this model's API cannot take")
                }
            }
        default:
            throw ModelManagerError(.invalidArgument, "'input' must be a string or an array of items")
        }
        var chat: [String: JSONValue] = ["messages": .array(messages)]
        for key in ["temperature", "top_p"] + ChatRequestTranslation.gatewayKeys { chat[key] = body[key] }
        chat["max_tokens"] = body["max_output_tokens"]
        if case .array(let tools) = body["tools"] {
            chat["tools"] = .array(
                try tools.map { tool throws(ModelManagerError) -> JSONValue in
                    guard tool["type"]?.stringValue == "function" else {
                        throw ModelManagerError(
                            .invalidArgument,
                            "tool type '\(tool["type"]?.stringValue ?? "")' is served for OpenAI models only")
                    }
                    var function: [String: JSONValue] = ["name": tool["name"] ?? ""]
                    if let description = tool["description"] { function["description"] = description }
                    if let parameters = tool["parameters"] { function["parameters"] = parameters }
                    return ["type": "function", "function": .object(function)]
                })
        }
        switch body["tool_choice"] {
        case .string(let choice): chat["tool_choice"] = .string(choice)
        case .object(let choice):
            chat["tool_choice"] = ["type": "function", "function": ["name": choice["name"] ?? ""]]
        default: break
        }
        return chat
    }

    private static func chatContent(_ content: JSONValue?, at index: Int) throws(ModelManagerError) -> JSONValue {
        guard case .array(let parts) = content else { return content ?? "" }
        return .array(
            try parts.map { part throws(ModelManagerError) -> JSONValue in
                switch part["type"]?.stringValue {
                case "input_text", "output_text", "text": return ["type": "text", "text": part["text"] ?? ""]
                case "input_image": return ["type": "image_url", "image_url": ["url": part["image_url"] ?? ""]]
                case let type:
                    throw ModelManagerError(
                        .invalidArgument,
                        "input[\(index)] has a content part of type '\(type ?? "")' this model's API cannot take")
                }
            })
    }
}
