import ModelManagerCore

/// An answer as every compatible API can state it: text, tool calls, why it stopped, usage.
/// Native answers are read into it; each API's writer states it in its own JSON.
struct AssistantTurn: Sendable {
    struct ToolCall: Sendable, Hashable {
        var id: String
        var name: String
        /// The arguments as JSON text, as OpenAI carries them.
        var arguments: String
    }

    enum Stop: Sendable, Hashable {
        case done
        case length
        case toolCalls
        case contentFilter

        var openAI: String {
            switch self {
            case .done: "stop"
            case .length: "length"
            case .toolCalls: "tool_calls"
            case .contentFilter: "content_filter"
            }
        }

        var anthropic: String {
            switch self {
            case .done: "end_turn"
            case .length: "max_tokens"
            case .toolCalls: "tool_use"
            case .contentFilter: "refusal"
            }
        }

        init(openAI reason: String?) {
            switch reason {
            case "length": self = .length
            case "tool_calls", "function_call": self = .toolCalls
            case "content_filter": self = .contentFilter
            default: self = .done
            }
        }

        init(anthropic reason: String?) {
            switch reason {
            case "max_tokens": self = .length
            case "tool_use": self = .toolCalls
            case "refusal": self = .contentFilter
            default: self = .done
            }
        }

        init(gemini reason: String?, calledTools: Bool) {
            switch reason {
            case "MAX_TOKENS": self = .length
            case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII": self = .contentFilter
            default: self = calledTools ? .toolCalls : .done
            }
        }
    }

    var text: String
    var toolCalls: [ToolCall]
    var stop: Stop
    var usage: Usage?
}

/// A piece of a streamed answer: text, or part of a tool call (the first piece of a call has its
/// id and name; later pieces add to its arguments).
enum TurnDelta: Sendable, Hashable {
    case text(String)
    case toolCall(index: Int, id: String?, name: String?, arguments: String)
}

extension AssistantTurn {
    /// The answer the completion of a non-stream call carries, read from the upstream's own JSON.
    init(completion: ResponseChunk, family: WireFamily) {
        let raw = completion.rawResponse?.value ?? .null
        switch family {
        case .openAI:
            let choice = raw["choices"]?[0]
            let calls = (choice?["message"]?["tool_calls"]?.arrayValue ?? []).map {
                ToolCall(
                    id: $0["id"]?.stringValue ?? "", name: $0["function"]?["name"]?.stringValue ?? "",
                    arguments: $0["function"]?["arguments"]?.stringValue ?? "{}")
            }
            self.init(
                text: completion.content, toolCalls: calls,
                stop: Stop(openAI: choice?["finish_reason"]?.stringValue), usage: completion.usage)
        case .anthropic:
            let calls = (raw["content"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "tool_use" }.map {
                ToolCall(
                    id: $0["id"]?.stringValue ?? "", name: $0["name"]?.stringValue ?? "",
                    arguments: ($0["input"] ?? [:]).jsonText)
            }
            self.init(
                text: completion.content, toolCalls: calls, stop: Stop(anthropic: raw["stop_reason"]?.stringValue),
                usage: completion.usage)
        case .gemini:
            var calls: [ToolCall] = []
            for part in raw["candidates"]?[0]?["content"]?["parts"]?.arrayValue ?? [] {
                guard let call = part["functionCall"] else { continue }
                calls.append(GeminiCalls.toolCall(call, position: calls.count))
            }
            self.init(
                text: completion.content, toolCalls: calls,
                stop: Stop(
                    gemini: raw["candidates"]?[0]?["finishReason"]?.stringValue, calledTools: !calls.isEmpty),
                usage: completion.usage)
        }
    }
}

enum GeminiCalls {
    /// Gemini's calls have no id (newer models may send one): a stable one from its position.
    static func toolCall(_ call: JSONValue, position: Int) -> AssistantTurn.ToolCall {
        AssistantTurn.ToolCall(
            id: call["id"]?.stringValue ?? "call_\(position)", name: call["name"]?.stringValue ?? "",
            arguments: (call["args"] ?? [:]).jsonText)
    }
}

/// Reads a native stream's deltas (each carrying the upstream event it came from) as text and
/// tool-call pieces, and its completion as the reason it stopped.
struct TurnDeltaReader {
    let family: WireFamily
    /// The deltas are OpenAI Responses API events rather than Chat Completions chunks.
    let responsesEvents: Bool
    private var toolCalls = 0
    /// Anthropic: the content block index of each tool call (Responses: the output index), to
    /// place its argument pieces.
    private var toolCallOfBlock: [Int: Int] = [:]

