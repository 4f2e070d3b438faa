import Foundation
import ModelManagerCore

/// Anthropic Messages JSON: a request read as an OpenAI chat body (for models of other APIs),
/// the answer, its typed stream events and its errors.
struct MessagesFormat {
    let id: String
    let model: String

    init(requestID: String, model: String) {
        id = "msg_" + requestID.replacingOccurrences(of: "-", with: "")
        self.model = model
    }

    func message(_ turn: AssistantTurn) -> JSONValue {
        var content: [JSONValue] = turn.text.isEmpty ? [] : [["type": "text", "text": .string(turn.text)]]
        for call in turn.toolCalls {
            content.append([
                "type": "tool_use", "id": .string(call.id), "name": .string(call.name),
                "input": (try? JSONValue(parsing: call.arguments)) ?? [:],
            ])
        }
        return [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model),
            "content": .array(content), "stop_reason": .string(turn.stop.anthropic), "stop_sequence": nil,
            "usage": Self.usage(turn.usage),
        ]
    }

    static func usage(_ usage: Usage?) -> JSONValue {
        let cached = usage?.cachedTokens ?? 0
        return [
            "input_tokens": .integer(Int64((usage?.promptTokens ?? 0) - cached)),
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": .integer(Int64(cached)),
            "output_tokens": .integer(Int64(usage?.completionTokens ?? 0)),
        ]
    }

    /// `{"type": "error", "error": {type, message}}`, as Anthropic's SDKs read errors.
    static func error(_ error: ModelManagerError) -> JSONValue {
        let type: String =
            switch error.code.httpStatus {
            case 400, 422: "invalid_request_error"
            case 401: "authentication_error"
            case 403: "permission_error"
            case 404: "not_found_error"
            case 413: "request_too_large"
            case 429: "rate_limit_error"
            case 503: "overloaded_error"
            default: "api_error"
            }
        return ["type": "error", "error": ["type": .string(type), "message": .string(error.message)]]
    }

    /// A Messages request as the Chat Completions body it means (for an OpenAI or Gemini model).
    static func chatBody(_ body: [String: JSONValue]) throws(ModelManagerError) -> [String: JSONValue] {
        guard case .array(let messages) = body["messages"] ?? .null, !messages.isEmpty else {
            throw ModelManagerError(.invalidArgument, "messages: at least one message is required")
        }
        var chat: [JSONValue] = []
        switch body["system"] {
        case .string(let text): chat.append(["role": "system", "content": .string(text)])
        case .array(let blocks):
            chat.append(["role": "system", "content": .string(ChatRequestTranslation.text(of: .array(blocks)))])
        default: break
        }
        for (index, message) in messages.enumerated() {
            let role = message["role"]?.stringValue ?? ""
            guard role == "user" || role == "assistant" else {
                throw ModelManagerError(
                    .invalidArgument, "messages.\(index).role: Input should be 'user' or 'assistant', got '\(role)'")
            }
            guard case .array(let blocks) = message["content"] ?? .null else {
                chat.append(["role": .string(role), "content": message["content"] ?? ""])
                continue
            }
            var parts: [JSONValue] = []
            var calls: [JSONValue] = []
            for block in blocks {
                switch block["type"]?.stringValue {
                case "text":
                    parts.append(["type": "text", "text": block["text"] ?? ""])
                case "image":
                    let source = block["source"] ?? [:]
                    let url =
                        source["type"]?.stringValue == "base64"
                        ? DataURL.make(
                            mediaType: source["media_type"]?.stringValue ?? "image/png",
                            data: source["data"]?.stringValue ?? "")
                        : source["url"]?.stringValue ?? ""
                    parts.append(["type": "image_url", "image_url": ["url": .string(url)]])
                case "tool_use":
                    calls.append([
                        "id": block["id"] ?? "", "type": "function",
                        "function": [
                            "name": block["name"] ?? "", "arguments": .string((block["input"] ?? [:]).jsonText),
                        ],
                    ])
                case "tool_result":
                    chat.append([
                        "role": "tool", "tool_call_id": block["tool_use_id"] ?? "",
                        "content": .string(ChatRequestTranslation.text(of: block["content"])),
                    ])
                case "thinking", "redacted_thinking":
                    continue
                default:
                    throw ModelManagerError(
                        .invalidArgument,
                        "messages.\(index) has a content block of type '\(block["type"]?.stringValue ?? "")' this model's API cannot take"
                    )
                }
            }
            guard !parts.isEmpty || !calls.isEmpty else { continue }
            var translated: [String: JSONValue] = ["role": .string(role)]
            translated["content"] =
                parts.allSatisfy({ $0["type"]?.stringValue == "text" })
                ? .string(ChatRequestTranslation.text(of: .array(parts))) : .array(parts)
            if !calls.isEmpty { translated["tool_calls"] = .array(calls) }
            chat.append(.object(translated))
        }
        var result: [String: JSONValue] = ["messages": .array(chat)]
        for key in ["max_tokens", "temperature", "top_p"] + ChatRequestTranslation.gatewayKeys {
            result[key] = body[key]
        }
        if let stops = body["stop_sequences"] { result["stop"] = stops }
        if case .array(let tools) = body["tools"] {
            result["tools"] = .array(
                tools.map { tool in
                    var function: [String: JSONValue] = [
                        "name": tool["name"] ?? "", "parameters": tool["input_schema"] ?? ["type": "object"],
                    ]
                    if let description = tool["description"] { function["description"] = description }
                    return ["type": "function", "function": .object(function)]
                })
        }
        switch body["tool_choice"]?["type"]?.stringValue {
        case "auto": result["tool_choice"] = "auto"
        case "any": result["tool_choice"] = "required"
        case "none": result["tool_choice"] = "none"
        case "tool":
            result["tool_choice"] = ["type": "function", "function": ["name": body["tool_choice"]?["name"] ?? ""]]
        default: break
        }
        return result
    }
}

