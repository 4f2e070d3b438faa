public import AsyncHTTPClient
public import Logging
import ModelManagerAuth
import ModelManagerCore
public import ModelManagerGRPC
public import ModelManagerProviders

/// The server: gRPC on libgrpc, routing to the provider adapters over one shared HTTP client.
public final class ModelManagerServer: Sendable {
    public let configuration: ServerConfiguration
    private let grpcServer: GRPCServer
    private let httpClient: HTTPClient
    private let serving = ServingState()
    private let logger: Logger
    public let invocation: InvocationService

    /// The bound gRPC port (useful with port 0).
    public var grpcPort: Int { grpcServer.port }

    public init(configuration: ServerConfiguration, logger: Logger) throws {
        guard !configuration.auth.jwtSecrets.isEmpty else {
            throw ServerConfiguration.Invalid(
                "no JWT secret configured: set MODEL_MANAGER_SERVER_JWT_SECRET_KEY or auth.jwt_secrets in the configuration file")
        }
        self.configuration = configuration
        self.logger = logger
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout.connect = .seconds(10)
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let http = UpstreamHTTP(client: httpClient)
        let router = Router(
            settings: configuration.providers, registry: .standard(http: http), aliases: configuration.aliases,
            pool: CredentialPool(cooldown: configuration.credentialCooldown))
        invocation = InvocationService(router: router, logger: logger)
        let verifier = JWTVerifier(secrets: configuration.auth.jwtSecrets.map(\.revealed), leeway: configuration.auth.leeway)
        let modelService = ModelServiceHandlers(invocation: invocation, verifier: verifier, logger: logger)
        let health = HealthHandlers(serving: serving, services: ["", ModelServiceHandlers.service])
        do {
            grpcServer = try GRPCServer(
                configuration: .init(
                    address: configuration.grpc.address, tls: configuration.grpc.tls,
                    maxReceiveMessageBytes: configuration.grpc.maxReceiveMessageBytes),
                handlers: modelService.methods.merging(health.methods) { first, _ in first })
        } catch {
            try? httpClient.syncShutdown()
            throw error
        }
        logger.info(
            "model-manager listening",
            metadata: [
                "grpc_address": "\(configuration.grpc.address)", "grpc_port": "\(grpcServer.port)",
                "tls": "\(configuration.grpc.tls != nil)",
                "providers": "\(invocation.router.configuredProviders.map(\.rawValue).joined(separator: ","))",
            ])
    }

    /// Graceful stop: health turns NOT_SERVING, running calls get the grace period, the rest are cancelled.
    public func shutdown() async {
        logger.info("shutting down", metadata: ["grace_seconds": "\(configuration.grpc.shutdownGrace.components.seconds)"])
        serving.stopServing()
        await grpcServer.shutdown(grace: configuration.grpc.shutdownGrace)
        try? await httpClient.shutdown()
        logger.info("stopped")
    }
}
