import Foundation
import ModelManagerCore

/// An OpenAI Chat Completions body as the `extra` of the native API its model speaks. OpenAI's
/// family takes it as it is; Anthropic's Messages and Gemini's generateContent get the same
/// conversation, tools and limits in their own shapes.
enum ChatRequestTranslation {
    /// Gateway keys a compatible body may carry (sent by SDKs through `extra_body`), kept as they are.
    static let gatewayKeys = ["cache", "idempotency_key"]

    static func extra(_ body: [String: JSONValue], model: String, for family: WireFamily) throws(ModelManagerError)
        -> [String: JSONValue]
    {
        guard case .array(let messages) = body["messages"] ?? .null, !messages.isEmpty else {
            throw ModelManagerError(.invalidArgument, "'messages' must be a non-empty array")
        }
        var extra: [String: JSONValue]
        switch family {
        case .openAI:
            extra = native(body, model: model)
            extra["stream_options"] = nil
        case .anthropic:
            extra = try anthropic(body, messages: messages)
        case .gemini:
            extra = try gemini(body, messages: messages)
        }
        extra["model"] = .string(model)
        for key in gatewayKeys { extra[key] = body[key] }
        extra["enable_async_task"] = nil
        return extra
    }

    /// A body for a model of the API it is written for: as it came, but for the model the target
    /// names and what the gateway decides itself (streaming is the route's; no async task here).
    static func native(_ body: [String: JSONValue], model: String) -> [String: JSONValue] {
        var extra = body
        extra["model"] = .string(model)
        extra["stream"] = nil
        extra["enable_async_task"] = nil
        return extra
    }

    // MARK: Anthropic Messages