/// One of Anthropic's stream events: its name goes in the `event:` line and in the payload's `type`.
private func typed(_ name: StaticString, _ fields: [String: JSONValue]) -> (name: StaticString?, payload: JSONValue) {
    var payload = fields
    payload["type"] = .string(name.description)
    return (name, .object(payload))
}

/// Anthropic's typed stream events for an answer read as deltas: `message_start`, one content
/// block per text run or tool call, `message_delta` with the stop reason and usage, `message_stop`.
struct MessagesEventWriter: TurnEventWriter {
    let format: MessagesFormat
    private var openBlock: (index: Int, isText: Bool, call: Int?)?
    private var blocks = 0
    private(set) var started = false

    init(format: MessagesFormat) { self.format = format }

    /// The events for `delta`, opening and closing content blocks as needed.
    mutating func events(for delta: TurnDelta) -> [(name: StaticString?, payload: JSONValue)] {
        var events = start()
        switch delta {
        case .text(let text):
            if openBlock?.isText != true {
                events += closeBlock()
                events.append(
                    typed(
                        "content_block_start",
                        ["index": .integer(Int64(blocks)), "content_block": ["type": "text", "text": ""]]))
                openBlock = (blocks, true, nil)
                blocks += 1
            }
            events.append(
                typed(
                    "content_block_delta",
                    [
                        "index": .integer(Int64(openBlock!.index)),
                        "delta": ["type": "text_delta", "text": .string(text)],
                    ]
                ))
        case .toolCall(let call, let callID, let name, let arguments):
            if openBlock?.call != call {
                events += closeBlock()
                events.append(
                    typed(
                        "content_block_start",
                        [
                            "index": .integer(Int64(blocks)),
                            "content_block": [
                                "type": "tool_use", "id": .string(callID ?? "toolu_\(call)"),
                                "name": .string(name ?? ""),
                                "input": [:],
                            ],
                        ]
                    ))
                openBlock = (blocks, false, call)
                blocks += 1
            }
            if !arguments.isEmpty {
                events.append(
                    typed(
                        "content_block_delta",
                        [
                            "index": .integer(Int64(openBlock!.index)),
                            "delta": ["type": "input_json_delta", "partial_json": .string(arguments)],
                        ]
                    ))
            }
        }
        return events
    }

    /// The closing events: the open block's stop, the stop reason and usage, `message_stop`.
    mutating func finish(_ completion: ResponseChunk, stop: AssistantTurn.Stop) -> [(
        name: StaticString?, payload: JSONValue
    )] {
        let usage = completion.usage
        var events = start() + closeBlock()
        events.append(
            typed(
                "message_delta",
                [
                    "delta": ["stop_reason": .string(stop.anthropic), "stop_sequence": nil],
                    "usage": MessagesFormat.usage(usage),
                ]
            ))
        events.append(typed("message_stop", [:]))
        return events
    }

    private mutating func start() -> [(name: StaticString?, payload: JSONValue)] {
        guard !started else { return [] }
        started = true
        var message = format.message(AssistantTurn(text: "", toolCalls: [], stop: .done, usage: nil))
        if case .object(var object) = message {
            object["stop_reason"] = .null
            message = .object(object)
        }
        return [typed("message_start", ["message": message])]
    }

    private mutating func closeBlock() -> [(name: StaticString?, payload: JSONValue)] {
        guard let open = openBlock else { return [] }
        openBlock = nil
        return [typed("content_block_stop", ["index": .integer(Int64(open.index))])]
    }
}
