import ModelManagerCore
import ModelManagerProviders
import Synchronization
import Testing

@Suite struct RouterTests {
    struct RecordingAdapter: ProviderAdapter {
        var invokeTypes: [InvokeType: InvokeType] = [
            .chatCompletions: .chatCompletions, .generation: .responses, .responses: .responses,
        ]
        func inferInvokeType(model: String, extra: [String: JSONValue]) -> InvokeType? {
            extra["input"] != nil ? .responses : .chatCompletions
        }
        func invoke(
            _ request: ModelRequest, as invokeType: InvokeType, target: UpstreamTarget, context: InvocationContext,
            emit: ChunkSink
        ) async throws -> ResponseChunk { ResponseChunk() }
    }

    static let environment = [
        "OPENAI_API_KEY": "sk-one,sk-two", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "GEMINI_API_KEY": "g-key",
    ]

    func router(aliases: [ModelAlias] = [], pool: CredentialPool = CredentialPool()) -> Router {
        let registry = AdapterRegistry(
            adapters: Dictionary(
                uniqueKeysWithValues: ProviderSettings.Kind.all.map { ($0, RecordingAdapter() as any ProviderAdapter) })
        )
        return Router(
            settings: ProviderSettings.defaults(environment: Self.environment), registry: registry, aliases: aliases,
            pool: pool)
    }

    func request(
        _ provider: Provider, channel: Channel = .normal, invokeType: InvokeType = .chatCompletions,
        extra: [String: JSONValue] = [:]
    ) -> ModelRequest {
        ModelRequest(
            provider: provider, channel: channel, invokeType: invokeType,
            extra: ["model": "gpt-4o-mini"].merging(extra) { _, new in new })
    }

    @Test func channelDefaultsAndEnvironmentOverrides() throws {
        for channel: Channel in ["", .normal, .openai] {
            let attempts = try router().plan(request(.openai, channel: channel))
            #expect(attempts.count == 2)
            #expect(attempts.allSatisfy { $0.target.baseURL == "http://127.0.0.1:9/v1" })
        }
    }

    @Test func severalKeysAreUsedRoundRobin() throws {
        let router = router()
        let first = try router.plan(request(.openai)).map(\.target.credential)
        let second = try router.plan(request(.openai)).map(\.target.credential)
        #expect(first.count == 2)
        #expect(first[0] != second[0])
    }

    /// Answers 429 for `sk-one`, text for any other key, and records which keys it was called with.
    struct RateLimitedKeyAdapter: ProviderAdapter {
        let calls: CallLog
        var invokeTypes: [InvokeType: InvokeType] { [.chatCompletions: .chatCompletions] }
        func inferInvokeType(model: String, extra: [String: JSONValue]) -> InvokeType? { .chatCompletions }
        func invoke(
            _ request: ModelRequest, as invokeType: InvokeType, target: UpstreamTarget, context: InvocationContext,
            emit: ChunkSink
        ) async throws -> ResponseChunk {
            guard case .apiKey(let key) = target.credential else { return ResponseChunk() }
            calls.append(key.revealed)
            if key.revealed == "sk-one" {
                throw ModelManagerError(.resourceExhausted, "rate limited", retryAfterSeconds: 60)
            }
            return ResponseChunk(content: "ok", usage: Usage(promptTokens: 1, completionTokens: 1))
        }
    }

    @Test func aRateLimitedKeyIsSkippedAndCoolsDown() async throws {
        let calls = CallLog()
        let registry = AdapterRegistry(adapters: [.openAI: RateLimitedKeyAdapter(calls: calls)])
        let invoker = Invoker(
            router: Router(settings: ProviderSettings.defaults(environment: Self.environment), registry: registry))
        for _ in 0..<4 {
            let deltas = CallLog()
            let completion = try await invoker.invoke(request(.openai), context: InvocationContext(requestID: "r")) {
                for delta in $0 { deltas.append(delta.content) }
            }
            #expect(deltas.entries.isEmpty)
            #expect(completion.content == "ok")
            #expect(completion.servedBy?.channel == "openai")
        }
        // sk-one was tried once, answered 429 and cooled down; every later call went to sk-two first.
        #expect(calls.entries.filter { $0 == "sk-one" }.count == 1)
        #expect(calls.entries.filter { $0 == "sk-two" }.count == 4)
    }

