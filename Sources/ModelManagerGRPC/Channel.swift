internal import CGRPC
import Foundation
import ModelManagerCore
import Synchronization

/// A client channel to one server address, with its own completion queue and pump thread.
public final class GRPCChannel: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// `host:port` (or any libgrpc target, e.g. `dns:///host:port`).
        public var target: String
        public var tls: TLSClientConfiguration?
        public var arguments: ChannelArguments

        public init(target: String, tls: TLSClientConfiguration? = nil, arguments: ChannelArguments = .clientDefaults) {
            self.target = target
            self.tls = tls
            self.arguments = arguments
            if let name = tls?.serverNameOverride {
                self.arguments.set("grpc.ssl_target_name_override", .string(name))
            }
        }
    }

    /// A `grpc_channel*` that may cross threads (libgrpc channels are thread-safe).
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// nil once closed.
    private let channel: Mutex<Handle?>
    let queue: CompletionQueue

    public init(configuration: Configuration) {
        GRPCLibrary.retain()
        queue = CompletionQueue(name: "grpc-client-cq")
        let credentials = configuration.tls?.makeCredentials() ?? grpc_insecure_credentials_create()
        channel = Mutex(
            Handle(
                pointer: configuration.arguments.withUnsafeChannelArgs { args in
                    grpc_channel_create(configuration.target, credentials, args)
                }))
        grpc_channel_credentials_release(credentials)
    }

    deinit {
        close()
        GRPCLibrary.release()
    }

    /// Destroys the channel; calls already made run to their end, new ones cannot be made.
    public func close() {
        let handle = channel.withLock { handle -> Handle? in
            defer { handle = nil }
            return handle
        }
        if let handle { grpc_channel_destroy(handle.pointer) }
    }

    /// A new call to `path` (`/package.Service/Method`) that must end within `timeout`; nil once closed.
    public func makeCall(path: String, timeout: Duration?) -> ClientCall? {
        let deadline: gpr_timespec
        if let timeout {
            deadline = gpr_time_add(
                gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_nanos(timeout.wholeNanoseconds, GPR_TIMESPAN))
        } else {
            deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC)
        }
        let method = grpc_slice(copying: path)
        defer { grpc_slice_unref(method) }
        // No parent call, so the propagation mask is irrelevant. The lock keeps close() from
        // destroying the channel while a call is being created on it.
        let call = channel.withLock { handle -> Handle? in
            guard let handle else { return nil }
            return grpc_channel_create_call(handle.pointer, nil, 0xFFFF, queue.handle, method, nil, deadline, nil).map(
                Handle.init)
        }
        return call.map { ClientCall(takingOwnership: $0.pointer, channel: self) }
    }
}

extension ChannelArguments {
    /// The client settings of the Python SDK (PROTOCOL.md §1), so both clients behave alike.
    public static var clientDefaults: ChannelArguments {
        var arguments = ChannelArguments()
        arguments.set("grpc.max_send_message_length", -1)
        arguments.set("grpc.max_receive_message_length", -1)
        arguments.set("grpc.keepalive_time_ms", 60_000)
        arguments.set("grpc.keepalive_timeout_ms", 10_000)
        arguments.set("grpc.keepalive_permit_without_calls", 1)
        arguments.set("grpc.http2.max_pings_without_data", 0)
        arguments.set("grpc.primary_user_agent", .string("model-manager-swift/0.1"))
        return arguments
    }
}
