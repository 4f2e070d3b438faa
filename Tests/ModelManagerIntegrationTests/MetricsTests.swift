import AsyncHTTPClient
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerServer
import ModelManagerTestSupport
import NIOCore
import Testing

/// `/metrics`: calls counted by face, provider, model and outcome, tokens, refusals and levels,
/// bounded labels, and the scrape's own token.
@Suite struct MetricsTests {
    static func scrape(_ server: TestServer, token: String? = nil) async throws -> (status: UInt, text: String) {
        var request = HTTPClientRequest(url: server.httpURL + "/metrics")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 4 << 20)))
    }

    /// The value of the sample line that starts with `series`.
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
            Double($0.split(separator: " ").last!)
        }
    }

    @Test func callsTokensAndRefusalsAreCounted() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            let answer = try await client.invoke(
                ModelRequest(
                    provider: .openai, invokeType: .chatCompletions, orgID: "o", userID: "u",
                    extra: ["model": "gpt-4o-mini", "messages": [["role": "user", "content": "count me"]]]))
            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["org_id": "o", "user_id": "u"]).token
            _ = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: token,
                body: ["model": "anthropic/claude-sonnet-4-5", "messages": [["role": "user", "content": "and me"]]])
            _ = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: "not-a-token", body: ["model": "gpt-4o-mini"])

            let (status, text) = try await Self.scrape(server)
            #expect(status == 200)
            let grpc = #"model_manager_calls_total{face="grpc",provider="openai",model="gpt-4o-mini",outcome="ok"}"#
            #expect(Self.value(text, grpc) == 1)
            let compatible =
                #"model_manager_calls_total{face="openai",provider="anthropic",model="claude-sonnet-4-5",outcome="ok"}"#
            #expect(Self.value(text, compatible) == 1)
            let prompt = #"model_manager_tokens_total{provider="openai",model="gpt-4o-mini",type="prompt"}"#
            #expect(Self.value(text, prompt) == Double(answer.usage?.promptTokens ?? -1))
            #expect(Self.value(text, #"model_manager_refusals_total{reason="unauthenticated"}"#) == 1)
            #expect(Self.value(text, "model_manager_ledger_records_committed_total") == 2)
            #expect(text.contains("# TYPE model_manager_call_duration_seconds histogram"))
            #expect(Self.value(text, "model_manager_calls_in_flight") == 0)
        }
    }

    @Test func aScrapeNeedsTheTokenWhenOneIsSetAndNothingWhenOff() async throws {
        try await withTestServer { configuration in
            configuration.metrics.bearerToken = Secret("scrape-token-123")
        } _: { server in
            let (none, wrong, right) = (
                try await Self.scrape(server), try await Self.scrape(server, token: "wrong"),
                try await Self.scrape(server, token: "scrape-token-123")
            )
            #expect(none.status == 401 && wrong.status == 401 && right.status == 200)
        }
        try await withTestServer { configuration in
            configuration.metrics.enabled = false
        } _: { server in
            let off = try await Self.scrape(server)
            #expect(off.status == 404)
        }
    }

    @Test func modelLabelsAreBoundedToServedModels() async throws {
        try await withTestServer { configuration in
            configuration.metrics.maximumModelLabels = 1
        } _: { server in
            let client = server.asyncClient()
            for model in ["gpt-4o-mini", "gpt-4o", "made-up-model"] {
                _ = try? await client.invoke(
                    ModelRequest(
                        provider: .openai, invokeType: .chatCompletions, orgID: "o", userID: "u",
                        extra: ["model": .string(model), "messages": [["role": "user", "content": "label me"]]]))
            }
            let (_, text) = try await Self.scrape(server)
            let served = #"model_manager_calls_total{face="grpc",provider="openai",model="gpt-4o-mini",outcome="ok"}"#
            let folded = #"model_manager_calls_total{face="grpc",provider="openai",model="other",outcome="ok"}"#
            #expect(Self.value(text, served) == 1 && Self.value(text, folded) == 1)
            // A name only a failed call used never gets a label of its own.
            #expect(!text.contains("made-up-model"))
        }
    }

    @Test func upstreamErrorsCoolDownsAndFailoversAreCounted() async throws {
        try await withTestServer(emulator: .init(exhaustedKeys: [FailoverTests.exhaustedKey])) { configuration in
            configuration.providers[0].credentials = [.apiKey(Secret(FailoverTests.exhaustedKey))]
            configuration.aliases = [
                ModelAlias(
                    name: "smart-chat",
                    targets: [
                        .init(provider: .openai, model: "gpt-4o-mini"),
                        .init(provider: .deepseek, model: "deepseek-chat"),
                    ])
            ]
        } _: { server in
            let answer = try await server.asyncClient().invoke(FailoverTests.chat("smart-chat"))
            #expect(answer.usageJSON?["served_by"]?["provider"] == "deepseek")
            let (_, text) = try await Self.scrape(server)
            let errors = #"model_manager_upstream_errors_total{code="resource_exhausted",provider="openai"}"#
            #expect(Self.value(text, errors) == 1)
            #expect(Self.value(text, #"model_manager_upstream_cooldowns_total{provider="openai"}"#) == 1)
            #expect(Self.value(text, #"model_manager_failovers_total{provider="openai"}"#) == 1)
            #expect(Self.value(text, #"model_manager_failovers_total{provider="deepseek"}"#) == 0)
            let served =
                #"model_manager_calls_total{face="grpc",provider="deepseek",model="deepseek-chat",outcome="ok"}"#
            #expect(Self.value(text, served) == 1)
        }
    }
}
