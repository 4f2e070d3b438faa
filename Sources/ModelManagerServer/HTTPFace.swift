import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import ModelManagerAuth
import ModelManagerCore
import ModelManagerGRPC
import ModelManagerUsage
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The server's HTTP side (Hummingbird): invoke fallback, the admin statistics API and health.
/// A Service beside the gRPC face: it listens once the ledger is ready and, at graceful
/// shutdown, stops accepting and lets running requests finish.
final class HTTPFace: Service {
    private let address: String
    private let application: any Service
    private let startsAfter: Milestone
    private let listening = Milestone()

    init(
        configuration: ServerConfiguration.HTTP, authenticator: CallerAuthenticator, adminVerifier: JWTVerifier?,
        apiKeyPepper: Secret?, quotaSettings: QuotaSettings,
        recordedHeaders: RecordedHeaders,
        maximumExtraDepth: Int, usage: UsageService, invocation: InvocationService, serving: ServingState,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void
    ) throws {
        address = configuration.address
        startsAfter = usage.ready
        let (host, port) = try Self.split(address)
        let router = Router(context: FaceContext.self)
        let admin = AdminAPI(
            verifier: adminVerifier, clientTokens: authenticator.tokens, keys: authenticator.keys,
            issuer: apiKeyPepper.map {
                APIKeyIssuer(store: APIKeyStore(database: usage.repository.database), pepper: $0)
            },
            quotas: QuotaAdmin(
                store: QuotaStore(database: usage.repository.database), counters: invocation.quotaCounters,
                settings: quotaSettings),
            repository: usage.repository, auditor: authenticator.auditor)
        router.get("/api/v1/admin/token-stats") { request, context in
            await admin.respond(request, context) { try await admin.tokenStats($0, $1) }
        }
        router.get("/api/v1/admin/llm-usage") { request, context in
            await admin.respond(request, context) { try await admin.llmUsage($0, $1) }
        }
        admin.register(on: router)
        admin.registerQuotas(on: router)
        admin.registerAudit(on: router)
        AdminConsole.register(on: router)
        // The response cache's counters: one in-process cache for all orgs, so global admins only.
        router.get("/api/v1/admin/cache") { request, context in
            await admin.respond(request, context) { caller, _ in
                guard caller.orgID == nil else {
                    throw ModelManagerError(.permissionDenied, "the cache's counters are for global admins only")
                }
                return invocation.cache.counters.json
            }
        }
        let invoke = HTTPInvokeAPI(
            invocation: invocation, authenticator: authenticator, recordedHeaders: recordedHeaders,
            maximumBodyDepth: maximumExtraDepth + 2)
        router.post("/v1/invoke") { request, context in await invoke.invoke(request, context) }
        router.post("/v1/batch-invoke") { request, context in await invoke.batchInvoke(request, context) }
        router.get("/v1/tasks/{id}") { request, context in await invoke.task(request, context) }
        let compatible = CompatibleAPI(invoke: invoke)
        router.post("/v1/chat/completions") { request, context in await compatible.chatCompletions(request, context) }
        router.post("/v1/messages") { request, context in await compatible.messages(request, context) }
        router.post("/v1/responses") { request, context in await compatible.responses(request, context) }
        router.post("/v1/embeddings") { request, context in await compatible.embeddings(request, context) }
        router.get("/v1/models") { request, context in await compatible.models(request, context) }
        router.get("/metrics") { request, _ in
            let metrics = invocation.metrics
            guard metrics.settings.enabled else {
                return HTTPJSON.error(ModelManagerError(.notFound, "metrics are off (metrics.enabled is false)"))
            }
            if let token = metrics.settings.bearerToken,
                !APIKeySecret.equal(request.headers[.authorization] ?? "", "Bearer " + token.revealed)
            {
                return HTTPJSON.error(ModelManagerError(.unauthenticated, "/metrics needs the metrics bearer token"))
            }
            let levels = GatewayMetrics.Levels(
                callsRunning: invocation.runningCalls, ledgerPending: usage.ledger.pendingCount,
                ledgerCommitted: usage.ledger.committed, outboxBacklog: await usage.relay.refreshBacklog(),
                cache: invocation.cache.counters)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition(levels))))
        }
        router.get("/healthz") { _, _ in HTTPJSON.response(200, ["status": "ok"]) }
        router.get("/readyz") { _, _ in
            let ledgerUsable = await Self.answersWithin(.seconds(1)) { try await usage.repository.probeWrite() }
            let backlog = ledgerUsable ? await usage.relay.refreshBacklog() : usage.relay.backlog
            let ready = ledgerUsable && serving.isServing
            return HTTPJSON.response(
                ready ? 200 : 503,
                [
                    "status": .string(ready ? "ready" : "not ready"),
                    "ledger": .string(ledgerUsable ? "ok" : "unavailable"),
                    "serving": .bool(serving.isServing), "records_committed": .integer(Int64(usage.ledger.committed)),
                    "outbox_backlog": .object(backlog.mapValues { .integer($0) }),
                    "dead_letters": .integer(Int64(usage.ledger.deadLetteredCount)),
                ])
        }
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(idleTimeout: .nanoseconds(configuration.idleTimeout.wholeNanoseconds)))
        let listening = listening
        application = Application(
            router: router,
            server: try configuration.tls.map { try .tls(http1, tlsConfiguration: Self.tlsConfiguration($0)) } ?? http1,
            configuration: .init(address: .hostname(host, port: port), serverName: "model-manager"),
            onServerRunning: { channel in
                listening.open()
                onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
    }

    /// A port that cannot be bound ends `run` at once with an error naming the address.
    func run() async throws {
        try await startsAfter.wait()
        do {
            try await application.run()
        } catch  where !listening.isOpen {
            throw ServerConfiguration.Invalid("cannot listen for HTTP on \(address): \(error)")
        }
        if !listening.isOpen, !Task.isCancelled, !Task.isShuttingDownGracefully {
            throw ServerConfiguration.Invalid("cannot listen for HTTP on \(address): the server stopped at once")
        }
    }

    /// Whether `probe` succeeds within `limit`: a stalled database is not ready, and /readyz
    /// must answer in time for the load balancer that asks. A probe still running then is left
    /// to end on its own (the database's busy timeout bounds it).
    static func answersWithin(_ limit: Duration, _ probe: @escaping @Sendable () async throws -> Void) async -> Bool {
        let answer = FirstAnswer()
        return await withCheckedContinuation { continuation in
            answer.wait(with: continuation)
            Task { answer.give((try? await probe()) != nil) }
            Task {
                try? await Task.sleep(for: limit)
                answer.give(false)
            }
        }
    }

    /// The PEM pair as swift-nio-ssl's server configuration; an unreadable PEM names which part.
    static func tlsConfiguration(_ pem: TLSServerConfiguration) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(pem.certificateChainPEM.utf8))
        } catch {
            throw ServerConfiguration.Invalid("the HTTP TLS certificate is not a PEM certificate chain: \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(bytes: Array(pem.privateKeyPEM.revealed.utf8), format: .pem)
        } catch {
            throw ServerConfiguration.Invalid("the HTTP TLS private key is not a PEM private key")
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    static func split(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ServerConfiguration.Invalid("address '\(address)' is not HOST:PORT")
        }
        return (String(address[..<colon]), port)
    }
}

