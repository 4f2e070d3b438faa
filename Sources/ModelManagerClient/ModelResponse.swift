public import ModelManagerCore
import ModelManagerWire

/// One answer (or, in a stream, one chunk) as the server sent it.
public struct ModelResponse: Sendable, Hashable {
    /// The text, or the delta of a stream chunk.
    public var content: String
    /// Typed token counts, when the item carries usage (a stream's last chunk).
    public var usage: Usage?
    /// The usage object as sent, with its extra keys (`total_cost`, `currency`, `served_by`).
    public var usageJSON: JSONValue?
    public var rawResponse: JSONValue?
    /// Set when this item failed (a stream's in-band error, a batch item's failure).
    public var error: String?
    public var requestID: String?
    public var customID: String?

    init(_ item: WireResponseItem) {
        self.init(
            content: item.content, usageJSON: item.usage.isEmpty ? nil : try? JSONValue(parsing: item.usage),
            rawResponse: item.rawResponse.isEmpty ? nil : try? JSONValue(parsing: item.rawResponse),
            error: item.error.isEmpty ? nil : item.error, requestID: item.requestID, customID: item.customID)
    }

    /// An item of the HTTP face (`usage` and `raw_response` are objects there).
    init(json: JSONValue) {
        self.init(
            content: json["content"]?.stringValue ?? "", usageJSON: json["usage"].flatMap { $0.isNull ? nil : $0 },
            rawResponse: json["raw_response"].flatMap { $0.isNull ? nil : $0 }, error: json["error"]?.stringValue,
            requestID: json["request_id"]?.stringValue, customID: json["custom_id"]?.stringValue)
    }

    package init(
        content: String, usageJSON: JSONValue?, rawResponse: JSONValue?, error: String?, requestID: String?,
        customID: String?
    ) {
        self.content = content
        self.usageJSON = usageJSON
        usage = usageJSON.flatMap(Usage.init(json:))
        self.rawResponse = rawResponse
        self.error = error.flatMap { $0.isEmpty ? nil : $0 }
        self.requestID = requestID
        self.customID = customID
    }

    /// The cost the server computed, when it knows the model's price.
    public var cost: Double? { usageJSON?["total_cost"]?.doubleValue }

    /// Why the model stopped, in OpenAI's words (`stop`, `length`, `tool_calls`, `content_filter`),
    /// from an OpenAI, Responses, Google or Anthropic `raw_response`.
    public var finishReason: String? {
        guard let raw = rawResponse else { return nil }
        if let reason = raw["choices"]?[0]?["finish_reason"]?.stringValue { return reason }
        if let reason = raw["candidates"]?[0]?["finishReason"]?.stringValue {
            if !toolCalls.isEmpty { return "tool_calls" }
            return [
                "STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter",
            ][reason] ?? reason.lowercased()
        }
        if let reason = raw["stop_reason"]?.stringValue {
            return ["end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"][
                reason] ?? reason
        }
        if raw["object"]?.stringValue == "response", let status = raw["status"]?.stringValue {
            if !toolCalls.isEmpty { return "tool_calls" }
            return status == "completed"
                ? "stop" : raw["incomplete_details"]?["reason"]?.stringValue == "max_output_tokens" ? "length" : status
        }
        return nil
    }

    /// Tool calls the model asked for, from any of the provider shapes, in OpenAI's form.
    public var toolCalls: [ToolCall] {
        guard let raw = rawResponse else { return [] }
        if let calls = raw["choices"]?[0]?["message"]?["tool_calls"]?.arrayValue {
            return calls.compactMap { call in
                guard let name = call["function"]?["name"]?.stringValue else { return nil }
                return ToolCall(
                    id: call["id"]?.stringValue ?? "", name: name,
                    arguments: call["function"]?["arguments"]?.stringValue ?? "{}")
            }
        }
        if let parts = raw["candidates"]?[0]?["content"]?["parts"]?.arrayValue {
            return parts.enumerated().compactMap { index, part in
                guard let call = part["functionCall"], let name = call["name"]?.stringValue else { return nil }
                return ToolCall(id: "call_\(index)_\(name)", name: name, arguments: (call["args"] ?? [:]).jsonText)
            }
        }
        if let blocks = raw["content"]?.arrayValue {
            return blocks.compactMap { block in
                guard block["type"]?.stringValue == "tool_use", let name = block["name"]?.stringValue else {
                    return nil
                }
                return ToolCall(
                    id: block["id"]?.stringValue ?? "", name: name, arguments: (block["input"] ?? [:]).jsonText)
            }
        }
        if let items = raw["output"]?.arrayValue {
            return items.compactMap { item in
                guard item["type"]?.stringValue == "function_call", let name = item["name"]?.stringValue else {
                    return nil
                }
                return ToolCall(
                    id: item["call_id"]?.stringValue ?? "", name: name,
                    arguments: item["arguments"]?.stringValue ?? "{}")
            }
        }
        return []
    }
}

/// A function the model asked to call; `arguments` is JSON text.
public struct ToolCall: Sendable, Hashable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

public struct BatchModelResponse: Sendable, Hashable {
    public var requestID: String
    /// One per request item, in request order.
    public var responses: [ModelResponse]
}

public struct TaskStatus: Sendable, Hashable {
    public var taskID: String
    public var provider: String?
    public var channel: String?
    public var invokeType: String?
    public var model: String?
    public var status: String
    public var createdAt: String?
    public var completedAt: String?
    public var resultData: JSONValue?
    public var errorMessage: String?

    init(_ wire: WireTaskStatus) {
        func optional(_ text: String) -> String? { text.isEmpty ? nil : text }
        taskID = wire.taskID
        provider = optional(wire.provider)
        channel = optional(wire.channel)
        invokeType = optional(wire.invokeType)
        model = optional(wire.model)
        status = wire.status
        createdAt = optional(wire.createdAt)
        completedAt = optional(wire.completedAt)
        resultData = wire.resultData.isEmpty ? nil : try? JSONValue(parsing: wire.resultData)
        errorMessage = optional(wire.errorMessage)
    }
}
