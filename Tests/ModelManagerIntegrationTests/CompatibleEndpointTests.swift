import ModelManagerAuth
import ModelManagerCore
import ModelManagerProviders
import ModelManagerTestSupport
import ProviderEmulator
import Testing

/// The compatible routes' model naming, the requests they send upstream, aliases and the cache.
/// (The official SDKs against them: Tests/interop/test_compatible_endpoints.py.)
@Suite struct CompatibleEndpointTests {
    static let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["org_id": "org-x", "user_id": "u1"]).token

    static func chat(_ model: String, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(model),
            "messages": [["role": "system", "content": "be brief"], ["role": "user", "content": "weather in Oslo"]],
        ]
        body.merge(extra) { _, new in new }
        return .object(body)
    }

    @Test func modelsListsProviderModelsAndAliases() async throws {
        try await withTestServer { configuration in
            configuration.providers[0].models = ["gpt-4o-mini", "gpt-4o"]
            configuration.aliases = [
                ModelAlias(name: "smart-chat", targets: [.init(provider: .openai, model: "gpt-4o-mini")])
            ]
        } _: { server in
            let answer = try await HTTPCalls.send(server, .GET, "/v1/models", token: Self.token)
            #expect(answer.status == 200)
            let ids = (answer.body["data"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            #expect(ids.contains("openai/gpt-4o") && ids.contains("openai/gpt-4o-mini") && ids.contains("smart-chat"))
            #expect(answer.body["object"] == "list")
        }
    }

    @Test func aChatForAnthropicIsSentAsItsMessagesRequest() async throws {
        try await withTestServer { server in
            let tools: JSONValue = [
                [
                    "type": "function",
                    "function": [
                        "name": "get_weather",
                        "parameters": ["type": "object", "properties": ["city": ["type": "string"]]],
                    ],
                ]
            ]
            let answer = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: Self.token,
                body: Self.chat(
                    "anthropic/claude-sonnet-4-5",
                    ["tools": tools, "tool_choice": "required", "stop": "END", "max_tokens": 64]))
            #expect(answer.status == 200)
            #expect(answer.body["choices"]?[0]?["finish_reason"] == "tool_calls")
            let sent = try #require(server.emulator.recorder.lastRequest)
            #expect(sent.path == "/v1/messages")
            #expect(sent.body?["system"] == "be brief")
            #expect(sent.body?["model"] == "claude-sonnet-4-5" && sent.body?["max_tokens"] == 64)
            #expect(
                sent.body?["messages"] == [["role": "user", "content": [["type": "text", "text": "weather in Oslo"]]]])
            #expect(sent.body?["tools"]?[0]?["input_schema"]?["properties"]?["city"] != nil)
            #expect(sent.body?["tool_choice"] == ["type": "any"] && sent.body?["stop_sequences"] == ["END"])
        }
    }

    @Test func aChatForGeminiIsSentAsItsGenerateContentRequest() async throws {
        try await withTestServer { server in
            let answer = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: Self.token,
                body: Self.chat("google/gemini-2.5-flash", ["temperature": 0.5, "max_tokens": 100]))
            #expect(answer.status == 200)
            #expect(answer.body["choices"]?[0]?["message"]?["content"] == "Echo: be brief weather in Oslo")
            let sent = try #require(server.emulator.recorder.lastRequest)
            #expect(sent.path.hasSuffix("gemini-2.5-flash:generateContent"))
            #expect(sent.body?["systemInstruction"] == ["parts": [["text": "be brief"]]])
            #expect(sent.body?["contents"] == [["role": "user", "parts": [["text": "weather in Oslo"]]]])
            #expect(sent.body?["generationConfig"] == ["temperature": 0.5, "maxOutputTokens": 100])
        }
    }

    @Test func anAliasFailsOverAndOneSpanningAPIsIsRefused() async throws {
        try await withTestServer(emulator: .init(exhaustedKeys: [FailoverTests.exhaustedKey])) { configuration in
            configuration.providers[0].credentials = [.apiKey(Secret(FailoverTests.exhaustedKey))]
            configuration.aliases = [
                ModelAlias(
                    name: "smart-chat",
                    targets: [
                        .init(provider: .openai, model: "gpt-4o-mini"),
                        .init(provider: .deepseek, model: "deepseek-chat"),
                    ]),
                ModelAlias(
                    name: "mixed",
                    targets: [
                        .init(provider: .openai, model: "gpt-4o-mini"),
                        .init(provider: .anthropic, model: "claude-sonnet-4-5"),
                    ]),
            ]
        } _: { server in
            let served = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: Self.token, body: Self.chat("smart-chat"))
            #expect(served.status == 200)
            #expect(served.body["choices"]?[0]?["message"]?["content"] == "Echo: be brief weather in Oslo")
            #expect(served.body["model"]?.stringValue?.hasPrefix("deepseek-chat") == true)
            let mixed = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: Self.token, body: Self.chat("mixed"))
            #expect(mixed.status == 400)
            #expect(mixed.body["error"]?["message"]?.stringValue?.contains("alias 'mixed'") == true)
            #expect(mixed.body["error"]?["type"] == "invalid_request_error")
        }
    }

    @Test func theCacheAndTheLedgerServeCompatibleCalls() async throws {
        try await withTestServer { server in
            let body = Self.chat("anthropic/claude-sonnet-4-5", ["cache": ["ttl": 60]])
            let paid = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: Self.token, body: body,
                headers: [("X-Request-ID", "cc-1")])
            let hit = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: Self.token, body: body,
                headers: [("X-Request-ID", "cc-2")])
            #expect(paid.body["choices"]?[0]?["message"] == hit.body["choices"]?[0]?["message"])
            #expect(server.emulator.recorder.requests.count == 1)
            #expect(hit.headers.first(name: "x-request-id") == "cc-2")
            let records = try await server.server.usageService.repository.records(requestIDs: ["cc-1", "cc-2"])
            let first = try #require(records.first { $0.requestID == "cc-1" })
            let second = try #require(records.first { $0.requestID == "cc-2" })
            #expect(first.clientType == "openai-compatible" && first.orgID == "org-x" && first.userID == "u1")
            #expect(first.promptTokens > 0 && first.cacheHit == nil && second.cacheHit == "exact")
        }
    }
}
