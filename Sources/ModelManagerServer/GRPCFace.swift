import Logging
import ModelManagerGRPC
import ModelManagerUsage
import ServiceLifecycle

/// The gRPC server as a Service: it listens once the ledger is ready (a call is never accepted
/// that could not be recorded), and at graceful shutdown health turns NOT_SERVING, running calls
/// get the grace period, the rest are cancelled, and the server and its queues are destroyed.
final class GRPCFace: Service {
    private let configuration: GRPCServer.Configuration
    private let handlers: [String: ServerMethodHandler]
    private let grace: Duration
    private let startsAfter: Milestone
    private let serving: ServingState
    private let logger: Logger
    private let onListening: @Sendable (Int) -> Void

    init(
        configuration: GRPCServer.Configuration, handlers: [String: ServerMethodHandler], grace: Duration,
        startsAfter: Milestone,
        serving: ServingState, logger: Logger, onListening: @escaping @Sendable (Int) -> Void
    ) {
        self.logger = logger
        self.configuration = configuration
        self.handlers = handlers
        self.grace = grace
        self.startsAfter = startsAfter
        self.serving = serving
        self.onListening = onListening
    }

    func run() async throws {
        try await startsAfter.wait()
        let server: GRPCServer
        do {
            server = try GRPCServer(configuration: configuration, handlers: handlers)
        } catch {
            throw ServerConfiguration.Invalid("cannot listen for gRPC on \(configuration.address): \(error)")
        }
        onListening(server.port)
        // Cancelled rather than shut down (the group gave up waiting): running calls get no grace.
        let graceful = (try? await gracefulShutdown()) != nil
        logger.info("shutting down", metadata: ["grace_seconds": "\(graceful ? grace.components.seconds : 0)"])
        serving.stopServing()
        await server.shutdown(grace: graceful ? grace : .zero)
    }
}
