import Hummingbird
public import ModelManagerCore
import NIOCore
import Logging
import ServiceLifecycle
import Synchronization

/// Faithful local stand-ins for the upstream providers' HTTP APIs, for tests, benchmarks and `serve --demo`.
public final class ProviderEmulator: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// The upstream API keys the emulator accepts.
        public var apiKeys: Set<String>

        public init(host: String = "127.0.0.1", port: Int = 0, apiKeys: Set<String> = [ProviderEmulator.defaultAPIKey]) {
            self.host = host
            self.port = port
            self.apiKeys = apiKeys
        }
    }

    /// The key `serve --demo` and the tests configure for every emulated provider.
    public static let defaultAPIKey = "sk-emulator-0000000000000000"

    public let recorder = EmulatorRecorder()
    private let group: ServiceGroup
    private let runner = Mutex<Task<Void, any Error>?>(nil)
    public let port: Int
    public let host: String

    /// Starts serving; returns once the port is bound.
    public init(configuration: Configuration = Configuration()) async throws {
        let router = Router()
        let chat = OpenAIChatEmulator(apiKeys: configuration.apiKeys, recorder: recorder)
        router.post("/v1/chat/completions") { request, context in try await chat.handle(request, context: context) }
        router.get("/v1/models") { _, _ in
            let models = ModelCatalog.chatCompletions.keys.sorted().map { name -> JSONValue in
                ["id": .string(name), "object": "model", "created": 1_700_000_000, "owned_by": "system"]
            }
            return OpenAIChatEmulator.json(200, ["object": "list", "data": .array(models)])
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "provider-emulator"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "provider-emulator")
        )
        let logger = Logger(label: "provider-emulator")
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        let task = Task { try await group.run() }
        var bound: Int?
        for await port in portStream { bound = port }
        guard let bound, bound > 0 else {
            task.cancel()
            _ = try? await task.value
            throw ModelManagerError(.unavailable, "provider emulator could not listen on \(configuration.host):\(configuration.port)")
        }
        port = bound
        host = configuration.host
        runner.withLock { $0 = task }
    }

    /// The base URL of the OpenAI-compatible API (`…/v1`).
    public var openAIBaseURL: String { "http://\(host):\(port)/v1" }

    public func stop() async {
        guard let task = runner.withLock({ $0.take() }) else { return }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
