internal import CGRPC
import Foundation
import Synchronization

/// A handler for one method path, e.g. `/model_service.ModelService/Invoke`.
public typealias ServerMethodHandler = @Sendable (ServerCall) async -> Void

/// A gRPC server on libgrpc: one completion queue per core, each drained by its own thread;
/// every call runs its handler in its own task.
public final class GRPCServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// `host:port`; port 0 picks a free port (read `port` afterwards).
        public var address: String
        public var tls: TLSServerConfiguration?
        /// Files and images travel base64 inside requests: libgrpc's 4 MiB default is too small.
        public var maxReceiveMessageBytes: Int
        /// Completion queues (and pump threads).
        public var queueCount: Int
        /// Calls requested ahead on each queue, so bursts do not wait on the accept loop.
        public var pendingCallsPerQueue: Int
        /// Calls one HTTP/2 connection may run at once (SETTINGS_MAX_CONCURRENT_STREAMS).
        public var maxConcurrentStreams: Int

        public init(
            address: String,
            tls: TLSServerConfiguration? = nil,
            maxReceiveMessageBytes: Int = 64 << 20,
            queueCount: Int? = nil,
            pendingCallsPerQueue: Int = 32,
            maxConcurrentStreams: Int = 1000
        ) {
            self.maxConcurrentStreams = maxConcurrentStreams
            self.address = address
            self.tls = tls
            self.maxReceiveMessageBytes = maxReceiveMessageBytes
            self.queueCount = max(1, queueCount ?? ProcessInfo.processInfo.activeProcessorCount)
            self.pendingCallsPerQueue = max(1, pendingCallsPerQueue)
        }

        var channelArguments: ChannelArguments {
            var arguments = ChannelArguments()
            // libgrpc turns SO_REUSEPORT on: a second server on a busy port would start silently.
            arguments.set("grpc.so_reuseport", 0)
            arguments.set("grpc.max_receive_message_length", maxReceiveMessageBytes)
            arguments.set("grpc.max_send_message_length", -1)
            arguments.set("grpc.max_concurrent_streams", maxConcurrentStreams)
            // Clients (the Python SDK among them) ping every 60 s, also with no call running: that
            // is allowed down to one ping per 10 s; a peer that pings faster is sent GOAWAY after
            // two strikes rather than served forever.
            arguments.set("grpc.keepalive_permit_without_calls", 1)
            arguments.set("grpc.http2.min_ping_interval_without_data_ms", 10_000)
            arguments.set("grpc.http2.max_ping_strikes", 2)
            return arguments
        }
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private let server: OpaquePointer
    private let queues: [CompletionQueue]
    private let handlers: [String: ServerMethodHandler]
    /// The bound port.
    public let port: Int
    private let state = Mutex(State.running)

    private enum State {
        case running
        case shuttingDown
        case stopped
    }

    public init(configuration: Configuration, handlers: [String: ServerMethodHandler]) throws {
        GRPCLibrary.retain()
        self.handlers = handlers
        server = configuration.channelArguments.withUnsafeChannelArgs { grpc_server_create($0, nil) }
        queues = (0..<configuration.queueCount).map { CompletionQueue(name: "grpc-server-cq-\($0)") }
        for queue in queues {
            grpc_server_register_completion_queue(server, queue.handle, nil)
        }
        let credentials = configuration.tls?.makeCredentials() ?? grpc_insecure_server_credentials_create()
        let bound = grpc_server_add_http2_port(server, configuration.address, credentials)
        grpc_server_credentials_release(credentials)
        guard bound > 0 else {
            grpc_server_destroy(server)
            queues.forEach { $0.shutdown() }
            GRPCLibrary.release()
            throw StartError(description: "the address is in use or invalid")
        }
        port = Int(bound)
        grpc_server_start(server)
        for queue in queues {
            for _ in 0..<configuration.pendingCallsPerQueue { requestCall(on: queue) }
        }
    }

    deinit {
        let stopped = state.withLock { $0 == .stopped }
        if !stopped {
            // Not shut down by its owner: stop at once.
            let done = DispatchSemaphore(value: 0)
            let tag = CompletionTag { _ in done.signal() }.retainedPointer()
            grpc_server_shutdown_and_notify(server, queues[0].handle, tag)
            grpc_server_cancel_all_calls(server)
            done.wait()
        }
        grpc_server_destroy(server)
        queues.forEach { $0.shutdown() }
        GRPCLibrary.release()
    }

    private func requestCall(on queue: CompletionQueue) {
        let callSlot = Cell<OpaquePointer?>(nil)
        let details = Cell(grpc_call_details())
        grpc_call_details_init(details.pointer)
        let requestMetadata = MetadataArrayCell()
        let tag = CompletionTag { [self] ok in
            defer { grpc_call_details_destroy(details.pointer) }
            guard ok, let call = callSlot.value else { return }
            dispatch(
                ServerCall(
                    takingOwnership: call,
                    queue: queue,
                    method: String(slice: details.value.method),
                    metadata: requestMetadata.metadata,
                    deadline: Self.instant(details.value.deadline)
                )
            )
            if state.withLock({ $0 == .running }) { requestCall(on: queue) }
        }.retainedPointer()
        let result = grpc_server_request_call(
            server, callSlot.pointer, details.pointer, requestMetadata.pointer, queue.handle, queue.handle, tag)
        if result != GRPC_CALL_OK {
            CompletionTag.discard(tag)
            grpc_call_details_destroy(details.pointer)
        }
    }

    private func dispatch(_ call: ServerCall) {
        call.startReceivingClose()
        let handler = handlers[call.method]
        let task = Task {
            if let handler {
                await handler(call)
            }
            if !call.isFinished {
                let status =
                    handler == nil
                    ? GRPCStatus(code: .unimplemented, message: "method \(call.method) is not implemented")
                    : GRPCStatus(code: .internalError, message: "handler ended without a status")
                await call.finish(status)
            }
        }
        call.watchForCancellation(of: task)
    }

    /// Stops accepting calls, lets running calls finish within `grace`, cancels the rest,
    /// and returns once every call has ended.
    public func shutdown(grace: Duration) async {
        let shouldStop = state.withLock { state -> Bool in
            guard state == .running else { return false }
            state = .shuttingDown
            return true
        }
        guard shouldStop else { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: grace)
            if state.withLock({ $0 == .shuttingDown }) { grpc_server_cancel_all_calls(server) }
        }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let tag = CompletionTag { _ in continuation.resume() }.retainedPointer()
            grpc_server_shutdown_and_notify(server, queues[0].handle, tag)
        }
        state.withLock { $0 = .stopped }
        timer.cancel()
    }

    /// A libgrpc deadline as an instant of the continuous clock; nil for "no deadline".
    static func instant(_ deadline: gpr_timespec) -> ContinuousClock.Instant? {
        let monotonic = gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC)
        let remaining = gpr_time_sub(monotonic, gpr_now(GPR_CLOCK_MONOTONIC))
        // gpr_inf_future converts to a huge remaining time.
        guard remaining.tv_sec < 100 * 365 * 86_400 else { return nil }
        return ContinuousClock.now + .seconds(remaining.tv_sec) + .nanoseconds(remaining.tv_nsec)
    }
}
