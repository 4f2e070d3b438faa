internal import CGRPC

/// One outgoing call. Each step exists as a callback primitive (run on the pump thread) with
/// an `async` form on top.
public final class ClientCall: @unchecked Sendable {
    private let call: OpaquePointer
    /// The channel (and its queue) must outlive every call made on it.
    private let channel: GRPCChannel
    /// Initial metadata is received with the first receive step, not with `start`: a server may
    /// send none until its first message, and `start` must not wait for that.
    private var initialMetadataRequested = false

    init(takingOwnership call: OpaquePointer, channel: GRPCChannel) {
        self.call = call
        self.channel = channel
    }

    deinit { grpc_call_unref(call) }

    /// Cancels the call; the peer sees CANCELLED and pending steps complete.
    public func cancel() {
        grpc_call_cancel(call, nil)
    }

    // MARK: callback primitives

    /// Sends the metadata and the one request message, and half-closes.
    public func start(
        metadata: Metadata, message: consuming OutgoingMessage, onComplete: @escaping @Sendable (Bool) -> Void
    ) {
        start(metadata: metadata, buffer: message.take(), onComplete: onComplete)
    }

    private func start(
        metadata: Metadata, buffer: UnsafeMutablePointer<grpc_byte_buffer>?,
        onComplete: @escaping @Sendable (Bool) -> Void
    ) {
        let outgoing = OutgoingMetadata(metadata)
        let ops = [Batch.sendInitialMetadata(outgoing), Batch.sendMessage(buffer), Batch.sendCloseFromClient()]
        Batch.start(call, ops) { ok in
            withExtendedLifetime(outgoing) {}
            if let buffer { grpc_byte_buffer_destroy(buffer) }
            onComplete(ok)
        }
    }

    /// The next response message; nil at the end of the stream.
    public func receiveMessage(onComplete: @escaping @Sendable (ReceivedMessage?) -> Void) {
        let slot = Cell<UnsafeMutablePointer<grpc_byte_buffer>?>(nil)
        var ops = [Batch.receiveMessage(into: slot.pointer)]
        let initial = initialMetadataOp(into: &ops)
        Batch.start(call, ops) { ok in
            withExtendedLifetime(initial) {}
            let message = slot.takeMessage()
            onComplete(ok ? message : nil)
        }
    }

    /// The final status and trailing metadata.
    public func receiveStatus(onComplete: @escaping @Sendable (GRPCStatus, Metadata) -> Void) {
        let trailing = MetadataArrayCell()
        let code = Cell(GRPC_STATUS_UNKNOWN)
        let details = Cell(grpc_empty_slice())
        var op = grpc_op()
        op.op = GRPC_OP_RECV_STATUS_ON_CLIENT
        op.data.recv_status_on_client.trailing_metadata = trailing.pointer
        op.data.recv_status_on_client.status = code.pointer
        op.data.recv_status_on_client.status_details = details.pointer
        var ops = [op]
        let initial = initialMetadataOp(into: &ops)
        Batch.start(call, ops) { _ in
            withExtendedLifetime(initial) {}
            let status = GRPCStatus(
                code: .init(rawValue: Int(code.value.rawValue)), message: String(slice: details.value))
            grpc_slice_unref(details.value)
            onComplete(status, trailing.metadata)
        }
    }

    private func initialMetadataOp(into ops: inout [grpc_op]) -> MetadataArrayCell? {
        guard !initialMetadataRequested else { return nil }
        initialMetadataRequested = true
        let initial = MetadataArrayCell()
        ops.append(Batch.receiveInitialMetadata(into: initial.pointer))
        return initial
    }

    // MARK: async

    public func start(metadata: Metadata, message: consuming OutgoingMessage) async -> Bool {
        let buffer = message.take()
        return await withUnsafeContinuation { continuation in
            start(metadata: metadata, buffer: buffer) { continuation.resume(returning: $0) }
        }
    }

    public func receiveMessage() async -> ReceivedMessage? {
        await withUnsafeContinuation { continuation in
            receiveMessage { continuation.resume(returning: $0) }
        }
    }

    public func receiveStatus() async -> (GRPCStatus, Metadata) {
        await withUnsafeContinuation { continuation in
            receiveStatus { continuation.resume(returning: ($0, $1)) }
        }
    }
}