/// JSON responses and HTTP statuses for errors, in one place.
enum HTTPJSON {
    /// The body as a JSON object, or a 4xx naming what is wrong with it.
    static func object(_ request: Request, maximumBytes: Int, maximumDepth: Int) async throws -> [String: JSONValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBytes)
        } catch {
            let limit = maximumBytes >= 1 << 20 ? "\(maximumBytes >> 20) MiB" : "\(maximumBytes >> 10) KiB"
            throw ModelManagerError(.payloadTooLarge, "request body exceeds \(limit)")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: buffer.readableBytesView, maximumDepth: maximumDepth)
        } catch {
            throw ModelManagerError(.invalidArgument, "request body is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw ModelManagerError(.invalidArgument, "request body must be a JSON object, got \(value.typeName)")
        }
        return object
    }

    static func response(_ status: Int, _ body: JSONValue) -> Response {
        var output = JSONOutput()
        output.write(body)
        return response(status, output)
    }

    static func response(_ status: Int, _ body: JSONOutput) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.bytes))
        )
    }

    /// The error's HTTP status. The body is shaped like an answer (`error` a string, as the Python
    /// SDK's response model wants it) and adds `code`.
    static func error(_ error: ModelManagerError, requestID: String? = nil) -> Response {
        var output = JSONOutput()
        HTTPAnswerItem.writeFailure(error, code: true, customID: nil, requestID: requestID, to: &output)
        var answer = response(error.code.httpStatus, output)
        if let seconds = error.retryAfterHeader { answer.headers[.retryAfter] = seconds }
        return answer
    }
}

/// A continuation resumed once, with whichever answer comes first.
private final class FirstAnswer: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func wait(with continuation: CheckedContinuation<Bool, Never>) { self.continuation.withLock { $0 = continuation } }

    func give(_ answer: Bool) { continuation.withLock { $0.take() }?.resume(returning: answer) }
}