    init(family: WireFamily, responsesEvents: Bool = false) {
        self.family = family
        self.responsesEvents = responsesEvents
    }

    mutating func deltas(of chunk: ResponseChunk) -> [TurnDelta] {
        if responsesEvents, let raw = chunk.rawResponse?.value { return responsesDeltas(raw, chunk: chunk) }
        switch family {
        case .openAI:
            let raw = chunk.rawResponse?.value
            var deltas: [TurnDelta] = chunk.content.isEmpty ? [] : [.text(chunk.content)]
            for call in raw?["choices"]?[0]?["delta"]?["tool_calls"]?.arrayValue ?? [] {
                let index = Int(call["index"]?.integerValue ?? 0)
                toolCalls = max(toolCalls, index + 1)
                deltas.append(
                    .toolCall(
                        index: index, id: call["id"]?.stringValue, name: call["function"]?["name"]?.stringValue,
                        arguments: call["function"]?["arguments"]?.stringValue ?? ""))
            }
            return deltas
        case .anthropic:
            guard let raw = chunk.rawResponse?.value else { return [] }
            let block = Int(raw["index"]?.integerValue ?? 0)
            if let start = raw["content_block"], start["type"]?.stringValue == "tool_use" {
                toolCallOfBlock[block] = toolCalls
                toolCalls += 1
                return [
                    .toolCall(
                        index: toolCalls - 1, id: start["id"]?.stringValue, name: start["name"]?.stringValue,
                        arguments: "")
                ]
            }
            if let piece = raw["delta"]?["partial_json"]?.stringValue, let index = toolCallOfBlock[block] {
                return [.toolCall(index: index, id: nil, name: nil, arguments: piece)]
            }
            return chunk.content.isEmpty ? [] : [.text(chunk.content)]
        case .gemini:
            let raw = chunk.rawResponse?.value
            var deltas: [TurnDelta] = chunk.content.isEmpty ? [] : [.text(chunk.content)]
            for part in raw?["candidates"]?[0]?["content"]?["parts"]?.arrayValue ?? [] {
                guard let call = part["functionCall"] else { continue }
                let whole = GeminiCalls.toolCall(call, position: toolCalls)
                deltas.append(.toolCall(index: toolCalls, id: whole.id, name: whole.name, arguments: whole.arguments))
                toolCalls += 1
            }
            return deltas
        }
    }

    /// `response.output_text.delta` is text; a function call starts with its
    /// `response.output_item.added` and grows with `response.function_call_arguments.delta`.
    private mutating func responsesDeltas(_ event: JSONValue, chunk: ResponseChunk) -> [TurnDelta] {
        let output = Int(event["output_index"]?.integerValue ?? 0)
        switch event["type"]?.stringValue {
        case "response.output_item.added" where event["item"]?["type"]?.stringValue == "function_call":
            toolCallOfBlock[output] = toolCalls
            toolCalls += 1
            let item = event["item"]
            return [
                .toolCall(
                    index: toolCalls - 1, id: item?["call_id"]?.stringValue, name: item?["name"]?.stringValue,
                    arguments: item?["arguments"]?.stringValue ?? "")
            ]
        case "response.function_call_arguments.delta":
            guard let index = toolCallOfBlock[output] else { return [] }
            return [.toolCall(index: index, id: nil, name: nil, arguments: event["delta"]?.stringValue ?? "")]
        default:
            return chunk.content.isEmpty ? [] : [.text(chunk.content)]
        }
    }

    /// Why the stream stopped, from its completion.
    func stop(of completion: ResponseChunk) -> AssistantTurn.Stop {
        switch family {
        case .openAI:
            return AssistantTurn.Stop(openAI: completion.finishReason)
        case .anthropic:
            return AssistantTurn.Stop(anthropic: completion.rawResponse?.value?["stop_reason"]?.stringValue)
        case .gemini:
            return AssistantTurn.Stop(
                gemini: completion.rawResponse?.value?["candidates"]?[0]?["finishReason"]?.stringValue,
                calledTools: toolCalls > 0)
        }
    }
}
