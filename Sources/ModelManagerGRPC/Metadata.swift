internal import CGRPC

/// gRPC metadata: an ordered list of key/value pairs (keys lower-case ASCII).
public struct Metadata: Sendable, Hashable, Sequence {
    public private(set) var entries: [Entry]

    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(_ entries: [(String, String)] = []) {
        self.entries = entries.map { Entry(key: $0.0, value: $0.1) }
    }

    public mutating func append(_ key: String, _ value: String) {
        entries.append(Entry(key: key.lowercased(), value: value))
    }

    /// The first value for `key`.
    public subscript(key: String) -> String? {
        entries.first { $0.key == key }?.value
    }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    init(copying array: grpc_metadata_array) {
        var entries: [Entry] = []
        entries.reserveCapacity(array.count)
        for index in 0..<array.count {
            let item = array.metadata[index]
            entries.append(Entry(key: String(slice: item.key), value: String(slice: item.value)))
        }
        self.entries = entries
    }
}

/// C storage of outgoing metadata, alive until the batch that sends it completes.
final class OutgoingMetadata {
    let pointer: UnsafeMutablePointer<grpc_metadata>?
    let count: Int

    init(_ metadata: Metadata) {
        count = metadata.entries.count
        guard count > 0 else {
            pointer = nil
            return
        }
        let pointer = UnsafeMutablePointer<grpc_metadata>.allocate(capacity: count)
        for (index, entry) in metadata.entries.enumerated() {
            var item = grpc_metadata()
            item.key = grpc_slice(copying: entry.key)
            item.value = grpc_slice(copying: entry.value)
            (pointer + index).initialize(to: item)
        }
        self.pointer = pointer
    }

    deinit {
        guard let pointer else { return }
        for index in 0..<count {
            grpc_slice_unref(pointer[index].key)
            grpc_slice_unref(pointer[index].value)
        }
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}

extension String {
    init(slice: grpc_slice) {
        var slice = slice
        self = withUnsafePointer(to: &slice) { pointer in
            let length = cgrpc_slice_length(pointer)
            guard length > 0, let start = cgrpc_slice_start(pointer) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: start, count: length), as: UTF8.self)
        }
    }
}

extension grpc_slice {
    init(copying string: String) {
        var string = string
        self = string.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                grpc_slice_from_copied_buffer(chars.baseAddress, chars.count)
            }
        }
    }
}
