public import ModelManagerCore

/// Bounds on a decoded request, checked on its bytes before protobuf-c sees them: protobuf-c
/// recurses without limit (about 4,500 nested lists overflow a thread's stack), cuts strings at
/// NUL, and turns an 8 MB message of empty values into hundreds of MB of structures.
public struct WireLimits: Sendable, Hashable {
    /// Nesting of `Struct` and `ListValue` inside `extra`.
    public var maximumDepth = 64
    /// `Value`s in one request (all batch items together).
    public var maximumValues = 200_000

    public init(maximumDepth: Int = 64, maximumValues: Int = 200_000) {
        self.maximumDepth = maximumDepth
        self.maximumValues = maximumValues
    }
}

/// A walk over protobuf bytes that knows just enough of the `model_service` schema to find every
/// string and every nested value. It allocates nothing unless it fails; the failure names the
/// field path, as decoding would (`items[2].extra.messages[0].content`).
struct WirePreScan {
    /// What a field holds, as far as the scan cares.
    enum Shape {
        case string
        case message(Message)
        case scalar
    }

    enum Message {
        case requestBatch, requestItem, structure, mapEntry, value, list, taskRequest, taskBatchRequest

        func shape(of field: UInt64) -> (name: StaticString, shape: Shape)? {
            switch (self, field) {
            case (.requestBatch, 1): ("items", .message(.requestItem))
            case (.requestItem, 1): ("provider", .string)
            case (.requestItem, 2): ("channel", .string)
            case (.requestItem, 3): ("invoke_type", .string)
            case (.requestItem, 5): ("org_id", .string)
            case (.requestItem, 6): ("user_id", .string)
            case (.requestItem, 7): ("client_type", .string)
            case (.requestItem, 9): ("custom_id", .string)
            case (.requestItem, 10): ("extra", .message(.structure))
            case (.requestItem, 11): ("region", .string)
            case (.structure, 1): ("", .message(.mapEntry))
            case (.mapEntry, 1): ("key", .string)
            case (.mapEntry, 2): ("", .message(.value))
            case (.value, 3): ("", .string)
            case (.value, 5): ("", .message(.structure))
            case (.value, 6): ("", .message(.list))
            case (.list, 1): ("", .message(.value))
            case (.taskRequest, 1): ("task_id", .string)
            case (.taskBatchRequest, 1): ("task_ids", .string)
            default: nil
            }
        }

        /// The protobuf name of a root message, for errors.
        var protoName: String {
            switch self {
            case .requestBatch: "model_service.ModelRequest"
            case .requestItem: "model_service.ModelRequestItem"
            case .taskRequest: "model_service.GetTaskStatusRequest"
            case .taskBatchRequest: "model_service.BatchGetTaskStatusRequest"
            case .structure: "google.protobuf.Struct"
            case .mapEntry: "google.protobuf.Struct.FieldsEntry"
            case .value: "google.protobuf.Value"
            case .list: "google.protobuf.ListValue"
            }
        }

        /// Nesting that counts against `maximumDepth`.
        var nests: Bool { self == .structure || self == .list }
        var isRepeatedRoot: Bool { self == .requestBatch || self == .taskBatchRequest }
    }

    /// One step of the path to the current field, kept as cheap values until a message needs it.
    enum Segment {
        case field(StaticString)
        case key(UnsafeRawBufferPointer?)
        case index(Int)
    }

    private let limits: WireLimits
    private let root: Message
    private let byteCount: Int
    private var values = 0
    private var path: [Segment] = []

    /// Checks `bytes` as a `message`; throws INVALID_ARGUMENT naming the offending field.
    static func check(_ bytes: UnsafeRawBufferPointer, as message: Message, limits: WireLimits)
        throws(ModelManagerError)
    {
        var scan = WirePreScan(limits: limits, root: message, byteCount: bytes.count)
        scan.path.reserveCapacity(16)
        try scan.walk(bytes, as: message, depth: 0)
    }

