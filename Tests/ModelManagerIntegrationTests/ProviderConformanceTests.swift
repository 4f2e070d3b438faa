import Foundation
import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerTestSupport
import ProviderEmulator
import Testing

/// One suite, run against every adapter through the emulator: answers, streams, usage, each
/// mapped error, cancellation and deadlines.
@Suite struct ProviderConformanceTests {
    /// A text route of the mission and how to ask it something.
    struct Route: Sendable, CustomTestStringConvertible {
        let name: String
        let provider: Provider
        let channel: Channel
        let invokeType: InvokeType
        let extra: @Sendable (String) -> [String: JSONValue]
        var testDescription: String { name }

        func request(_ text: String, stream: Bool = false, fault: String? = nil) -> ModelRequest {
            var parameters = extra(text)
            if let fault { parameters["extra_headers"] = ["x-emulator-fault": .string(fault)] }
            return ModelRequest(
                provider: provider, channel: channel, invokeType: invokeType, stream: stream, orgID: "org",
                userID: "user", clientType: "conformance",
                extra: parameters)
        }
    }

    static let chat: @Sendable (String) -> [String: JSONValue] = { text in
        ["messages": [["role": "user", "content": .string(text)]], "max_tokens": 200.0]
    }

    static let routes: [Route] = [
        Route(name: "openai chat-completions", provider: .openai, channel: .openai, invokeType: .chatCompletions) {
            chat($0).merging(["model": "gpt-4o-mini"]) { a, _ in a }
        },
        Route(name: "openai responses", provider: .openai, channel: .openai, invokeType: .responses) {
            ["model": "gpt-4o-mini", "input": .string($0), "max_output_tokens": 200.0]
        },
        Route(name: "openai generation (responses alias)", provider: .openai, channel: .normal, invokeType: .generation)
        { ["model": "gpt-4o", "input": [["role": "user", "content": .string($0)]]] },
        Route(name: "azure chat-completions", provider: .azure, channel: .openai, invokeType: .chatCompletions) {
            chat($0).merging(["model": "gpt-4o-mini"]) { a, _ in a }
        },
        Route(name: "azure responses", provider: .azure, channel: .openai, invokeType: .responses) {
            ["model": "gpt-4o-mini", "input": .string($0)]
        },
        Route(name: "google ai-studio generation", provider: .google, channel: .aiStudio, invokeType: .generation) {
            [
                "model": "gemini-2.0-flash", "contents": .string($0),
                "config": ["temperature": 0.2, "max_output_tokens": 200.0, "system_instruction": "be brief"],
            ]
        },
        Route(name: "google vertexai generation", provider: .google, channel: .vertexai, invokeType: .generation) {
            ["model": "gemini-2.5-flash", "contents": [["role": "user", "parts": [["text": .string($0)]]]]]
        },
        Route(name: "anthropic messages", provider: .anthropic, channel: .anthropic, invokeType: .messages) {
            [
                "model": "claude-sonnet-4-5", "messages": [["role": "user", "content": .string($0)]],
                "max_tokens": 256.0, "system": "be brief",
            ]
        },
        Route(name: "anthropic generation", provider: .anthropic, channel: .normal, invokeType: .generation) {
            [
                "model": "claude-haiku-4-5",
                "messages": [["role": "user", "content": [["type": "text", "text": .string($0)]]]], "max_tokens": 64.0,
            ]
        },
        Route(name: "deepseek chat-completions", provider: .deepseek, channel: .normal, invokeType: .chatCompletions) {
            chat($0).merging(["model": "deepseek-reasoner"]) { a, _ in a }
        },
        Route(
            name: "perplexity chat-completions", provider: .perplexity, channel: .normal, invokeType: .chatCompletions
        ) { chat($0).merging(["model": "sonar"]) { a, _ in a } },
    ]

