public import AsyncHTTPClient
public import Logging
import ModelManagerAuth
import ModelManagerCore
public import ModelManagerGRPC
public import ModelManagerProviders
public import ModelManagerUsage

/// The server: gRPC on libgrpc, routing to the provider adapters over one shared HTTP client.
public final class ModelManagerServer: Sendable {
    public let configuration: ServerConfiguration
    private let grpcServer: GRPCServer
    private let httpClient: HTTPClient
    private let serving: ServingState
    private let logger: Logger
    public let invocation: InvocationService
    private let usage: UsageService
    private let httpFace: HTTPFace

    /// The bound gRPC port (useful with port 0).
    public var grpcPort: Int { grpcServer.port }
    /// The bound HTTP port (admin API, health).
    public var httpPort: Int { httpFace.port }
    public var usageService: UsageService { usage }

    /// Opens the ledger, then starts gRPC and HTTP.
    public static func start(configuration: ServerConfiguration, logger: Logger) async throws -> ModelManagerServer {
        guard !configuration.auth.jwtSecrets.isEmpty else {
            throw ServerConfiguration.Invalid(
                "no JWT secret configured: set MODEL_MANAGER_SERVER_JWT_SECRET_KEY or auth.jwt_secrets in the configuration file")
        }
        let usage = try await UsageService(configuration: configuration.usage, logger: logger)
        let verifier = JWTVerifier(secrets: configuration.auth.jwtSecrets.map(\.revealed), leeway: configuration.auth.leeway)
        let serving = ServingState()
        let httpFace: HTTPFace
        do {
            httpFace = try await HTTPFace(address: configuration.http.address, verifier: verifier, usage: usage, serving: serving, logger: logger)
        } catch {
            await usage.shutdown()
            throw error
        }
        do {
            return try ModelManagerServer(
                configuration: configuration, usage: usage, verifier: verifier, serving: serving, httpFace: httpFace, logger: logger)
        } catch {
            await httpFace.shutdown()
            await usage.shutdown()
            throw error
        }
    }

    private init(
        configuration: ServerConfiguration, usage: UsageService, verifier: JWTVerifier, serving: ServingState, httpFace: HTTPFace, logger: Logger
    ) throws {
        self.usage = usage
        self.httpFace = httpFace
        self.serving = serving
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
        invocation = InvocationService(router: router, usage: usage, logger: logger)
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
                "grpc_address": "\(configuration.grpc.address)", "grpc_port": "\(grpcServer.port)", "http_port": "\(httpFace.port)",
                "tls": "\(configuration.grpc.tls != nil)",
                "providers": "\(invocation.router.configuredProviders.map(\.rawValue).joined(separator: ","))",
            ])
    }

    /// Graceful stop: health turns NOT_SERVING, running calls get the grace period, the rest are cancelled.
    public func shutdown() async {
        logger.info("shutting down", metadata: ["grace_seconds": "\(configuration.grpc.shutdownGrace.components.seconds)"])
        serving.stopServing()
        await grpcServer.shutdown(grace: configuration.grpc.shutdownGrace)
        await httpFace.shutdown()
        try? await httpClient.shutdown()
        // The ledger and the outbox last: every call that finished has its record committed.
        await usage.shutdown()
        logger.info("stopped")
    }
}
