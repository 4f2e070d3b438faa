/// An incremental parser of server-sent events (the WHATWG `text/event-stream` format):
/// bytes go in as they arrive, complete events come out.
///
/// It runs once per upstream chunk on the streaming path, so it works on contiguous bytes: a
/// line that arrived whole is read where it lies, and only a line cut between two chunks is
/// copied into the pending-line buffer.
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
    /// The start of a line whose end has not arrived yet.
    private var pendingLine: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var name: String?
    private var lastByteWasCarriageReturn = false

    public init(maximumEventBytes: Int = 32 << 20) { self.maximumEventBytes = maximumEventBytes }

    /// Feeds bytes; returns the events they completed.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(EventTooLarge) -> [Event] {
        var events: [Event] = []
        let fed: Result<Void, EventTooLarge>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(EventTooLarge) in try feed(buffer, into: &events) }
        }
        if let fed {
            try fed.get()
        } else {
            try Array(bytes).withUnsafeBufferPointer { buffer throws(EventTooLarge) in try feed(buffer, into: &events) }
        }
        return events
    }

    /// Whether bytes of an unfinished event are buffered (a stream cut mid-event).
    public var hasPartialEvent: Bool { !pendingLine.isEmpty || hasData }

    private mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, into events: inout [Event]) throws(EventTooLarge) {
        var index = 0
        if lastByteWasCarriageReturn, bytes.first == 0x0A {
            // The \n of a \r\n pair split across chunks: the line already ended at \r.
            index = 1
        }
        lastByteWasCarriageReturn = false
        var lineStart = index
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x0A || byte == 0x0D else {
                index += 1
                continue
            }
            let tail = UnsafeBufferPointer(rebasing: bytes[lineStart..<index])
            guard pendingLine.count + tail.count <= maximumEventBytes else {
                throw EventTooLarge(limit: maximumEventBytes)
            }
            if pendingLine.isEmpty {
                if let event = try endLine(tail) { events.append(event) }
            } else {
                pendingLine.append(contentsOf: tail)
                // Moved out (endLine mutates self) and back, so the buffer keeps its capacity.
                var line: [UInt8] = []
                swap(&line, &pendingLine)
                let event = try line.withUnsafeBufferPointer { line throws(EventTooLarge) in try endLine(line) }
                line.removeAll(keepingCapacity: true)
                pendingLine = line
                if let event { events.append(event) }
            }
            index += 1
            if byte == 0x0D {
                if index < bytes.count {
                    if bytes[index] == 0x0A { index += 1 }
                } else {
                    lastByteWasCarriageReturn = true
                }
            }
            lineStart = index
        }
        let rest = UnsafeBufferPointer(rebasing: bytes[lineStart...])
        guard pendingLine.count + rest.count <= maximumEventBytes else { throw EventTooLarge(limit: maximumEventBytes) }
        pendingLine.append(contentsOf: rest)
    }

    private mutating func endLine(_ line: UnsafeBufferPointer<UInt8>) throws(EventTooLarge) -> Event? {
        guard let first = line.first else {
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
        if first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let field = UnsafeBufferPointer(rebasing: line[..<colon])
        var valueStart = colon == line.endIndex ? colon : colon + 1
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = UnsafeBufferPointer(rebasing: line[valueStart...])
        if field.elementsEqual("data".utf8) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            // An event of many short data lines is bounded too.
            guard data.count <= maximumEventBytes else { throw EventTooLarge(limit: maximumEventBytes) }
            hasData = true
        } else if field.elementsEqual("event".utf8) {
            name = String(decoding: value, as: UTF8.self)
        }
        return nil
    }
}
