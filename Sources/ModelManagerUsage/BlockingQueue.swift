import Dispatch

/// A thread of its own for a C library's blocking calls (libnats waits for PubAcks,
/// libmosquitto for connects), so they never run on a Swift concurrency thread. Work runs
/// one call at a time, in order.
struct BlockingQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try work() }) }
        }
    }
}
