import AsyncHTTPClient
public import Logging
import ModelManagerAuth
import ModelManagerCore
import ModelManagerGRPC
import ModelManagerProviders
public import ModelManagerUsage
import ServiceLifecycle
public import UnixSignals

/// The server: gRPC on libgrpc and HTTP on Hummingbird in front of one invocation service,
/// routing to the provider adapters over one shared HTTP client, accounting in one ledger.
///
/// Every long-lived part runs as a Service in one ServiceGroup, in this order: the PostgreSQL
/// pool (when the ledger is there), the outbox relay, the ledger writer, the HTTP face, the gRPC
/// face. The group starts them together (the faces and the relay wait until the ledger has
/// prepared the database) and stops them in reverse: gRPC stops accepting and gives running
/// calls the grace period, then HTTP, then the ledger commits or spills what is pending, then
/// the relay and the pool stop.
public final class ModelManagerServer: Sendable {
    public let configuration: ServerConfiguration
    public let invocation: InvocationService
    /// The bound gRPC port (useful with port 0).
    public let grpcPort: Int
    /// The bound HTTP port (invoke fallback, admin API, health).
    public let httpPort: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    public var usageService: UsageService { invocation.usage }

    /// Builds every part, runs the group, and returns once both faces listen. A part that cannot
    /// start (a busy port, a database that cannot be migrated) ends start-up with its error.
    /// `shutdownSignals` begin the graceful stop (the CLI passes SIGTERM and SIGINT).
    public static func start(
        configuration: ServerConfiguration, shutdownSignals: [UnixSignal] = [], logger: Logger
    ) async throws -> ModelManagerServer {
        try configuration.validate()
        let metrics = GatewayMetrics(
            settings: configuration.metrics, providers: configuration.providers.map(\.provider))
        let usage = try UsageService(
            configuration: configuration.usage, commitTimer: metrics.ledgerCommit,
            alertPublishers: configuration.alertWebhook.map { [WebhookPublisher(settings: $0)] } ?? [],
            logger: logger)
        // Calls go through `UpstreamConnections`; this client only fetches Google's OAuth tokens.
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout.connect = .seconds(5)
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.tracing.tracer = nil
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        // Sized so that no call waits for a connection by default: one per call in flight.
        let upstreams = try UpstreamConnections(
            settings: .init(
                maximumPerOrigin: configuration.upstreamConnectionsPerHost
                    ?? configuration.limits.maximumConcurrentCalls,
                idleTimeout: configuration.upstreamIdleTimeout, extraTrustRootsFile: configuration.upstreamCAFile))
        let router = Router(
            settings: configuration.providers,
            registry: .standard(http: UpstreamHTTP(client: httpClient, connections: upstreams)),
            aliases: configuration.aliases,
            pool: CredentialPool(cooldown: configuration.credentialCooldown))
        let auditor = Auditor(
            log: AuditLog(database: usage.repository.database), settings: configuration.audit, logger: logger)
        let tracer =
            try configuration.tracing.enabled ? CallTracer(settings: configuration.tracing, logger: logger) : nil
        let invocation = InvocationService(
            router: router, usage: usage, limits: configuration.limits, quotas: configuration.quotas,
            tasks: configuration.tasks, cache: configuration.cache, metrics: metrics, tracer: tracer, auditor: auditor,
            logger: logger)
        let verifier = JWTVerifier(
            clients: configuration.auth.jwtSecrets.map { JWTVerifier.Client(secret: $0.revealed) }
                + configuration.auth.clients.map { client in
                    JWTVerifier.Client(name: client.name, secret: client.secret.revealed, orgIDs: client.orgIDs)
                },
            leeway: configuration.auth.leeway)
        let authenticator = CallerAuthenticator(
            tokens: verifier,
            keys: configuration.auth.apiKeyPepper.map { pepper in
                APIKeyVerifier(
                    store: APIKeyStore(database: usage.repository.database), pepper: pepper,
                    cacheLifetime: configuration.auth.apiKeyCacheLifetime,
                    maximumCachedKeys: configuration.auth.apiKeyCacheSize)
            }, auditor: auditor, metrics: metrics)
        let adminVerifier =
            configuration.auth.adminJWTSecrets.isEmpty
            ? nil
            : JWTVerifier(
                secrets: configuration.auth.adminJWTSecrets.map(\.revealed), leeway: configuration.auth.leeway)
        let serving = ServingState()
        let (listening, report) = AsyncStream.makeStream(of: ListeningPort.self)
        let httpFace: HTTPFace
        do {
            httpFace = try HTTPFace(
                configuration: configuration.http, authenticator: authenticator, adminVerifier: adminVerifier,
                apiKeyPepper: configuration.auth.apiKeyPepper, quotaSettings: configuration.quotas,
                recordedHeaders: configuration.recordedHeaders,
                maximumExtraDepth: configuration.wire.maximumDepth, usage: usage, invocation: invocation,
                serving: serving, logger: logger
            ) { report.yield(.http($0)) }
        } catch {
            upstreams.shutdown()
            try? await httpClient.shutdown()
            throw error
        }
        let modelService = ModelServiceHandlers(
            invocation: invocation, authenticator: authenticator, wireLimits: configuration.wire,
            recordedHeaders: configuration.recordedHeaders)
        let health = HealthHandlers(serving: serving, services: ["", ModelServiceHandlers.service])
        let grpcFace = GRPCFace(
            configuration: .init(
                address: configuration.grpc.address, tls: configuration.grpc.tls,
                maxReceiveMessageBytes: configuration.grpc.maxReceiveMessageBytes,
                maxConcurrentStreams: configuration.grpc.maxConcurrentStreams),
            handlers: modelService.methods.merging(health.methods) { first, _ in first },
            grace: configuration.grpc.shutdownGrace,
            startsAfter: usage.ready, serving: serving, logger: logger
        ) { report.yield(.grpc($0)) }

        let exporters: [any Service] = tracer.map { [$0.service] } ?? []
        var groupConfiguration = ServiceGroupConfiguration(
            services: usage.services + [auditor] + exporters + invocation.services
                + [
                    TaskCallbacks(queue: invocation.tasks, ready: usage.ready, logger: logger),
                    TaskWorkers(invocation: invocation, ready: usage.ready, logger: logger), httpFace, grpcFace,
                ],
            gracefulShutdownSignals: shutdownSignals,
            logger: logger)
        // A part that ignores the stop is cancelled after every part's own bound has passed.
        groupConfiguration.maximumGracefulShutdownDuration =
            configuration.grpc.shutdownGrace + usage.ledger.shutdownGrace + .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        let running = Task {
            defer { report.finish() }
            var failure: (any Error)?
            do {
                try await group.run()
            } catch {
                failure = error
            }
            // Nothing calls upstream or writes any more.
            upstreams.shutdown()
            try? await httpClient.shutdown()
            await usage.close()
            if let failure { throw failure }
            logger.info("stopped")
        }
        var grpcPort: Int?
        var httpPort: Int?
        for await port in listening {
            switch port {
            case .grpc(let bound): grpcPort = bound
            case .http(let bound): httpPort = bound
            }
            if grpcPort != nil, httpPort != nil { break }
        }
        guard let grpcPort, let httpPort else {
            try await running.value
            throw ServerConfiguration.Invalid("the server stopped during start-up")
        }
        let server = ModelManagerServer(
            configuration: configuration, invocation: invocation, grpcPort: grpcPort, httpPort: httpPort, group: group,
            running: running)
        logger.info(
            "model-manager listening",
            metadata: [
                "grpc_address": "\(configuration.grpc.address)", "grpc_port": "\(grpcPort)", "http_port": "\(httpPort)",
                "tls": "\(configuration.grpc.tls != nil)",
                "admin_api":
                    "\(configuration.auth.adminJWTSecrets.isEmpty && configuration.auth.apiKeyPepper == nil ? "off" : "on")",
                "api_keys": "\(configuration.auth.apiKeyPepper == nil ? "off" : "on")",
                "max_concurrent_calls": "\(configuration.limits.maximumConcurrentCalls)",
                "providers": "\(invocation.router.configuredProviders.map(\.rawValue).joined(separator: ","))",
            ])
        return server
    }

    private enum ListeningPort {
        case grpc(Int)
        case http(Int)
    }

    private init(
        configuration: ServerConfiguration, invocation: InvocationService, grpcPort: Int, httpPort: Int,
        group: ServiceGroup,
        running: Task<Void, any Error>
    ) {
        self.configuration = configuration
        self.invocation = invocation
        self.grpcPort = grpcPort
        self.httpPort = httpPort
        self.group = group
        self.running = running
    }

    /// Returns once the server has stopped: after a shutdown signal or `shutdown`, or when a
    /// part failed (its error is thrown).
    public func waitUntilStopped() async throws {
        try await running.value
    }

    /// The graceful stop the shutdown signals begin, for callers that stop the server themselves.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}