    private static func anthropic(_ body: [String: JSONValue], messages: [JSONValue]) throws(ModelManagerError)
        -> [String: JSONValue]
    {
        var system: [String] = []
        var turns = AlternatingTurns()
        func add(_ role: String, _ blocks: [JSONValue]) { turns.add(role, blocks) }
        for (index, message) in messages.enumerated() {
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                system.append(text(of: message["content"]))
            case "user":
                add("user", try anthropicBlocks(message["content"], at: index))
            case "assistant":
                var blocks = try anthropicBlocks(message["content"], at: index)
                for call in message["tool_calls"]?.arrayValue ?? [] {
                    blocks.append([
                        "type": "tool_use", "id": call["id"] ?? "", "name": call["function"]?["name"] ?? "",
                        "input": try arguments(call["function"]?["arguments"], at: index),
                    ])
                }
                add("assistant", blocks)
            case "tool", "function":
                add(
                    "user",
                    [
                        [
                            "type": "tool_result", "tool_use_id": message["tool_call_id"] ?? "",
                            "content": .string(text(of: message["content"])),
                        ]
                    ])
            default:
                throw ModelManagerError(.invalidArgument, "messages[\(index)].role '\(role)' is not a chat role")
            }
        }
        var extra: [String: JSONValue] = [
            "messages": .array(turns.turns.map { ["role": .string($0.role), "content": .array($0.items)] }),
            "max_tokens": body["max_completion_tokens"] ?? body["max_tokens"] ?? 4096,
        ]
        if !system.isEmpty { extra["system"] = .string(system.joined(separator: "\n")) }
        for key in ["temperature", "top_p"] { extra[key] = body[key] }
        switch body["stop"] {
        case .string(let stop): extra["stop_sequences"] = [.string(stop)]
        case .array(let stops): extra["stop_sequences"] = .array(stops)
        default: break
        }
        if case .array(let tools) = body["tools"] {
            extra["tools"] = .array(
                tools.map { tool in
                    let function = tool["function"] ?? [:]
                    var translated: [String: JSONValue] = [
                        "name": function["name"] ?? "", "input_schema": function["parameters"] ?? ["type": "object"],
                    ]
                    if let description = function["description"] { translated["description"] = description }
                    return .object(translated)
                })
        }
        switch body["tool_choice"] {
        case .string("auto"): extra["tool_choice"] = ["type": "auto"]
        case .string("required"): extra["tool_choice"] = ["type": "any"]
        case .string("none"): extra["tool_choice"] = ["type": "none"]
        case .object(let choice):
            extra["tool_choice"] = ["type": "tool", "name": choice["function"]?["name"] ?? ""]
        default: break
        }
        return extra
    }

    private static func anthropicBlocks(_ content: JSONValue?, at index: Int) throws(ModelManagerError) -> [JSONValue] {
        switch content {
        case .string(let text): return text.isEmpty ? [] : [["type": "text", "text": .string(text)]]
        case .array(let parts):
            var blocks: [JSONValue] = []
            for part in parts {
                switch part["type"]?.stringValue {
                case "text":
                    blocks.append(["type": "text", "text": part["text"] ?? ""])
                case "image_url":
                    let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                    if let inline = DataURL(url) {
                        blocks.append([
                            "type": "image",
                            "source": [
                                "type": "base64", "media_type": .string(inline.mediaType), "data": .string(inline.data),
                            ],
                        ])
                    } else {
                        blocks.append(["type": "image", "source": ["type": "url", "url": .string(url)]])
                    }
                default:
                    throw ModelManagerError(
                        .invalidArgument,
                        "messages[\(index)] has a content part of type '\(part["type"]?.stringValue ?? "")' this model's API cannot take"
                    )
                }
            }
            return blocks
        default:
            return []
        }
    }

    // MARK: Gemini generateContent

    private static func gemini(_ body: [String: JSONValue], messages: [JSONValue]) throws(ModelManagerError)
        -> [String: JSONValue]
    {
        var system: [String] = []
        var contents = AlternatingTurns()
        var functionNames: [String: String] = [:]
        func add(_ role: String, _ parts: [JSONValue]) { contents.add(role, parts) }
        for (index, message) in messages.enumerated() {
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                system.append(text(of: message["content"]))
            case "user":
                add("user", try geminiParts(message["content"], at: index))
            case "assistant":
                var parts = try geminiParts(message["content"], at: index)
                for call in message["tool_calls"]?.arrayValue ?? [] {
                    let name = call["function"]?["name"]?.stringValue ?? ""
                    if let id = call["id"]?.stringValue { functionNames[id] = name }
                    parts.append([
                        "functionCall": [
                            "name": .string(name), "args": try arguments(call["function"]?["arguments"], at: index),
                        ]
                    ])
                }
                add("model", parts)
            case "tool", "function":
                let id = message["tool_call_id"]?.stringValue ?? ""
                let result = text(of: message["content"])
                let response: JSONValue =
                    (try? JSONValue(parsing: result)).flatMap {
                        $0.objectValue.map(JSONValue.object)
                    } ?? ["result": .string(result)]
                add(
                    "user",
                    [
                        [
                            "functionResponse": [
                                "name": .string(functionNames[id] ?? message["name"]?.stringValue ?? id),
                                "response": response,
                            ]
                        ]
                    ])
            default:
                throw ModelManagerError(.invalidArgument, "messages[\(index)].role '\(role)' is not a chat role")
            }
        }
        var extra: [String: JSONValue] = [
            "contents": .array(contents.turns.map { ["role": .string($0.role), "parts": .array($0.items)] })
        ]
        if !system.isEmpty {
            extra["systemInstruction"] = ["parts": [["text": .string(system.joined(separator: "\n"))]]]
        }
        var generation: [String: JSONValue] = [:]
        let names = [
            "temperature": "temperature", "top_p": "topP", "max_tokens": "maxOutputTokens",
            "max_completion_tokens": "maxOutputTokens", "n": "candidateCount", "seed": "seed",
        ]
        for (key, name) in names { if let value = body[key], !value.isNull { generation[name] = value } }
        switch body["stop"] {
        case .string(let stop): generation["stopSequences"] = [.string(stop)]
        case .array(let stops): generation["stopSequences"] = .array(stops)
        default: break
        }
        if !generation.isEmpty { extra["generationConfig"] = .object(generation) }
        if case .array(let tools) = body["tools"] {
            let declarations = tools.map { tool -> JSONValue in
                let function = tool["function"] ?? [:]
                var declaration: [String: JSONValue] = ["name": function["name"] ?? ""]
                if let description = function["description"] { declaration["description"] = description }
                if let parameters = function["parameters"] { declaration["parameters"] = parameters }
                return .object(declaration)
            }
            extra["tools"] = [["functionDeclarations": .array(declarations)]]
        }
        switch body["tool_choice"] {
        case .string("auto"): extra["toolConfig"] = ["functionCallingConfig": ["mode": "AUTO"]]
        case .string("required"): extra["toolConfig"] = ["functionCallingConfig": ["mode": "ANY"]]
        case .string("none"): extra["toolConfig"] = ["functionCallingConfig": ["mode": "NONE"]]
        case .object(let choice):
            extra["toolConfig"] = [
                "functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": [choice["function"]?["name"] ?? ""]]
            ]
        default: break
        }
        return extra
    }

    private static func geminiParts(_ content: JSONValue?, at index: Int) throws(ModelManagerError) -> [JSONValue] {
        switch content {
        case .string(let text): return text.isEmpty ? [] : [["text": .string(text)]]
        case .array(let parts):
            var translated: [JSONValue] = []
            for part in parts {
                switch part["type"]?.stringValue {
                case "text":
                    translated.append(["text": part["text"] ?? ""])
                case "image_url":
                    let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                    if let inline = DataURL(url) {
                        translated.append([
                            "inlineData": ["mimeType": .string(inline.mediaType), "data": .string(inline.data)]
                        ])
                    } else {
                        translated.append(["fileData": ["fileUri": .string(url), "mimeType": "image/jpeg"]])
                    }
                default:
                    throw ModelManagerError(
                        .invalidArgument,
                        "messages[\(index)] has a content part of type '\(part["type"]?.stringValue ?? "")' this model's API cannot take"
                    )
                }
            }
            return translated
        default:
            return []
        }
    }

    // MARK: shared

    /// A message's text: a string, or its text parts joined.
    static func text(of content: JSONValue?) -> String {
        switch content {
        case .string(let text): text
        case .array(let parts): parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        default: ""
        }
    }

    /// A tool call's `arguments` (JSON text) as the object Anthropic and Gemini want.
    static func arguments(_ value: JSONValue?, at index: Int) throws(ModelManagerError) -> JSONValue {
        guard let text = value?.stringValue, !text.isEmpty else {
            return value?.objectValue.map(JSONValue.object) ?? [:]
        }
        guard let parsed = try? JSONValue(parsing: text), case .object = parsed else {
            throw ModelManagerError(
                .invalidArgument, "messages[\(index)].tool_calls arguments are not a JSON object: \(text.prefix(128))")
        }
        return parsed
    }
}

/// A conversation as Anthropic and Gemini want it: user and model turns alternating, so
/// same-role neighbours (a tool result after a user message, say) merge into one turn.
struct AlternatingTurns {
    private(set) var turns: [(role: String, items: [JSONValue])] = []

    mutating func add(_ role: String, _ items: [JSONValue]) {
        guard !items.isEmpty else { return }
        if turns.last?.role == role {
            turns[turns.count - 1].items += items
        } else {
            turns.append((role, items))
        }
    }
}

/// `data:<media type>;base64,<data>`.
struct DataURL {
    let mediaType: String
    let data: String

    init?(_ url: String) {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","),
            url[..<comma].hasSuffix(";base64")
        else { return nil }
        mediaType = String(url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(7))
        data = String(url[url.index(after: comma)...])
    }

    static func make(mediaType: String, data: String) -> String { "data:\(mediaType);base64,\(data)" }
}
