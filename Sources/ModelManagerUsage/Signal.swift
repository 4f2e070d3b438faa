import Synchronization

/// Wakes waiting loops (the ledger's writers when records arrive, the outbox relay when rows are
/// committed). A wake-up reaches every wait in progress; with nobody waiting it is kept for the
/// next wait. Once closed, every wait returns at once.
package final class Signal: Sendable {
    /// One `wait` from its start until it returns, then gone: nothing outlives a wait.
    private enum Slot {
        case reserved
        case waiting(CheckedContinuation<Void, Never>)
        /// Woken, timed out or cancelled before it registered.
        case expired
    }

    private struct State {
        var slots: [Int: Slot] = [:]
        var nextID = 0
        var pending = false
        var closed = false
    }

    private let state = Mutex(State())

    package init() {}

    package func fire() { wake(closing: false) }

    /// Ends every wait in progress and every later one at once.
    package func close() { wake(closing: true) }

    private func wake(closing: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = state.closed || closing
            if state.slots.isEmpty { state.pending = true }
            var waiters: [CheckedContinuation<Void, Never>] = []
            for (id, slot) in state.slots {
                switch slot {
                case .waiting(let continuation):
                    waiters.append(continuation)
                    state.slots[id] = nil
                case .reserved:
                    // Begun but not yet registered: it returns as soon as it registers.
                    state.slots[id] = .expired
                case .expired:
                    break
                }
            }
            return waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns when fired or closed, after `timeout` if one is given, or when the task is cancelled.
    package func wait(upTo timeout: Duration? = nil) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.slots[state.nextID] = .reserved
            return state.nextID
        }
        let timer = timeout.map { timeout in
            Task { [weak self] in
                // A timer cancelled because the wait already ended must not touch the wait.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                self?.resume(id)
            }
        }
        defer { timer?.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if case .expired = state.slots[id] {
                        state.slots[id] = nil
                        return true
                    }
                    if state.pending || state.closed {
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
