import Synchronization

/// Wakes waiting loops early (the outbox relay, when new rows are committed); a wake-up with
/// nobody waiting is kept for the next wait.
package final class Signal: Sendable {
    /// One `wait` from its start until it returns, then gone: nothing outlives a wait.
    private enum Slot {
        case reserved
        case waiting(CheckedContinuation<Void, Never>)
        /// Its timer fired, or its task was cancelled, before it registered.
        case expired
    }

    private struct State {
        var slots: [Int: Slot] = [:]
        var nextID = 0
        var pending = false
    }

    private let state = Mutex(State())

    package init() {}

    package func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var waiters: [CheckedContinuation<Void, Never>] = []
            for (id, slot) in state.slots {
                if case .waiting(let continuation) = slot {
                    waiters.append(continuation)
                    state.slots[id] = nil
                }
            }
            if waiters.isEmpty { state.pending = true }
            return waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns when fired, after `timeout`, or when the task is cancelled.
    package func wait(upTo timeout: Duration) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.slots[state.nextID] = .reserved
            return state.nextID
        }
        let timer = Task { [weak self] in
            // A timer cancelled because the wait already ended must not touch the wait.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self?.resume(id)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if case .expired = state.slots[id] {
                        state.slots[id] = nil
                        return true
                    }
                    if state.pending {
                        state.pending = false
                        state.slots[id] = nil
                        return true
                    }
                    state.slots[id] = .waiting(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.resume(id)
        }
    }

    /// Waits in progress; every wait that returned has left nothing behind.
    package var waitsInProgress: Int { state.withLock { $0.slots.count } }

    private func resume(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.slots[id] {
            case .waiting(let continuation):
                state.slots[id] = nil
                return continuation
            case .reserved:
                state.slots[id] = .expired
                return nil
            case .expired, nil:
                return nil
            }
        }
        waiter?.resume()
    }
}
