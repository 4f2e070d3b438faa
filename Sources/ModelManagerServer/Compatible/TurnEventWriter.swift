import ModelManagerCore

/// States a streamed answer, read as deltas, in one API's server-sent events: the events for each
/// delta, then the closing events from the completion and the reason it stopped. An event's name,
/// when the API names its events, goes in the `event:` line.
protocol TurnEventWriter: Sendable {
    mutating func events(for delta: TurnDelta) -> [(name: StaticString?, payload: JSONValue)]
    mutating func finish(_ completion: ResponseChunk, stop: AssistantTurn.Stop) -> [(
        name: StaticString?, payload: JSONValue
    )]
}

/// Chat Completions chunks: the first carries the role; the last the finish reason, then (when
/// `stream_options.include_usage` asked) the usage chunk. After a relayed OpenAI stream the
/// closing chunks carry the upstream's id and model.
struct ChatChunkWriter: TurnEventWriter {
    let format: ChatCompletionsFormat
    let includeUsage: Bool
    let relayed: Bool
    private var started = false

    init(format: ChatCompletionsFormat, includeUsage: Bool, relayed: Bool) {
        self.format = format
        self.includeUsage = includeUsage
        self.relayed = relayed
    }

    mutating func events(for delta: TurnDelta) -> [(name: StaticString?, payload: JSONValue)] {
        defer { started = true }
        return [(nil, format.chunk(delta, first: !started))]
    }

    mutating func finish(_ completion: ResponseChunk, stop: AssistantTurn.Stop) -> [(
        name: StaticString?, payload: JSONValue
    )] {
        let format = relayed ? format.continuing(completion.rawResponse) : format
        var events: [(name: StaticString?, payload: JSONValue)] = [
            (nil, format.chunk(delta: [:], finishReason: stop.openAI))
        ]
        if includeUsage, let usage = completion.usage { events.append((nil, format.usageChunk(usage))) }
        return events
    }
}
