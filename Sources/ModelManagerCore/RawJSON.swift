/// JSON text relayed as it arrived: an upstream's own answer or stream event, already checked
/// to be JSON by the parse that read what the gateway needs from it. It is written out as it
/// is (gRPC `raw_response` text, or spliced into the HTTP face's JSON), never parsed and
/// serialised again.
public struct RawJSON: Sendable, Hashable {
    public let text: String

    /// `text` must be one JSON value: the caller parsed it already.
    public init(validated text: String) { self.text = text }

    /// A value the gateway built itself (a merged stream summary, a translated answer).
    public init(_ value: JSONValue) { text = value.jsonText }

    /// The value, parsed again: for the rare reader of the structure, never the relay path.
    public var value: JSONValue? { try? JSONValue(parsing: text) }
}
