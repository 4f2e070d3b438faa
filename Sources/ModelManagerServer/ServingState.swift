import Synchronization

/// Whether the server is serving, for `grpc.health.v1.Health`; watchers hear when it stops.
final class ServingState: Sendable {
    private struct State {
        var serving = true
        var watchers: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    var isServing: Bool { state.withLock { $0.serving } }

    func stopServing() {
        let watchers = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.serving = false
            defer { state.watchers.removeAll() }
            return Array(state.watchers.values)
        }
        watchers.forEach { $0.resume() }
    }

    /// Returns when serving stops or the task is cancelled.
    func waitUntilStopped() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    guard state.serving, !Task.isCancelled else { return true }
                    state.watchers[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.watchers.removeValue(forKey: id) }
            continuation?.resume()
        }
    }
}
