import ModelManagerCore
import Synchronization

/// What one server lets its callers run at once. Every bound answers RESOURCE_EXHAUSTED (a
/// retry later can help) or INVALID_ARGUMENT (the request itself is too big), never a stall.
public struct InvocationLimits: Sendable, Hashable {
    /// Calls running at once across gRPC and HTTP, streams and batch items included.
    public var maximumConcurrentCalls = 2048
    /// Items in one BatchInvoke.
    public var maximumBatchItems = 1000
    /// Items of one batch that run at once.
    public var batchConcurrency = 16

    public init() {}
}

/// Counts running calls against `InvocationLimits.maximumConcurrentCalls`: one atomic add per
/// call, no lock and no queue (a call over the limit is refused, not parked).
final class CallSlots: Sendable {
    private let running = Atomic<Int>(0)
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Takes a slot, or refuses with a status that tells the caller a retry can help.
    func acquire() throws(ModelManagerError) {
        let (_, now) = running.add(1, ordering: .relaxed)
        guard now <= capacity else {
            running.subtract(1, ordering: .relaxed)
            throw ModelManagerError(
                .resourceExhausted, "the server is running its limit of \(capacity) concurrent calls; retry shortly")
        }
    }

    func release() { running.subtract(1, ordering: .relaxed) }

    var inUse: Int { running.load(ordering: .relaxed) }
}
