import ModelManagerCore
import ModelManagerProviders
import Testing

@Suite struct RouterTests {
    struct NoAdapter: ProviderAdapter {
        func invoke(_ request: ModelRequest, endpoint: UpstreamEndpoint, context: InvocationContext, emit: ChunkSink) async throws {}
    }

    let router = Router(
        settings: ProviderSettings.defaults(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"]),
        registry: AdapterRegistry(adapters: [.openAIChat: NoAdapter()]))

    func request(_ provider: Provider, channel: Channel = .normal) -> ModelRequest {
        ModelRequest(provider: provider, channel: channel, invokeType: .chatCompletions, extra: ["model": "gpt-4o-mini", "messages": []])
    }

    @Test func channelDefaultsAndEnvironmentOverrides() throws {
        for channel: Channel in ["", .normal, .openai] {
            let route = try router.resolve(request(.openai, channel: channel))
            #expect(route.endpoint.baseURL == "http://127.0.0.1:9/v1")
            #expect(route.endpoint.apiKey.revealed == "sk-test")
        }
    }

    @Test func aProviderWithoutAKeyIsAFailedPreconditionNamingTheVariable() {
        let error = #expect(throws: ModelManagerError.self) { try router.resolve(request(.deepseek)) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("DEEPSEEK_API_KEY") == true)
    }

    @Test func secretsAreRedactedInDescriptions() {
        let secret = Secret("sk-live-123")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
    }
}