    private init(limits: WireLimits, root: Message, byteCount: Int) {
        self.limits = limits
        self.root = root
        self.byteCount = byteCount
    }

    private mutating func walk(_ bytes: UnsafeRawBufferPointer, as message: Message, depth: Int)
        throws(ModelManagerError)
    {
        var reader = Reader(bytes: bytes)
        var occurrences = 0
        var pendingKey: UnsafeRawBufferPointer?
        while !reader.isAtEnd {
            guard let tag = reader.varint() else { throw malformed() }
            let field = tag >> 3
            switch tag & 7 {
            case 0: guard reader.varint() != nil else { throw malformed() }
            case 1: guard reader.skip(8) else { throw malformed() }
            case 5: guard reader.skip(4) else { throw malformed() }
            case 2:
                guard let payload = reader.lengthDelimited() else { throw malformed() }
                guard let (name, shape) = message.shape(of: field) else { continue }
                switch shape {
                case .scalar: continue
                case .string:
                    if message == .mapEntry { pendingKey = payload }
                    if payload.contains(0) {
                        push(name, message: message, occurrence: occurrences, key: pendingKey)
                        throw ModelManagerError(.invalidArgument, "field '\(pathText())' contains a NUL character")
                    }
                    if message == .taskBatchRequest { occurrences += 1 }
                case .message(let inner):
                    if inner == .value {
                        values += 1
                        guard values <= limits.maximumValues else {
                            throw ModelManagerError(
                                .invalidArgument,
                                "request holds more than \(limits.maximumValues) values in extra; split it into smaller requests"
                            )
                        }
                    }
                    let innerDepth = inner.nests ? depth + 1 : depth
                    guard innerDepth <= limits.maximumDepth else {
                        throw ModelManagerError(
                            .invalidArgument, "field '\(pathText())' nests deeper than \(limits.maximumDepth) levels")
                    }
                    let pushed = push(name, message: message, occurrence: occurrences, key: pendingKey)
                    try walk(payload, as: inner, depth: innerDepth)
                    path.removeLast(pushed)
                    if message == .list || message.isRepeatedRoot { occurrences += 1 }
                }
            default:
                throw malformed()
            }
        }
    }

    /// Adds the steps that name the field to `path`; returns how many it added.
    @discardableResult
    private mutating func push(_ name: StaticString, message: Message, occurrence: Int, key: UnsafeRawBufferPointer?)
        -> Int
    {
        switch message {
        case .requestBatch, .taskBatchRequest:
            path.append(.field(name))
            path.append(.index(occurrence))
            return 2
        case .list: path.append(.index(occurrence))
        case .mapEntry: path.append(.key(key))
        case .requestItem, .taskRequest: path.append(.field(name))
        case .structure, .value: return 0
        }
        return 1
    }

    private func pathText() -> String {
        var text = ""
        for segment in path {
            switch segment {
            case .field(let name):
                text += text.isEmpty ? "\(name)" : ".\(name)"
            case .key(let key):
                // A key is caller bytes: shown only up to 64 bytes, control characters as '?'.
                let shown = (key.map { Array($0.prefix(64)) } ?? Array("?".utf8)).map {
                    $0 < 0x20 ? UInt8(ascii: "?") : $0
                }
                text += "." + String(decoding: shown, as: UTF8.self)
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text.isEmpty ? "request" : text
    }

    private func malformed() -> ModelManagerError {
        ModelManagerError(
            .invalidArgument,
            "request body (\(byteCount) bytes) does not decode as \(root.protoName) (malformed at '\(pathText())')")
    }

    /// Protobuf's primitive encodings over a byte range, bounds-checked.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var isAtEnd: Bool { offset >= bytes.count }

        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }

        mutating func skip(_ count: Int) -> Bool {
            guard bytes.count - offset >= count else { return false }
            offset += count
            return true
        }

        mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
            guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
            let start = offset
            offset += Int(length)
            return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
        }
    }
}
