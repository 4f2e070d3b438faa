internal import CModelServiceProto
import Foundation
public import ModelManagerCore

/// Owns the C memory of a protobuf-c message tree built from Swift values: every
/// allocation goes through the arena and is freed with it.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    /// A new zeroed `T`, initialised by protobuf-c's `…__init`.
    func make<T>(_ type: T.Type, _ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let raw = calloc(1, MemoryLayout<T>.stride)!
        allocations.append(raw)
        let pointer = raw.bindMemory(to: T.self, capacity: 1)
        initialize(pointer)
        return pointer
    }

    func array<T>(of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(value)!
        allocations.append(UnsafeMutableRawPointer(copy))
        return copy
    }
}

/// A protobuf-c message ready to be written into an outgoing buffer.
package struct EncodedMessage: SerializedMessage, @unchecked Sendable {
    private let arena: CArena
    private let message: UnsafeMutablePointer<ProtobufCMessage>
    package let byteCount: Int

    init<T>(arena: CArena, message: UnsafeMutablePointer<T>) {
        self.arena = arena
        self.message = UnsafeMutableRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self)
        byteCount = protobuf_c_message_get_packed_size(self.message)
    }

    /// Packs the message into `buffer`, which holds exactly `byteCount` bytes.
    package func write(into buffer: UnsafeMutableRawBufferPointer) {
        let written = protobuf_c_message_pack(message, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        precondition(written == byteCount, "protobuf-c packed \(written) bytes, expected \(byteCount)")
    }

    package var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, count in
            write(into: UnsafeMutableRawBufferPointer(buffer))
            count = byteCount
        }
    }
}

/// Unpacks `bytes` with the generated `unpack` function, hands the message to `body`, then frees it.
func withUnpacked<T, Result>(
    _ messageName: String,
    from bytes: UnsafeRawBufferPointer,
    unpack: (Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<T>?,
    _ body: (UnsafePointer<T>) throws(ModelManagerError) -> Result
) throws(ModelManagerError) -> Result {
    guard let message = unpack(bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)) else {
        throw ModelManagerError(
            .invalidArgument, "request body (\(bytes.count) bytes) does not decode as \(messageName)")
    }
    defer {
        protobuf_c_message_free_unpacked(
            UnsafeMutableRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self), nil)
    }
    return try body(message)
}

/// A C string field as Swift, refusing invalid UTF-8 (protobuf-c does not check it). The field's
/// name is built only for the error: decoding is on every request's path.
func decodeString(_ pointer: UnsafePointer<CChar>?, field: @autoclosure () -> String) throws(ModelManagerError)
    -> String
{
    guard let pointer else { return "" }
    guard let string = String(validatingCString: pointer) else {
        throw ModelManagerError(.invalidArgument, "field '\(field())' is not valid UTF-8")
    }
    return string
}