    @Test(arguments: routes)
    func answersStreamsAndUsage(_ route: Route) async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            let whole = try await client.invoke(route.request("conformance check for every adapter"))
            #expect(whole.error == nil)
            // Routes with a system prompt see it echoed too.
            #expect(
                whole.content.hasPrefix("Echo: ") && whole.content.hasSuffix("conformance check for every adapter"),
                "\(route.name): \(whole.content)")
            let usage = try #require(whole.usage, "\(route.name): no usage")
            #expect(usage.promptTokens > 0 && usage.completionTokens > 0)
            #expect(usage.totalTokens >= usage.promptTokens + usage.completionTokens)
            #expect(whole.rawResponse != nil)
            #expect(whole.usageJSON?["served_by"]?["provider"]?.stringValue == route.provider.rawValue)

            var chunks: [ModelResponse] = []
            for try await chunk in client.invokeStream(
                route.request("conformance check for every adapter", stream: true))
            { chunks.append(chunk) }
            #expect(chunks.allSatisfy { $0.error == nil }, "\(route.name): \(chunks.compactMap(\.error))")
            #expect(chunks.count > 2, "\(route.name): deltas expected")
            #expect(chunks.map(\.content).joined() == whole.content)
            #expect(chunks.dropLast().allSatisfy { $0.usage == nil })
            #expect(chunks.last?.usage == whole.usage, "\(route.name): stream usage differs from non-stream usage")
        }
    }

    @Test(arguments: routes)
    func upstreamErrorsMapToStatuses(_ route: Route) async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            let expected: [(String, ModelManagerError.Code)] = [
                ("status=400", .invalidArgument), ("status=401", .failedPrecondition),
                ("status=403", .permissionDenied),
                ("status=404", .invalidArgument), ("status=429;retry-after=3", .resourceExhausted),
                ("status=500", .unavailable),
                ("status=503", .unavailable),
            ]
            for (fault, code) in expected {
                let error = await #expect(throws: ModelManagerClientError.self) {
                    try await client.invoke(route.request("x", fault: fault))
                }
                #expect(error?.status == code, "\(route.name) \(fault): \(error?.description ?? "no error")")
                #expect(error?.message.contains(ProviderEmulator.defaultAPIKey) == false)
                // Streamed, the same failure arrives in-band.
                var items: [ModelResponse] = []
                for try await chunk in client.invokeStream(route.request("x", stream: true, fault: fault)) {
                    items.append(chunk)
                }
                #expect(items.count == 1 && items[0].error != nil, "\(route.name) \(fault) streamed")
            }
            let unknownModel = await #expect(throws: ModelManagerClientError.self) {
                var request = route.request("x")
                request.extra["model"] = "no-such-model-7"
                return try await client.invoke(request)
            }
            #expect(unknownModel?.status == .invalidArgument)
            #expect(
                unknownModel?.message.contains("no-such-model-7") == true,
                "\(route.name): \(unknownModel?.message ?? "")")
        }
    }

    @Test(arguments: routes)
    func timeoutsTruncationCancellationAndDeadlines(_ route: Route) async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            // Deadline: the upstream is slower than the caller's deadline.
            let started = ContinuousClock.now
            let late = await #expect(throws: ModelManagerClientError.self) {
                try await client.invoke(route.request("x", fault: "delay-ms=8000"), timeout: .milliseconds(400))
            }
            #expect(late?.status == .deadlineExceeded, "\(route.name)")
            // Far less than the upstream's 8 s: the deadline ended the call.
            #expect(ContinuousClock.now - started < .seconds(6))

            // A stream cut before the upstream's closing event ends with an in-band error.
            var items: [ModelResponse] = []
            for try await chunk in client.invokeStream(
                route.request("one two three four five six", stream: true, fault: "truncate-after=3"))
            { items.append(chunk) }
            #expect(items.last?.error != nil, "\(route.name): truncated stream not reported")
            #expect(items.dropLast().allSatisfy { $0.error == nil })

            // A caller that walks away cancels the upstream request.
            let long = (1...40).map(String.init).joined(separator: " ")
            var received = 0
            for try await _ in client.invokeStream(route.request(long, stream: true, fault: "chunk-delay-ms=100")) {
                received += 1
                if received == 2 { break }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while server.emulator.recorder.abortedStreams == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(
                server.emulator.recorder.abortedStreams >= 1, "\(route.name): the upstream stream was not cancelled")
        }
    }

    /// Image routes: one answer, the image in `content`, the image count in usage.
    @Test(arguments: [
        (
            "openai dall-e-3",
            ModelRequest(
                provider: .openai, channel: .openai, invokeType: .imageGeneration,
                extra: ["model": "dall-e-3", "prompt": "a red fox", "size": "1024x1024"]), "https://"
        ),
        (
            "openai gpt-image-1",
            ModelRequest(
                provider: .openai, channel: .openai, invokeType: .imageGeneration,
                extra: ["model": "gpt-image-1", "prompt": "a red fox", "n": 2.0]), "iVBOR"
        ),
        (
            "azure dall-e-3",
            ModelRequest(
                provider: .azure, channel: .openai, invokeType: .imageGeneration,
                extra: ["model": "dall-e-3", "prompt": "a red fox"]), "https://"
        ),
        (
            "google imagen (ai-studio)",
            ModelRequest(
                provider: .google, channel: .aiStudio, invokeType: .imageGenerationGenAI,
                extra: [
                    "model": "imagen-3.0-generate-002", "prompt": "a red fox",
                    "config": ["number_of_images": 2.0, "aspect_ratio": "1:1"],
                ]), "iVBOR"
        ),
        (
            "google imagen (vertex)",
            ModelRequest(
                provider: .google, channel: .vertexai, invokeType: .imageGeneration,
                extra: [
                    "model": "imagen-4.0-generate-001", "prompt": "a red fox", "number_of_images": 2.0,
                    "negative_prompt": "blur",
                ]), "iVBOR"
        ),
    ])
    func imagesComeBackWithTheirCount(_ name: String, _ request: ModelRequest, _ prefix: String) async throws {
        try await withTestServer { server in
            let response = try await server.asyncClient().invoke(request)
            #expect(response.content.hasPrefix(prefix), "\(name): \(response.content.prefix(40))")
            let expectedCount = Int(
                request.extra["n"]?.integerValue ?? request.extra["number_of_images"]?.integerValue ?? request.extra[
                    "config"]?["number_of_images"]?.integerValue ?? 1)
            #expect(response.usage?.imageCount == expectedCount, "\(name)")
            #expect(response.rawResponse != nil)
        }
    }

    @Test func upstreamRequestsAreNative() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            let perplexity = try await client.invoke(Self.routes[10].request("cite your sources"))
            #expect(perplexity.rawResponse?["citations"]?[0] == "https://example.org/source-1")

            var image = Self.routes[5].request("")
            image.extra["contents"] = [
                [
                    "role": "user",
                    "parts": [
                        ["text": "describe"],
                        ["inline_data": ["mime_type": "image/png", "data": "bytes:iVBORw0KGgo="]],
                    ],
                ]
            ]
            _ = try await client.invoke(image)
            let inline = server.emulator.recorder.lastRequest?.body?["contents"]?[0]?["parts"]?[1]?["inlineData"]
            #expect(inline?["data"] == "iVBORw0KGgo=")
            #expect(inline?["mimeType"] == "image/png")

            _ = try await client.invoke(Self.routes[5].request("native gemini"))
            let gemini = try #require(server.emulator.recorder.lastRequest)
            #expect(gemini.path == "/v1beta/models/gemini-2.0-flash:generateContent")
            #expect(gemini.headers["x-goog-api-key"] == ProviderEmulator.defaultAPIKey)
            #expect(gemini.body?["generationConfig"]?["maxOutputTokens"] == .integer(200))
            #expect(gemini.body?["systemInstruction"]?["parts"]?[0]?["text"] == "be brief")
            #expect(gemini.body?["contents"]?[0]?["role"] == "user")

            _ = try await client.invoke(Self.routes[7].request("native anthropic"))
            let anthropic = try #require(server.emulator.recorder.lastRequest)
            #expect(anthropic.headers["x-api-key"] == ProviderEmulator.defaultAPIKey)
            #expect(anthropic.headers["anthropic-version"] == "2023-06-01")
            #expect(anthropic.body?["max_tokens"] == .integer(256))

            _ = try await client.invoke(Self.routes[3].request("native azure"))
            let azure = try #require(server.emulator.recorder.lastRequest)
            #expect(azure.path == "/openai/deployments/gpt-4o-mini/chat/completions")
            #expect(azure.headers["api-key"] == ProviderEmulator.defaultAPIKey)
            #expect(azure.headers["authorization"] == nil)

            _ = try await client.invoke(Self.routes[6].request("native vertex"))
            let vertex = try #require(server.emulator.recorder.lastRequest)
            #expect(
                vertex.path
                    == "/v1/projects/model-manager-demo/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
            )
            #expect(vertex.headers["authorization"]?.hasPrefix("Bearer ya29.") == true)
            // The access token is cached: one exchange for two calls.
            _ = try await client.invoke(Self.routes[6].request("again"))
            #expect(server.emulator.recorder.requests.filter { $0.path == "/token" }.count == 1)
        }
    }
}
