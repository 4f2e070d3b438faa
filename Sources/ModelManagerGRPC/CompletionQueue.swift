internal import CGRPC
import Foundation

/// What the pump calls when the completion queue reports a finished batch.
/// Retained before it is handed to C as a tag; the pump takes that retain back.
final class CompletionTag {
    let onComplete: (Bool) -> Void

    init(_ onComplete: @escaping (Bool) -> Void) { self.onComplete = onComplete }

    /// The opaque pointer to give to C. Release it with `discard` on any path where C
    /// will not report the tag (a batch that failed to start).
    func retainedPointer() -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(self).toOpaque()
    }

    static func discard(_ pointer: UnsafeMutableRawPointer) {
        Unmanaged<CompletionTag>.fromOpaque(pointer).release()
    }
}

/// Owner of one `grpc_completion_queue` and the thread that drains it.
///
/// `grpc_completion_queue_next` blocks, so it never runs on a Swift concurrency thread:
/// each queue has a dedicated thread whose only job is to hand finished batches to their tags.
final class CompletionQueue: @unchecked Sendable {
    let handle: OpaquePointer
    private let drained = DispatchSemaphore(value: 0)
    private var isShutDown = false

    init(name: String) {
        GRPCLibrary.retain()
        handle = grpc_completion_queue_create_for_next(nil)
        nonisolated(unsafe) let queue = handle
        let drained = drained
        let thread = Thread {
            while true {
                let event = grpc_completion_queue_next(queue, gpr_inf_future(GPR_CLOCK_REALTIME), nil)
                switch event.type {
                case GRPC_OP_COMPLETE:
                    let tag = Unmanaged<CompletionTag>.fromOpaque(event.tag).takeRetainedValue()
                    tag.onComplete(event.success != 0)
                case GRPC_QUEUE_SHUTDOWN:
                    drained.signal()
                    return
                default:
                    continue
                }
            }
        }
        thread.name = name
        thread.start()
    }

    /// Stops the queue once every pending tag has been reported, and waits for the pump to exit.
    /// Everything that posts to this queue (server, calls) must be shut down first.
    func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        grpc_completion_queue_shutdown(handle)
        drained.wait()
    }

    deinit {
        shutdown()
        grpc_completion_queue_destroy(handle)
        GRPCLibrary.release()
    }
}

/// `grpc_init`/`grpc_shutdown` are reference counted by libgrpc; every owner of a
/// handle holds one reference for its lifetime.
enum GRPCLibrary {
    static func retain() { grpc_init() }
    static func release() { grpc_shutdown() }
}
