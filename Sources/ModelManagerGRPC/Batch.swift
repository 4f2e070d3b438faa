internal import CGRPC

/// Builders for the `grpc_op`s this layer uses, and the one place a batch is started.
enum Batch {
    /// Starts `ops` on `call`; `onComplete` runs on the pump thread when the batch finishes.
    /// Everything the ops point to must stay alive until then: the caller keeps it in the closure.
    static func start(_ call: OpaquePointer, _ ops: [grpc_op], onComplete: @escaping (Bool) -> Void) {
        let tag = CompletionTag(onComplete).retainedPointer()
        let result = ops.withUnsafeBufferPointer { buffer in
            grpc_call_start_batch(call, buffer.baseAddress, buffer.count, tag, nil)
        }
        if result != GRPC_CALL_OK {
            // C will never report this tag: release it here and fail the batch.
            CompletionTag.discard(tag)
            onComplete(false)
        }
    }

    /// `start`, awaited.
    static func run(_ call: OpaquePointer, _ ops: [grpc_op]) async -> Bool {
        await withUnsafeContinuation { continuation in
            start(call, ops) { continuation.resume(returning: $0) }
        }
    }

    static func sendInitialMetadata(_ metadata: OutgoingMetadata) -> grpc_op {
        var op = grpc_op()
        op.op = GRPC_OP_SEND_INITIAL_METADATA
        op.data.send_initial_metadata.count = metadata.count
        op.data.send_initial_metadata.metadata = metadata.pointer
        return op
    }

    static func sendMessage(_ buffer: UnsafeMutablePointer<grpc_byte_buffer>?) -> grpc_op {
        var op = grpc_op()
        op.op = GRPC_OP_SEND_MESSAGE
        op.data.send_message.send_message = buffer
        return op
    }

    static func sendCloseFromClient() -> grpc_op {
        var op = grpc_op()
        op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT
        return op
    }

    static func receiveMessage(into slot: UnsafeMutablePointer<UnsafeMutablePointer<grpc_byte_buffer>?>) -> grpc_op {
        var op = grpc_op()
        op.op = GRPC_OP_RECV_MESSAGE
        op.data.recv_message.recv_message = slot
        return op
    }

    static func receiveInitialMetadata(into array: UnsafeMutablePointer<grpc_metadata_array>) -> grpc_op {
        var op = grpc_op()
        op.op = GRPC_OP_RECV_INITIAL_METADATA
        op.data.recv_initial_metadata.recv_initial_metadata = array
        return op
    }
}

/// A single heap cell that C writes into during a batch.
final class Cell<Value> {
    let pointer: UnsafeMutablePointer<Value>

    init(_ initial: Value) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: initial)
    }

    var value: Value { pointer.pointee }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}

/// A byte buffer received into a cell becomes a message (or nil at end of stream).
extension Cell where Value == UnsafeMutablePointer<grpc_byte_buffer>? {
    func takeMessage() -> ReceivedMessage? {
        guard let buffer = pointer.pointee else { return nil }
        pointer.pointee = nil
        return ReceivedMessage(takingOwnershipOf: buffer)
    }
}

/// Storage for a `grpc_metadata_array` that C fills.
final class MetadataArrayCell {
    let pointer: UnsafeMutablePointer<grpc_metadata_array>

    init() {
        pointer = .allocate(capacity: 1)
        grpc_metadata_array_init(pointer)
    }

    var metadata: Metadata { Metadata(copying: pointer.pointee) }

    deinit {
        grpc_metadata_array_destroy(pointer)
        pointer.deallocate()
    }
}
