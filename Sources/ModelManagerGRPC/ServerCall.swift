internal import CGRPC
import Synchronization

/// One incoming call. The handler receives its request, sends messages and finishes
/// with a status; a peer that cancels (or whose deadline passes) cancels the handler's task.
public final class ServerCall: @unchecked Sendable {
    private let call: OpaquePointer
    /// Keeps the queue that reports this call's batches alive as long as the call.
    private let queue: CompletionQueue
    public let method: String
    public let metadata: Metadata
    /// When the peer stops waiting; nil when it set no deadline.
    public let deadline: ContinuousClock.Instant?

    private enum Cancellation {
        case running(Task<Void, Never>?)
        case cancelled
    }

    private let cancellation = Mutex(Cancellation.running(nil))
    // Touched only by the handler, which sends one batch at a time.
    private var initialMetadataSent = false
    private(set) var isFinished = false

    init(
        takingOwnership call: OpaquePointer, queue: CompletionQueue, method: String, metadata: Metadata,
        deadline: ContinuousClock.Instant?
    ) {
        self.call = call
        self.queue = queue
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
    }

    deinit { grpc_call_unref(call) }

    /// The peer's address as the audit log records it: `127.0.0.1`, `::1`, or libgrpc's own
    /// form (`unix:/path`) for other transports.
    public var peerAddress: String? {
        guard let peer = grpc_call_get_peer(call) else { return nil }
        defer { gpr_free(peer) }
        return Self.address(fromPeer: String(cString: peer))
    }

    /// `ipv4:10.0.0.1:5000` → `10.0.0.1`; `ipv6:[::1]:5000` → `::1`.
    static func address(fromPeer peer: String) -> String {
        if peer.hasPrefix("ipv4:"), let colon = peer.lastIndex(of: ":"),
            colon > peer.index(peer.startIndex, offsetBy: 4)
        {
            return String(peer[peer.index(peer.startIndex, offsetBy: 5)..<colon])
        }
        if peer.hasPrefix("ipv6:["), let close = peer.lastIndex(of: "]") {
            return String(peer[peer.index(peer.startIndex, offsetBy: 6)..<close])
        }
        return peer
    }

    /// Starts watching for the peer's close, so a cancelled call cancels `task`.
    func watchForCancellation(of task: Task<Void, Never>) {
        let alreadyCancelled = cancellation.withLock { state -> Bool in
            if case .cancelled = state { return true }
            state = .running(task)
            return false
        }
        if alreadyCancelled { task.cancel() }
    }

    func startReceivingClose() {
        let cancelled = Cell<Int32>(0)
        var op = grpc_op()
        op.op = GRPC_OP_RECV_CLOSE_ON_SERVER
        op.data.recv_close_on_server.cancelled = cancelled.pointer
        Batch.start(call, [op]) { [self] _ in
            guard cancelled.value != 0 else { return }
            let task = cancellation.withLock { state -> Task<Void, Never>? in
                defer { state = .cancelled }
                if case .running(let task) = state { return task }
                return nil
            }
            task?.cancel()
        }
    }

    /// Whether the peer has gone (cancelled, deadline passed, connection lost).
    public var isCancelled: Bool {
        cancellation.withLock { if case .cancelled = $0 { true } else { false } }
    }

    /// The request message; nil when the peer half-closed without one or went away.
    public func receiveMessage() async -> ReceivedMessage? {
        let slot = Cell<UnsafeMutablePointer<grpc_byte_buffer>?>(nil)
        let ok = await Batch.run(call, [Batch.receiveMessage(into: slot.pointer)])
        return ok ? slot.takeMessage() : nil
    }

    /// Sends one message; false when the peer is gone.
    @discardableResult
    public func send(_ message: consuming OutgoingMessage) async -> Bool {
        let buffer = message.take()
        defer { if let buffer { grpc_byte_buffer_destroy(buffer) } }
        var ops: [grpc_op] = []
        let initial = initialMetadataOp(into: &ops)
        ops.append(Batch.sendMessage(buffer))
        let ok = await Batch.run(call, ops)
        withExtendedLifetime(initial) {}
        return ok
    }

    /// Ends the call with `status`, sending `message` first when given.
    public func finish(_ status: GRPCStatus, trailers: Metadata = Metadata()) async {
        await finish(status, trailers: trailers, buffer: nil)
    }

    public func finish(
        sending message: consuming OutgoingMessage, status: GRPCStatus = .ok, trailers: Metadata = Metadata()
    ) async {
        let buffer = message.take()
        defer { if let buffer { grpc_byte_buffer_destroy(buffer) } }
        await finish(status, trailers: trailers, buffer: buffer)
    }

    private func finish(_ status: GRPCStatus, trailers: Metadata, buffer: UnsafeMutablePointer<grpc_byte_buffer>?) async
    {
        guard !isFinished else { return }
        isFinished = true
        var ops: [grpc_op] = []
        let initial = initialMetadataOp(into: &ops)
        if let buffer { ops.append(Batch.sendMessage(buffer)) }
        let trailing = OutgoingMetadata(trailers)
        let details = Cell(grpc_slice(copying: status.message))
        defer { grpc_slice_unref(details.value) }
        var op = grpc_op()
        op.op = GRPC_OP_SEND_STATUS_FROM_SERVER
        op.data.send_status_from_server.status = grpc_status_code(rawValue: Int32(status.code.rawValue))
        op.data.send_status_from_server.status_details = details.pointer
        op.data.send_status_from_server.trailing_metadata_count = trailing.count
        op.data.send_status_from_server.trailing_metadata = trailing.pointer
        ops.append(op)
        _ = await Batch.run(call, ops)
        withExtendedLifetime((initial, trailing)) {}
    }

    private func initialMetadataOp(into ops: inout [grpc_op]) -> OutgoingMetadata? {
        guard !initialMetadataSent else { return nil }
        initialMetadataSent = true
        let metadata = OutgoingMetadata(Metadata())
        ops.append(Batch.sendInitialMetadata(metadata))
        return metadata
    }
}
