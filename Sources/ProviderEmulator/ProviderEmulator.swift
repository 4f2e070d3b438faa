import Hummingbird
import Logging
public import ModelManagerCore
import NIOCore
import ServiceLifecycle
import Synchronization
import _CryptoExtras

/// Faithful local stand-ins for the upstream providers' HTTP APIs, for tests, benchmarks and
/// `serve --demo`: OpenAI (chat, responses, images), Azure OpenAI, Anthropic, Gemini and Imagen
/// on AI Studio and Vertex AI, and Google's OAuth2 token endpoint.
public final class ProviderEmulator: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// The upstream API keys the emulator accepts (every API-key provider).
        public var apiKeys: Set<String>
        /// Accepted keys whose quota is spent: every call with them answers 429 with Retry-After.
        public var exhaustedKeys: Set<String>

        public init(
            host: String = "127.0.0.1", port: Int = 0, apiKeys: Set<String> = [ProviderEmulator.defaultAPIKey],
            exhaustedKeys: Set<String> = []
        ) {
            self.host = host
            self.port = port
            self.apiKeys = apiKeys.union(exhaustedKeys)
            self.exhaustedKeys = exhaustedKeys
        }
    }

    /// The key `serve --demo` and the tests configure for every emulated API-key provider.
    public static let defaultAPIKey = "sk-emulator-0000000000000000"
    static let serviceAccountEmail = "emulator@model-manager-demo.iam.gserviceaccount.com"

    /// One RSA key per process: generating one takes long enough to matter when tests start
    /// dozens of emulators, and each emulator's token endpoint only needs to trust its own account.
    private static let serviceAccountKey = Result { try _RSA.Signing.PrivateKey(keySize: .bits2048) }

    public let recorder = EmulatorRecorder()
    public let port: Int
    public let host: String
    /// A service-account key file (as Google issues them) that this emulator's token endpoint trusts.
    public let serviceAccountJSON: JSONValue
    private let group: ServiceGroup
    private let runner = Mutex<Task<Void, any Error>?>(nil)

    /// Starts serving; returns once the port is bound.
    public init(configuration: Configuration = Configuration()) async throws {
        let privateKey = try Self.serviceAccountKey.get()
        let tokenEndpoint = TokenEmulator(
            clientEmail: Self.serviceAccountEmail, publicKeyPEM: privateKey.publicKey.pemRepresentation,
            recorder: recorder)
        let keys = EmulatorKeys(accepted: configuration.apiKeys, exhausted: configuration.exhaustedKeys)
        let openAI = OpenAIEmulator(keys: keys, recorder: recorder)
        let anthropic = AnthropicEmulator(keys: keys, recorder: recorder)
        let gemini = GeminiEmulator(keys: keys, recorder: recorder, tokens: tokenEndpoint)

        let router = Router()
        router.post("/v1/chat/completions") { request, _ in try await openAI.chatCompletions(request, host: .openAI) }
        router.post("/v1/responses") { request, _ in try await openAI.responses(request, host: .openAI) }
        router.post("/v1/images/generations") { request, _ in try await openAI.images(request, host: .openAI) }
        router.post("/v1/embeddings") { request, _ in try await openAI.embeddings(request, host: .openAI) }
        router.get("/v1/models") { _, _ in
            let names = ModelCatalog.chatCompletions.keys.sorted() + ModelCatalog.openaiImages.sorted()
            let models = names.map { name -> JSONValue in
                ["id": .string(name), "object": "model", "created": 1_700_000_000, "owned_by": "system"]
            }
            return EmulatorHTTP.json(200, ["object": "list", "data": .array(models)])
        }
        router.post("/openai/deployments/:deployment/chat/completions") { request, context in
            try await openAI.chatCompletions(request, host: .azure(deployment: context.parameters.get("deployment")))
        }
        router.post("/openai/deployments/:deployment/images/generations") { request, context in
            try await openAI.images(request, host: .azure(deployment: context.parameters.get("deployment")))
        }
        router.post("/openai/responses") { request, _ in
            try await openAI.responses(request, host: .azure(deployment: nil))
        }
        router.post("/v1/messages") { request, _ in try await anthropic.messages(request) }
        // An OTLP/HTTP (JSON) trace collector, so tests can read the spans the gateway exports.
        router.post("/v1/traces") { [recorder] request, _ in
            _ = try await EmulatedRequest.read(request, recorder: recorder)
            return EmulatorHTTP.json(200, [:])
        }
        router.post("/v1beta/models/:modelAndMethod") { request, context in
            try await gemini.handle(
                request, modelAndMethod: context.parameters.get("modelAndMethod") ?? "", host: .aiStudio)
        }
        router.post("/v1/projects/:project/locations/:location/publishers/google/models/:modelAndMethod") {
            request, context in
            try await gemini.handle(
                request, modelAndMethod: context.parameters.get("modelAndMethod") ?? "",
                host: .vertex(
                    project: context.parameters.get("project") ?? "", location: context.parameters.get("location") ?? ""
                ))
        }

        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let tokenPath = "/token"
        router.post(RouterPath(tokenPath)) { request, _ in
            try await tokenEndpoint.exchange(
                request,
                tokenURL:
                    "http://\(configuration.host):\(request.head.authority?.split(separator: ":").last ?? "")\(tokenPath)"
            )
        }
        let logger = Logger(label: "provider-emulator")
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "provider-emulator"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        let task = Task { try await group.run() }
        var bound: Int?
        for await port in portStream { bound = port }
        guard let bound, bound > 0 else {
            task.cancel()
            _ = try? await task.value
            throw ModelManagerError(
                .unavailable, "provider emulator could not listen on \(configuration.host):\(configuration.port)")
        }
        port = bound
        host = configuration.host
        serviceAccountJSON = [
            "type": "service_account", "project_id": "model-manager-demo", "private_key_id": "emulator",
            "private_key": .string(privateKey.pemRepresentation), "client_email": .string(Self.serviceAccountEmail),
            "token_uri": .string("http://\(configuration.host):\(bound)\(tokenPath)"),
        ]
        runner.withLock { $0 = task }
    }

    /// The emulator's root URL (Azure, Anthropic, Gemini and Vertex paths hang off it).
    public var baseURL: String { "http://\(host):\(port)" }

    /// The base URL of the OpenAI-compatible API (`…/v1`).
    public var openAIBaseURL: String { baseURL + "/v1" }

    public func stop() async {
        guard let task = runner.withLock({ $0.take() }) else { return }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
