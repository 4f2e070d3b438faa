import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerTestSupport
import ProviderEmulator
import Testing

/// Several keys per provider, cool-downs, and aliases that fall back across providers.
@Suite struct FailoverTests {
    static let exhaustedKey = "sk-exhausted-1111111111111111"

    static func chat(_ model: String) -> ModelRequest {
        ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: "o", userID: "u",
            clientType: "failover",
            extra: ["model": .string(model), "messages": [["role": "user", "content": "fail over please"]]])
    }

    @Test func aRateLimitedKeyIsSkippedAndCoolsDown() async throws {
        try await withTestServer(emulator: .init(exhaustedKeys: [Self.exhaustedKey])) { configuration in
            configuration.providers[0].credentials = [
                .apiKey(Secret(Self.exhaustedKey)), .apiKey(Secret(ProviderEmulator.defaultAPIKey)),
            ]
        } _: { server in
            let client = server.asyncClient()
            for _ in 0..<6 {
                let response = try await client.invoke(Self.chat("gpt-4o-mini"))
                #expect(response.content == "Echo: fail over please")
            }
            let usedKeys = server.emulator.recorder.requests.compactMap { $0.headers["authorization"] }
            // The exhausted key answered 429 once, then cooled down (Retry-After: 30) while the other served.
            #expect(usedKeys.filter { $0.hasSuffix(Self.exhaustedKey) }.count == 1)
            #expect(usedKeys.filter { $0.hasSuffix(ProviderEmulator.defaultAPIKey) }.count == 6)
        }
    }

    @Test func anAliasFallsBackToItsSecondProvider() async throws {
        try await withTestServer(emulator: .init(exhaustedKeys: [Self.exhaustedKey])) { configuration in
            configuration.providers[0].credentials = [.apiKey(Secret(Self.exhaustedKey))]
            configuration.aliases = [
                ModelAlias(
                    name: "smart-chat",
                    targets: [
                        .init(provider: .openai, model: "gpt-4o-mini"),
                        .init(provider: .deepseek, model: "deepseek-chat"),
                    ])
            ]
        } _: { server in
            let client = server.asyncClient()
            let response = try await client.invoke(Self.chat("smart-chat"))
            #expect(response.content == "Echo: fail over please")
            #expect(response.usageJSON?["served_by"]?["provider"] == "deepseek")
            #expect(response.usageJSON?["served_by"]?["model"] == "deepseek-chat")
            // Streams fail over too, before the first chunk.
            var stream = Self.chat("smart-chat")
            stream.stream = true
            var chunks: [ModelResponse] = []
            for try await chunk in client.invokeStream(stream) { chunks.append(chunk) }
            #expect(chunks.map(\.content).joined() == "Echo: fail over please")
            #expect(chunks.last?.usageJSON?["served_by"]?["provider"] == "deepseek")
        }
    }

    @Test func whenEveryTargetFailsTheCallerSeesTheLastError() async throws {
        try await withTestServer(emulator: .init(exhaustedKeys: [Self.exhaustedKey])) { configuration in
            configuration.providers[0].credentials = [.apiKey(Secret(Self.exhaustedKey))]
        } _: { server in
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invoke(Self.chat("gpt-4o-mini"))
            }
            #expect(error?.status == .resourceExhausted)
        }
    }
}