    @Test func permanentErrorsDoNotFailOver() async throws {
        struct Refusing: ProviderAdapter {
            let calls: CallLog
            var invokeTypes: [InvokeType: InvokeType] { [.chatCompletions: .chatCompletions] }
            func inferInvokeType(model: String, extra: [String: JSONValue]) -> InvokeType? { nil }
            func invoke(
                _ request: ModelRequest, as invokeType: InvokeType, target: UpstreamTarget, context: InvocationContext,
                emit: ChunkSink
            ) async throws -> ResponseChunk {
                calls.append("called")
                throw ModelManagerError(.invalidArgument, "bad request")
            }
        }
        let calls = CallLog()
        let invoker = Invoker(
            router: Router(
                settings: ProviderSettings.defaults(environment: Self.environment),
                registry: AdapterRegistry(adapters: [.openAI: Refusing(calls: calls)])))
        await #expect(throws: ModelManagerError.self) {
            _ = try await invoker.invoke(request(.openai), context: InvocationContext(requestID: "r")) { _ in }
        }
        #expect(calls.entries.count == 1)
    }

    @Test func googleDefaultChannelIsTheConfiguredOne() throws {
        let attempts = try router().plan(
            ModelRequest(provider: .google, invokeType: .generation, extra: ["model": "gemini-2.0-flash"]))
        #expect(attempts.first?.target.settings.kind == .googleAIStudio)
        let vertex = #expect(throws: ModelManagerError.self) {
            try router().plan(
                ModelRequest(
                    provider: .google, channel: .vertexai, invokeType: .generation, extra: ["model": "gemini-2.0-flash"]
                ))
        }
        #expect(vertex?.code == .failedPrecondition)
        #expect(vertex?.message.contains("GOOGLE_APPLICATION_CREDENTIALS") == true)
    }

    @Test func invokeTypeAliasesAndInference() throws {
        #expect(try router().plan(request(.openai, invokeType: .generation)).first?.invokeType == .responses)
        #expect(
            try router().plan(request(.openai, invokeType: "", extra: ["input": "hi"])).first?.invokeType == .responses)
        let error = #expect(throws: ModelManagerError.self) { try router().plan(request(.openai, invokeType: "video")) }
        #expect(error?.message.contains("'video'") == true)
        #expect(error?.message.contains("chat-completions") == true)
    }

    @Test func unconfiguredProviderIsAFailedPreconditionNamingTheVariable() {
        let error = #expect(throws: ModelManagerError.self) { try router().plan(request(.deepseek)) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("DEEPSEEK_API_KEY") == true)
    }

    @Test func aliasExpandsToEveryTargetInOrder() throws {
        let alias = ModelAlias(
            name: "smart",
            targets: [.init(provider: .openai, model: "gpt-4o"), .init(provider: .google, model: "gemini-2.0-flash")])
        let attempts = try router(aliases: [alias]).plan(
            ModelRequest(provider: .openai, invokeType: "", extra: ["model": "smart", "input": "x"]))
        #expect(attempts.map(\.request.provider) == [.openai, .openai, .google])
        #expect(attempts.map(\.request.model) == ["gpt-4o", "gpt-4o", "gemini-2.0-flash"])
    }

    @Test func secretsAreRedactedInDescriptions() {
        let secret = Secret("sk-live-123")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect("\(Credential.apiKey(secret))" == "key …-123")
    }
}

final class CallLog: Sendable {
    private let log = Mutex<[String]>([])
    func append(_ entry: String) { log.withLock { $0.append(entry) } }
    var entries: [String] { log.withLock { $0 } }
}
