internal import CGRPC
public import ModelManagerCore

/// A received message, its bytes still in the slice libgrpc gave us (no copy).
public final class ReceivedMessage: @unchecked Sendable {
    /// On the heap, because a small slice holds its bytes inline.
    private let slice = UnsafeMutablePointer<grpc_slice>.allocate(capacity: 1)

    /// Takes the buffer's bytes into one contiguous slice and destroys the buffer.
    init(takingOwnershipOf buffer: UnsafeMutablePointer<grpc_byte_buffer>) {
        var reader = grpc_byte_buffer_reader()
        if grpc_byte_buffer_reader_init(&reader, buffer) != 0 {
            slice.initialize(to: grpc_byte_buffer_reader_readall(&reader))
            grpc_byte_buffer_reader_destroy(&reader)
        } else {
            slice.initialize(to: grpc_empty_slice())
        }
        grpc_byte_buffer_destroy(buffer)
    }

    public func withUnsafeBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result)
        throws(Failure) -> Result
    {
        try body(UnsafeRawBufferPointer(start: cgrpc_slice_start(slice), count: cgrpc_slice_length(slice)))
    }

    deinit {
        grpc_slice_unref(slice.pointee)
        slice.deallocate()
    }
}

/// A message to send: the encoder writes straight into the slice libgrpc will send.
public struct OutgoingMessage: ~Copyable {
    fileprivate(set) var buffer: UnsafeMutablePointer<grpc_byte_buffer>?

    /// `write` must fill exactly `byteCount` bytes.
    public init(byteCount: Int, write: (UnsafeMutableRawBufferPointer) -> Void) {
        var slice = grpc_slice_malloc(byteCount)
        withUnsafePointer(to: &slice) { pointer in
            let start = UnsafeMutableRawPointer(mutating: cgrpc_slice_start(pointer))
            write(UnsafeMutableRawBufferPointer(start: start, count: byteCount))
        }
        buffer = grpc_raw_byte_buffer_create(&slice, 1)
        grpc_slice_unref(slice)
    }

    public init(_ message: some SerializedMessage) {
        self.init(byteCount: message.byteCount, write: message.write(into:))
    }

    public init(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self.init(byteCount: array.count) { destination in
            array.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
    }

    /// Hands the byte buffer to a batch; the batch's storage destroys it.
    consuming func take() -> UnsafeMutablePointer<grpc_byte_buffer>? {
        let taken = buffer
        buffer = nil
        return taken
    }

    deinit {
        if let buffer { grpc_byte_buffer_destroy(buffer) }
    }
}
