import Foundation
import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerTestSupport
import ProviderEmulator
import Testing

/// Our server end to end: Swift client → gRPC → router → OpenAI adapter → emulator.
@Suite struct InvokeTests {
    static func chat(
        _ text: String, model: String = "gpt-4o-mini", stream: Bool = false, extra: [String: JSONValue] = [:]
    ) -> ModelRequest {
        var parameters: [String: JSONValue] = [
            "model": .string(model), "messages": [["role": "user", "content": .string(text)]],
        ]
        parameters.merge(extra) { _, new in new }
        return ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, stream: stream,
            orgID: "org-1", userID: "user-1", clientType: "tests", extra: parameters)
    }

    @Test func nonStreamAnswersOnceWithUsageAndRawResponse() async throws {
        try await withTestServer { server in
            let response = try await server.asyncClient().invoke(Self.chat("tell me about gRPC"), requestID: "caller-7")
            #expect(response.content == "Echo: tell me about gRPC")
            #expect(
                response.usage
                    == Usage(promptTokens: 8, completionTokens: 5, totalTokens: 13, cachedTokens: 0, reasoningTokens: 0)
            )
            #expect(response.rawResponse?["object"]?.stringValue == "chat.completion")
            #expect(response.requestID == "caller-7")
            #expect(response.error == nil)
        }
    }

    @Test func streamSendsDeltasThenUsageOnTheLastChunkOnly() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            var chunks: [ModelResponse] = []
            for try await chunk in client.invokeStream(Self.chat("tell me about gRPC", stream: true)) {
                chunks.append(chunk)
            }
            #expect(chunks.count > 2)
            #expect(chunks.map(\.content).joined() == "Echo: tell me about gRPC")
            #expect(chunks.dropLast().allSatisfy { $0.usage == nil })
            let streamed = try #require(chunks.last?.usage)
            let whole = try await client.invoke(Self.chat("tell me about gRPC"))
            #expect(streamed == whole.usage)
            #expect(chunks.allSatisfy { $0.requestID != nil })
            // The upstream was asked for usage on its stream.
            let body = server.emulator.recorder.requests.first { $0.body?["stream"]?.boolValue == true }?.body
            #expect(body?["stream_options"]?["include_usage"]?.boolValue == true)
        }
    }

    @Test func integralDoublesReachTheUpstreamAsIntegers() async throws {
        try await withTestServer { server in
            // Struct numbers are doubles on the wire; the emulator refuses 3.0 like the real API.
            let response = try await server.asyncClient().invoke(
                Self.chat("one two three four five", extra: ["max_tokens": .double(3), "temperature": 0.5]))
            #expect(response.content == "Echo: one two")
            #expect(response.rawResponse?["choices"]?[0]?["finish_reason"]?.stringValue == "length")
            let body = try #require(server.emulator.recorder.lastRequest?.body)
            #expect(body["max_tokens"] == .integer(3))
            #expect(body["temperature"] == .double(0.5))
        }
    }

    @Test func batchKeepsRequestOrderEchoesCustomIDsAndFailsItemsAlone() async throws {
        try await withTestServer { server in
            var first = Self.chat("first")
            first.customID = "a"
            var broken = Self.chat("second", model: "gpt-nonexistent")
            broken.customID = "b"
            var third = Self.chat("third")
            third.customID = "c"
            let batch = try await server.asyncClient().invokeBatch([first, broken, third], requestID: "batch-1")
            #expect(batch.requestID == "batch-1")
            #expect(batch.responses.map(\.customID) == ["a", "b", "c"])
            #expect(batch.responses[0].content == "Echo: first")
            #expect(batch.responses[1].error?.contains("gpt-nonexistent") == true)
            #expect(batch.responses[2].content == "Echo: third")
        }
    }

    @Test func unknownTaskIsNotFound() async throws {
        try await withTestServer { server in
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().getTaskStatus("task-404")
            }
            #expect(error?.status == .notFound)
            #expect(error?.message.contains("task-404") == true)
        }
    }

    @Test(arguments: [
        (
            "unknown provider",
            ModelRequest(provider: "nope", extra: ["model": "m", "messages": [["role": "user", "content": "x"]]]),
            "'nope'"
        ),
        ("unknown model", InvokeTests.chat("x", model: "gpt-9"), "gpt-9"),
        (
            "missing model",
            ModelRequest(
                provider: .openai, invokeType: .chatCompletions,
                extra: ["messages": [["role": "user", "content": "x"]]]), "'model'"
        ),
        (
            "missing messages",
            ModelRequest(provider: .openai, invokeType: .chatCompletions, extra: ["model": "gpt-4o-mini"]), "'messages'"
        ),
        (
            "empty messages",
            ModelRequest(
                provider: .openai, invokeType: .chatCompletions, extra: ["model": "gpt-4o-mini", "messages": []]),
            "'messages'"
        ),
        (
            "unknown channel",
            ModelRequest(
                provider: .openai, channel: "ai-studio", invokeType: .chatCompletions,
                extra: ["model": "gpt-4o-mini", "messages": [["role": "user", "content": "x"]]]), "'ai-studio'"
        ),
        (
            "unknown invoke type",
            ModelRequest(
                provider: .openai, invokeType: "video",
                extra: ["model": "gpt-4o-mini", "messages": [["role": "user", "content": "x"]]]), "'video'"
        ),
    ])
    func permanentErrorsAreInvalidArgumentNamingTheValue(_ name: String, _ request: ModelRequest, _ named: String)
        async throws
    {
        try await withTestServer { server in
            let client = server.asyncClient()
            let error = await #expect(throws: ModelManagerClientError.self) { try await client.invoke(request) }
            #expect(error?.status == .invalidArgument, "\(name)")
            #expect(error?.message.contains(named) == true, "\(name): \(error?.message ?? "")")
            // Streamed, the same failure is an in-band error item, and the stream ends OK.
            var streamed = request
            streamed.stream = true
            var items: [ModelResponse] = []
            for try await chunk in client.invokeStream(streamed) { items.append(chunk) }
            #expect(items.count == 1)
            #expect(items.first?.error?.contains(named) == true, "\(name)")
        }
    }

    @Test func requestsWithoutAValidTokenAreUnauthenticated() async throws {
        try await withTestServer { server in
            var configuration = server.clientConfiguration
            configuration.jwtSecret = "not-the-server-secret-0123456789abcdef"
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await AsyncModelManagerClient(configuration: configuration).invoke(Self.chat("x"))
            }
            #expect(error?.status == .unauthenticated)
            #expect(error?.message.contains("signature") == true)
            configuration.jwtSecret = nil
            let missing = await #expect(throws: ModelManagerClientError.self) {
                try await AsyncModelManagerClient(configuration: configuration).invoke(Self.chat("x"))
            }
            #expect(missing?.message.contains("missing authorization") == true)
            // A rotated-out secret that is still accepted works.
            configuration.jwtSecret = Secret(TestServer.previousJWTSecret)
            _ = try await AsyncModelManagerClient(configuration: configuration).invoke(Self.chat("x"))
        }
    }

    @Test(arguments: [
        (429, ModelManagerError.Code.resourceExhausted),
        (500, .unavailable),
        (503, .unavailable),
        (400, .invalidArgument),
        (404, .invalidArgument),
        (403, .permissionDenied),
        (401, .failedPrecondition),
    ])
    func upstreamStatusesMapOnce(_ status: Int, _ code: ModelManagerError.Code) async throws {
        try await withTestServer { server in
            let request = Self.chat(
                "x", extra: ["extra_headers": ["x-emulator-fault": .string("status=\(status);retry-after=2")]])
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invoke(request)
            }
            #expect(error?.status == code)
            #expect(error?.message.contains(ProviderEmulator.defaultAPIKey) == false)
            if status == 401 { #expect(error?.message.contains("API key") == true) }
        }
    }

    @Test func rejectedCredentialsSayOurKeyWasRejectedWithoutTheKey() async throws {
        try await withTestServer(configure: {
            $0.providers[0].credentials = [.apiKey(Secret("sk-wrong-key-123456789"))]
        }) { server in
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invoke(Self.chat("x"))
            }
            #expect(error?.status == .failedPrecondition)
            #expect(error?.message.contains("rejected the gateway's credentials") == true)
            #expect(error?.message.contains("sk-wrong") == false)
            #expect(error?.message.contains("6789") == false)
        }
    }

    @Test func refusedConnectionIsUnavailable() async throws {
        try await withTestServer(configure: { $0.providers[0].baseURL = "http://127.0.0.1:1/v1" }) { server in
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invoke(Self.chat("x"))
            }
            #expect(error?.status == .unavailable)
        }
    }

    @Test func truncatedUpstreamStreamEndsWithAnInBandError() async throws {
        try await withTestServer { server in
            let request = Self.chat(
                "a b c d e f", stream: true, extra: ["extra_headers": ["x-emulator-fault": "truncate-after=3"]])
            var items: [ModelResponse] = []
            for try await chunk in server.asyncClient().invokeStream(request) { items.append(chunk) }
            #expect(items.count >= 2)
            #expect(items.last?.error?.contains("before the answer was complete") == true)
            #expect(items.dropLast().allSatisfy { $0.error == nil })
        }
    }

    @Test func deadlinePropagatesToTheUpstream() async throws {
        try await withTestServer { server in
            let request = Self.chat("x", extra: ["extra_headers": ["x-emulator-fault": "delay-ms=8000"]])
            let started = ContinuousClock.now
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invoke(request, timeout: .milliseconds(500))
            }
            #expect(error?.status == .deadlineExceeded)
            // Far less than the upstream's 8 s: the deadline ended the call.
            #expect(ContinuousClock.now - started < .seconds(6))
        }
    }

    @Test func cancellingAStreamCancelsTheUpstreamRequest() async throws {
        try await withTestServer { server in
            let request = Self.chat(
                (1...40).map(String.init).joined(separator: " "), stream: true,
                extra: ["extra_headers": ["x-emulator-fault": "chunk-delay-ms=100"]])
            let client = server.asyncClient()
            var received = 0
            for try await _ in client.invokeStream(request) {
                received += 1
                if received == 2 { break }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while server.emulator.recorder.abortedStreams == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(server.emulator.recorder.abortedStreams == 1)
            #expect(server.emulator.recorder.completedStreams == 0)
        }
    }

    @Test func syncClientOffersTheSameCalls() async throws {
        try await withTestServer { server in
            let configuration = server.clientConfiguration
            // The sync client blocks its thread: run it on a thread of its own.
            let (content, streamed, batchCount) = try await Thread.run {
                let client = ModelManagerClient(configuration: configuration)
                let response = try client.invoke(Self.chat("sync call"))
                let stream = client.invokeStream(Self.chat("sync stream", stream: true))
                var text = ""
                while let chunk = try stream.nextChunk() { text += chunk.content }
                let batch = try client.invokeBatch([Self.chat("one"), Self.chat("two")])
                return (response.content, text, batch.responses.count)
            }
            #expect(content == "Echo: sync call")
            #expect(streamed == "Echo: sync stream")
            #expect(batchCount == 2)
        }
    }
}

extension Thread {
    /// Runs blocking work on a new thread and awaits its result.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}
