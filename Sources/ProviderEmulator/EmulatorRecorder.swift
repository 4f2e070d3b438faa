public import ModelManagerCore
import Synchronization

/// What the emulator saw, for tests to assert on what actually reached the "upstream".
public final class EmulatorRecorder: Sendable {
    public struct Request: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: JSONValue?
    }

    private struct State {
        var requests: [Request] = []
        var abortedStreams = 0
        var completedStreams = 0
    }

    private let state = Mutex(State())
    private let capacity = 256

    func record(_ request: Request) {
        state.withLock { state in
            state.requests.append(request)
            if state.requests.count > capacity { state.requests.removeFirst(state.requests.count - capacity) }
        }
    }

    func streamAborted() { state.withLock { $0.abortedStreams += 1 } }
    func streamCompleted() { state.withLock { $0.completedStreams += 1 } }

    /// The most recent requests, oldest first.
    public var requests: [Request] { state.withLock { $0.requests } }
    public var lastRequest: Request? { state.withLock { $0.requests.last } }
    /// Streams whose client went away before the last event was written.
    public var abortedStreams: Int { state.withLock { $0.abortedStreams } }
    public var completedStreams: Int { state.withLock { $0.completedStreams } }
}
