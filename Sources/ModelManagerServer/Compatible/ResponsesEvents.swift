import Foundation
import ModelManagerCore

/// The Responses API's stream for an answer read as deltas: `response.created`, an output item
/// per text run or function call (added, its deltas, done), then `response.completed` with the
/// whole response. After a relayed OpenAI stream only the completion is added, from its own answer.
struct ResponsesEventWriter: TurnEventWriter {
    let format: ResponsesFormat
    let relayed: Bool
    private var sequence = 0
    private var started = false
    private var text = ""
    private var calls: [AssistantTurn.ToolCall] = []
    /// Stream index of a tool call → its place in `calls`.
    private var callOfIndex: [Int: Int] = [:]
    private var open: (output: Int, call: Int?)?
    private var outputs = 0

    init(format: ResponsesFormat, relayed: Bool) {
        self.format = format
        self.relayed = relayed
    }

    mutating func events(for delta: TurnDelta) -> [(name: StaticString?, payload: JSONValue)] {
        var events = start()
        switch delta {
        case .text(let piece):
            if open == nil || open?.call != nil {
                events += close()
                open = (outputs, nil)
                outputs += 1
                events.append(
                    event(
                        "response.output_item.added",
                        ["output_index": index, "item": format.messageItem(text: "", done: false)]))
                events.append(
                    event("response.content_part.added", partFields(["part": ResponsesFormat.textPart("")])))
            }
            text += piece
            events.append(event("response.output_text.delta", partFields(["delta": .string(piece), "logprobs": []])))
        case .toolCall(let streamIndex, let callID, let name, let arguments):
            if let known = callOfIndex[streamIndex] {
                calls[known].arguments += arguments
            } else {
                events += close()
                callOfIndex[streamIndex] = calls.count
                calls.append(
                    AssistantTurn.ToolCall(id: callID ?? "call_\(streamIndex)", name: name ?? "", arguments: arguments))
                open = (outputs, calls.count - 1)
                outputs += 1
                var added = calls[calls.count - 1]
                added.arguments = ""
                events.append(
                    event(
                        "response.output_item.added",
                        ["output_index": index, "item": format.callItem(added, done: false)]))
            }
            if !arguments.isEmpty, let call = open?.call {
                events.append(
                    event(
                        "response.function_call_arguments.delta",
                        [
                            "item_id": .string(format.callItemID(calls[call])), "output_index": index,
                            "delta": .string(arguments),
                        ]))
            }
        }
        return events
    }

    mutating func finish(_ completion: ResponseChunk, stop: AssistantTurn.Stop) -> [(
        name: StaticString?, payload: JSONValue
    )] {
        if relayed, let answer = completion.rawResponse?.value {
            return [event("response.completed", ["response": answer])]
        }
        var events = start() + close()
        let turn = AssistantTurn(text: text, toolCalls: calls, stop: stop, usage: completion.usage)
        events.append(event("response.completed", ["response": format.response(turn)]))
        return events
    }

    private var index: JSONValue { .integer(Int64(open?.output ?? 0)) }

    private func partFields(_ fields: [String: JSONValue]) -> [String: JSONValue] {
        var all = fields
        all["item_id"] = .string(format.messageItemID)
        all["output_index"] = index
        all["content_index"] = 0
        return all
    }

    private mutating func event(_ name: StaticString, _ fields: [String: JSONValue]) -> (
        name: StaticString?, payload: JSONValue
    ) {
        var payload = fields
        payload["type"] = .string(name.description)
        payload["sequence_number"] = .integer(Int64(sequence))
        sequence += 1
        return (name, .object(payload))
    }

    private mutating func start() -> [(name: StaticString?, payload: JSONValue)] {
        guard !started else { return [] }
        started = true
        return [event("response.created", ["response": format.inProgress])]
    }

    private mutating func close() -> [(name: StaticString?, payload: JSONValue)] {
        guard let current = open else { return [] }
        defer { open = nil }
        if let call = current.call {
            return [
                event(
                    "response.function_call_arguments.done",
                    [
                        "item_id": .string(format.callItemID(calls[call])), "output_index": index,
                        "arguments": .string(calls[call].arguments),
                    ]),
                event(
                    "response.output_item.done",
                    ["output_index": index, "item": format.callItem(calls[call], done: true)]),
            ]
        }
        return [
            event("response.output_text.done", partFields(["text": .string(text)])),
            event("response.content_part.done", partFields(["part": ResponsesFormat.textPart(text)])),
            event(
                "response.output_item.done",
                ["output_index": index, "item": format.messageItem(text: text, done: true)]),
        ]
    }
}
