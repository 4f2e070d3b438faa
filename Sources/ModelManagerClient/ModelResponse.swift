public import ModelManagerCore
import ModelManagerWire

/// One answer (or, in a stream, one chunk) as the server sent it.
public struct ModelResponse: Sendable, Hashable {
    /// The text, or the delta of a stream chunk.
    public var content: String
    /// Typed token counts, when the item carries usage (a stream's last chunk).
    public var usage: Usage?
    /// The usage object as sent, with any extra keys (cost, …).
    public var usageJSON: JSONValue?
    public var rawResponse: JSONValue?
    /// Set when this item failed (a stream's in-band error, a batch item's failure).
    public var error: String?
    public var requestID: String?
    public var customID: String?

    init(_ item: WireResponseItem) {
        content = item.content
        usageJSON = item.usage.isEmpty ? nil : try? JSONValue(parsing: item.usage)
        usage = usageJSON.flatMap(Usage.init(json:))
        rawResponse = item.rawResponse.isEmpty ? nil : try? JSONValue(parsing: item.rawResponse)
        error = item.error.isEmpty ? nil : item.error
        requestID = item.requestID
        customID = item.customID
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
