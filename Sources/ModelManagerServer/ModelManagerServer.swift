public import AsyncHTTPClient
public import Logging
import ModelManagerAuth
import ModelManagerCore
public import ModelManagerGRPC
public import ModelManagerProviders
public import ModelManagerUsage

/// The server: gRPC on libgrpc and HTTP on Hummingbird in front of one invocation service,
/// routing to the provider adapters over one shared HTTP client, accounting in one ledger.
public final class ModelManagerServer: Sendable {
    public let configuration: ServerConfiguration
    public let invocation: InvocationService
    private let grpcServer: GRPCServer
    private let httpFace: HTTPFace
    private let httpClient: HTTPClient
    private let serving: ServingState
    private let logger: Logger

    /// The bound gRPC port (useful with port 0).
    public var grpcPort: Int { grpcServer.port }
    /// The bound HTTP port (invoke fallback, admin API, health).
    public var httpPort: Int { httpFace.port }
    public var usageService: UsageService { invocation.usage }

    /// Opens the ledger, then starts HTTP and gRPC.
    public static func start(configuration: ServerConfiguration, logger: Logger) async throws -> ModelManagerServer {
        try configuration.validate()
        let usage = try await UsageService(configuration: configuration.usage, logger: logger)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout.connect = .seconds(5)
        // A refused upstream fails at once (UNAVAILABLE) so the invoker can move to the next
        // credential or alias target; AsyncHTTPClient would otherwise retry until the connect timeout.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        // Sized so that no call waits for a connection (a wait would end as UNAVAILABLE, which
        // clients retry); HTTP/2 is used where the upstream offers it over TLS.
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit =
            configuration.upstreamConnectionsPerHost ?? configuration.limits.maximumConcurrentCalls
        clientConfiguration.httpVersion = .automatic
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let router = Router(
            settings: configuration.providers, registry: .standard(http: UpstreamHTTP(client: httpClient)), aliases: configuration.aliases,
            pool: CredentialPool(cooldown: configuration.credentialCooldown))
        let invocation = InvocationService(router: router, usage: usage, limits: configuration.limits, logger: logger)
        let verifier = JWTVerifier(secrets: configuration.auth.jwtSecrets.map(\.revealed), leeway: configuration.auth.leeway)
        let adminVerifier = configuration.auth.adminJWTSecrets.isEmpty
            ? nil : JWTVerifier(secrets: configuration.auth.adminJWTSecrets.map(\.revealed), leeway: configuration.auth.leeway)
        let serving = ServingState()
        var httpFace: HTTPFace?
        do {
            let face = try await HTTPFace(
                configuration: configuration.http, verifier: verifier, adminVerifier: adminVerifier, recordedHeaders: configuration.recordedHeaders, usage: usage, invocation: invocation,
                serving: serving, logger: logger)
            httpFace = face
            let modelService = ModelServiceHandlers(
                invocation: invocation, verifier: verifier, wireLimits: configuration.wire, recordedHeaders: configuration.recordedHeaders)
            let health = HealthHandlers(serving: serving, services: ["", ModelServiceHandlers.service])
            let grpcServer = try GRPCServer(
                configuration: .init(
                    address: configuration.grpc.address, tls: configuration.grpc.tls, maxReceiveMessageBytes: configuration.grpc.maxReceiveMessageBytes,
                    maxConcurrentStreams: configuration.grpc.maxConcurrentStreams),
                handlers: modelService.methods.merging(health.methods) { first, _ in first })
            return ModelManagerServer(
                configuration: configuration, invocation: invocation, grpcServer: grpcServer, httpFace: face, httpClient: httpClient,
                serving: serving, logger: logger)
        } catch {
            await httpFace?.shutdown()
            try? await httpClient.shutdown()
            await usage.shutdown()
            throw error
        }
    }

    private init(
        configuration: ServerConfiguration, invocation: InvocationService, grpcServer: GRPCServer, httpFace: HTTPFace, httpClient: HTTPClient,
        serving: ServingState, logger: Logger
    ) {
        self.configuration = configuration
        self.invocation = invocation
        self.grpcServer = grpcServer
        self.httpFace = httpFace
        self.httpClient = httpClient
        self.serving = serving
        self.logger = logger
        logger.info(
            "model-manager listening",
            metadata: [
                "grpc_address": "\(configuration.grpc.address)", "grpc_port": "\(grpcServer.port)", "http_port": "\(httpFace.port)",
                "tls": "\(configuration.grpc.tls != nil)", "admin_api": "\(configuration.auth.adminJWTSecrets.isEmpty ? "off" : "on")",
                "max_concurrent_calls": "\(configuration.limits.maximumConcurrentCalls)",
                "providers": "\(invocation.router.configuredProviders.map(\.rawValue).joined(separator: ","))",
            ])
    }

    /// Graceful stop: health turns NOT_SERVING, running calls get the grace period, the rest are
    /// cancelled; the ledger and the outbox go last, so every finished call has its record.
    public func shutdown() async {
        logger.info("shutting down", metadata: ["grace_seconds": "\(configuration.grpc.shutdownGrace.components.seconds)"])
        serving.stopServing()
        await grpcServer.shutdown(grace: configuration.grpc.shutdownGrace)
        await httpFace.shutdown()
        try? await httpClient.shutdown()
        await invocation.usage.shutdown()
        logger.info("stopped")
    }
}
