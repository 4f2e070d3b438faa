/// An incremental parser of server-sent events (the WHATWG `text/event-stream` format):
/// bytes go in as they arrive, complete events come out.
public struct SSEParser: Sendable {
    public struct Event: Sendable, Hashable {
        public var name: String?
        public var data: String

        public init(name: String?, data: String) {
            self.name = name
            self.data = data
        }
    }

    /// Raised when one line or one event's data grows past `maximumEventBytes`: a peer that
    /// never ends a line must not grow memory without bound.
    public struct EventTooLarge: Error, Sendable, CustomStringConvertible {
        public let limit: Int
        public var description: String { "a server-sent event exceeded \(limit) bytes" }
    }

    /// The largest line, and the largest event's data, that is buffered.
    public let maximumEventBytes: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var name: String?
    private var lastByteWasCarriageReturn = false

    public init(maximumEventBytes: Int = 32 << 20) { self.maximumEventBytes = maximumEventBytes }

    /// Feeds bytes; returns the events they completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(EventTooLarge) -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            if byte == 0x0A, lastByteWasCarriageReturn {
                // The \n of a \r\n pair: the line already ended at \r.
                lastByteWasCarriageReturn = false
                continue
            }
            lastByteWasCarriageReturn = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let event = try endLine() { events.append(event) }
            } else {
                guard line.count < maximumEventBytes else { throw EventTooLarge(limit: maximumEventBytes) }
                line.append(byte)
            }
        }
        return events
    }

    /// Whether bytes of an unfinished event are buffered (a stream cut mid-event).
    public var hasPartialEvent: Bool { !line.isEmpty || hasData }

    private mutating func endLine() throws(EventTooLarge) -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard hasData else {
                name = nil
                return nil
            }
            let event = Event(name: name, data: String(decoding: data, as: UTF8.self))
            data.removeAll(keepingCapacity: true)
            hasData = false
            name = nil
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = colon.map { Array(line[..<$0]) } ?? line
        var value = colon.map { Array(line[line.index(after: $0)...]) } ?? []
        if value.first == UInt8(ascii: " ") { value.removeFirst() }
        switch String(decoding: field, as: UTF8.self) {
        case "data":
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            // An event of many short data lines is bounded too.
            guard data.count <= maximumEventBytes else { throw EventTooLarge(limit: maximumEventBytes) }
            hasData = true
        case "event":
            name = String(decoding: value, as: UTF8.self)
        default:
            break
        }
        return nil
    }
}
