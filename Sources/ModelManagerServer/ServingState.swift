import ModelManagerUsage

/// Whether the server is serving, for `grpc.health.v1.Health` and `/readyz`; watchers hear
/// when it stops.
final class ServingState: Sendable {
    private let stopped = Milestone()

    var isServing: Bool { !stopped.isOpen }

    func stopServing() { stopped.open() }

    /// Returns when serving stops or the task is cancelled.
    func waitUntilStopped() async { try? await stopped.wait() }
}
