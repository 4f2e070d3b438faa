import Foundation
import ModelManagerCore

/// OpenAI Chat Completions JSON: the answer, its stream chunks and its errors.
struct ChatCompletionsFormat {
    private(set) var id: String
    private(set) var model: String
    private(set) var created: Int64

    init(requestID: String, model: String) {
        id = "chatcmpl-" + requestID
        self.model = model
        created = Int64(Date().timeIntervalSince1970)
    }

    /// The same format under the id, model and time of a relayed upstream chunk, so chunks the
    /// gateway adds to a relayed stream match the upstream's own.
    func continuing(_ upstream: RawJSON?) -> ChatCompletionsFormat {
        guard let chunk = upstream?.value else { return self }
        var format = self
        format.id = chunk["id"]?.stringValue ?? id
        format.model = chunk["model"]?.stringValue ?? model
        format.created = chunk["created"]?.integerValue ?? created
        return format
    }

    func completion(_ turn: AssistantTurn) -> JSONValue {
        var message: [String: JSONValue] = [
            "role": "assistant", "content": turn.text.isEmpty && !turn.toolCalls.isEmpty ? .null : .string(turn.text),
            "refusal": nil,
        ]
        if !turn.toolCalls.isEmpty {
            message["tool_calls"] = .array(
                turn.toolCalls.map {
                    [
                        "id": .string($0.id), "type": "function",
                        "function": ["name": .string($0.name), "arguments": .string($0.arguments)],
                    ]
                })
        }
        var completion: [String: JSONValue] = [
            "id": .string(id), "object": "chat.completion", "created": .integer(created), "model": .string(model),
            "choices": [
                ["index": 0, "message": .object(message), "logprobs": nil, "finish_reason": .string(turn.stop.openAI)]
            ],
        ]
        if let usage = turn.usage { completion["usage"] = Self.usage(usage) }
        return .object(completion)
    }

    /// A chunk with one choice whose `delta` is `delta`.
    func chunk(delta: JSONValue, finishReason: String? = nil) -> JSONValue {
        [
            "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model),
            "choices": [
                [
                    "index": 0, "delta": delta, "logprobs": nil,
                    "finish_reason": finishReason.map { JSONValue.string($0) } ?? .null,
                ]
            ],
        ]
    }

    func chunk(_ delta: TurnDelta, first: Bool) -> JSONValue {
        var object: [String: JSONValue] = first ? ["role": "assistant"] : [:]
        switch delta {
        case .text(let text):
            object["content"] = .string(text)
        case .toolCall(let index, let callID, let name, let arguments):
            var call: [String: JSONValue] = ["index": .integer(Int64(index))]
            var function: [String: JSONValue] = ["arguments": .string(arguments)]
            if let callID {
                call["id"] = .string(callID)
                call["type"] = "function"
            }
            if let name { function["name"] = .string(name) }
            call["function"] = .object(function)
            object["tool_calls"] = [.object(call)]
        }
        return chunk(delta: .object(object))
    }

    /// The usage chunk `stream_options.include_usage` asks for: no choices.
    func usageChunk(_ usage: Usage) -> JSONValue {
        [
            "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model),
            "choices": [], "usage": Self.usage(usage),
        ]
    }

    static func usage(_ usage: Usage) -> JSONValue {
        var object: [String: JSONValue] = [
            "prompt_tokens": .integer(Int64(usage.promptTokens)),
            "completion_tokens": .integer(Int64(usage.completionTokens)),
            "total_tokens": .integer(Int64(usage.totalTokens)),
        ]
        if let cached = usage.cachedTokens {
            object["prompt_tokens_details"] = ["cached_tokens": .integer(Int64(cached))]
        }
        if let reasoning = usage.reasoningTokens {
            object["completion_tokens_details"] = ["reasoning_tokens": .integer(Int64(reasoning))]
        }
        return .object(object)
    }

    /// `{"error": {message, type, param, code}}`, as OpenAI's SDKs read errors.
    static func error(_ error: ModelManagerError) -> JSONValue {
        let type: String =
            switch error.code.httpStatus {
            case 400, 413, 422: "invalid_request_error"
            case 401: "authentication_error"
            case 403: "permission_error"
            case 404: "not_found_error"
            case 429: "rate_limit_exceeded"
            default: "api_error"
            }
        return [
            "error": [
                "message": .string(error.message), "type": .string(type), "param": nil,
                "code": .string(error.code.identifier),
            ]
        ]
    }
}
