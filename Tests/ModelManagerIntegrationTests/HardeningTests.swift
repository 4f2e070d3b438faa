import AsyncHTTPClient
import Foundation
import Logging
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerServer
import ModelManagerTestSupport
import ModelManagerUsage
import NIOCore
import ProviderEmulator
import Testing

/// Inputs that crashed, stalled or underbilled the server (issue 8), each through the real
/// server. `.ci/run` runs this suite against the release build too: -O has miscompiled here.
@Suite struct HardeningTests {
    static func chat(
        _ text: String, model: String = "gpt-4o-mini", stream: Bool = false, extra: [String: JSONValue] = [:]
    ) -> ModelRequest {
        var parameters: [String: JSONValue] = [
            "model": .string(model), "messages": [["role": "user", "content": .string(text)]],
        ]
        parameters.merge(extra) { _, new in new }
        return ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, stream: stream, orgID: "org-h",
            userID: "user-h",
            clientType: "hardening", extra: parameters)
    }

    @Test func batchesWithSeveralSuccessesAnswerEveryItemInItsPlace() async throws {
        try await withTestServer { server in
            // Under Swift 6.3.1 -O every success came back with index 0 and the process trapped.
            let requests = (0..<40).map { Self.chat("item \($0)") }
            let batch = try await server.asyncClient().invokeBatch(requests)
            #expect(batch.responses.map(\.content) == (0..<40).map { "Echo: item \($0)" })
        }
    }

    @Test func batchesRunAtMostTheirConcurrencyAndRefuseTooManyItems() async throws {
        try await withTestServer(configure: {
            $0.limits.maximumBatchItems = 12
            $0.limits.batchConcurrency = 3
        }) { server in
            let slow = Self.chat("slow", extra: ["extra_headers": ["x-emulator-fault": "delay-ms=150"]])
            let watcher = Task {
                var peak = 0
                while !Task.isCancelled {
                    peak = max(peak, server.server.invocation.runningCalls)
                    try? await Task.sleep(for: .milliseconds(10))
                }
                return peak
            }
            let batch = try await server.asyncClient().invokeBatch(Array(repeating: slow, count: 12))
            watcher.cancel()
            #expect(batch.responses.allSatisfy { $0.content == "Echo: slow" })
            let peak = await watcher.value
            #expect(peak >= 2 && peak <= 3, "peak \(peak)")

            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invokeBatch(Array(repeating: Self.chat("x"), count: 13))
            }
            #expect(error?.status == .invalidArgument)
            #expect(error?.message.contains("13 items; at most 12") == true, "\(error?.message ?? "")")
        }
    }

    @Test func callsOverTheServerLimitAreResourceExhaustedAtOnce() async throws {
        try await withTestServer(configure: {
            $0.limits.maximumConcurrentCalls = 2
            $0.limits.batchConcurrency = 1
        }) { server in
            let slow = Self.chat("hold", extra: ["extra_headers": ["x-emulator-fault": "delay-ms=3000"]])
            let client = server.asyncClient()
            let held = (0..<2).map { _ in Task { try await client.invoke(slow) } }
            while server.server.invocation.runningCalls < 2 { try await Task.sleep(for: .milliseconds(10)) }
            var configuration = server.clientConfiguration
            configuration.retry.maximumRetries = 0
            let started = ContinuousClock.now
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await AsyncModelManagerClient(configuration: configuration).invoke(Self.chat("one too many"))
            }
            #expect(error?.status == .resourceExhausted)
            #expect(error?.message.contains("limit of 2 concurrent calls") == true, "\(error?.message ?? "")")
            // Queued behind the held calls it would take 3 s.
            #expect(ContinuousClock.now - started < .seconds(2.5), "refused at once, not queued")
            for call in held { _ = try await call.value }
        }
    }

    @Test func hugeTimeoutsAndNonFiniteNumbersDoNotTrap() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            for timeout: JSONValue in [.double(1e300), .integer(.max)] {
                let answer = try await client.invoke(Self.chat("still alive", extra: ["timeout": timeout]))
                #expect(answer.content == "Echo: still alive")
            }
            for timeout: JSONValue in [.double(-1e300), .integer(0), "soon"] {
                let error = await #expect(throws: ModelManagerClientError.self) {
                    try await client.invoke(Self.chat("x", extra: ["timeout": timeout]))
                }
                #expect(error?.status == .invalidArgument)
                #expect(error?.message.contains("'timeout' must be a positive number") == true)
            }
        }
    }

    @Test func retryAfterInfinityWithTwoTargetsIsARateLimitNotATrap() async throws {
        try await withTestServer { configuration in
            configuration.aliases = [
                ModelAlias(
                    name: "two-targets",
                    targets: [
                        .init(provider: .openai, model: "gpt-4o-mini"),
                        .init(provider: .deepseek, model: "deepseek-chat"),
                    ])
            ]
        } _: { server in
            var configuration = server.clientConfiguration
            configuration.retry.maximumRetries = 0
            let client = AsyncModelManagerClient(configuration: configuration)
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await client.invoke(
                    Self.chat(
                        "x", model: "two-targets",
                        extra: ["extra_headers": ["x-emulator-fault": "status=429;retry-after=inf"]]))
            }
            #expect(error?.status == .resourceExhausted)
            let after = try await client.invoke(Self.chat("after"))
            #expect(after.content == "Echo: after")
        }
    }

    static let passThroughCases: [(String, [String: JSONValue], String)] = [
        ("model override", ["extra_body": ["model": "gpt-4o"]], "extra_body may not set 'model'"),
        ("stream override", ["extra_body": ["stream": true]], "extra_body may not set 'stream'"),
        ("host header", ["extra_headers": ["Host": "evil.example"]], "extra_headers may not set 'Host'"),
        ("credential header", ["extra_headers": ["x-api-key": "sk-mine"]], "extra_headers may not set 'x-api-key'"),
        (
            "billing organization", ["extra_headers": ["OpenAI-Organization": "org-other"]],
            "may not set 'OpenAI-Organization'"
        ),
        ("hop-by-hop header", ["extra_headers": ["Connection": "close"]], "may not set 'Connection'"),
        ("header injection", ["extra_headers": ["x-note": "a\r\nHost: evil"]], "is not a valid HTTP header"),
    ]

    @Test(arguments: passThroughCases)
    func passThroughCannotChangeWhatIsServedOrBilled(_ name: String, _ extra: [String: JSONValue], _ message: String)
        async throws
    {
        try await withTestServer { server in
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invoke(Self.chat("x", extra: extra))
            }
            #expect(error?.status == .invalidArgument, "\(name)")
            #expect(error?.message.contains(message) == true, "\(name): \(error?.message ?? "")")
            #expect(server.emulator.recorder.requests.isEmpty, "\(name) reached the upstream")
        }
    }

    @Test func modelNamesCannotReachAnotherPathOrQuery() async throws {
        try await withTestServer { server in
            let request = ModelRequest(
                provider: .google, channel: .aiStudio, invokeType: .generation, orgID: "o", userID: "u",
                clientType: "c",
                extra: ["model": "gemini-2.0-flash:streamGenerateContent?alt=sse&x=", "contents": "hi"])
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await server.asyncClient().invoke(request)
            }
            #expect(error?.status == .invalidArgument)
            #expect(error?.message.contains("is not a valid name") == true, "\(error?.message ?? "")")
            #expect(server.emulator.recorder.requests.isEmpty)
        }
    }

    @Test func anErrorEchoingHugeInputKeepsItsStatus() async throws {
        try await withTestServer { server in
            var configuration = server.clientConfiguration
            configuration.retry.maximumRetries = 0
            let model = String(repeating: "m", count: 20_000)
            let error = await #expect(throws: ModelManagerClientError.self) {
                try await AsyncModelManagerClient(configuration: configuration).invoke(Self.chat("x", model: model))
            }
            // 20 KB in the status message used to pass the client's metadata limit: RESOURCE_EXHAUSTED, retried.
            #expect(error?.status == .invalidArgument)
            #expect((error?.message.utf8.count ?? .max) <= 1024)
        }
    }

    @Test func aHalfSentHTTPRequestIsClosedAfterTheIdleTimeout() async throws {
        try await withTestServer(configure: { $0.http.idleTimeout = .milliseconds(300) }) { server in
            let socket = try LoopbackSocket(port: server.server.httpPort)
            try socket.send("POST /v1/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            let started = ContinuousClock.now
            #expect(socket.waitForClose(within: .seconds(5)))
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func aBusyHTTPPortEndsStartUpNamingIt() async throws {
        try await withTestServer { running in
            var configuration = try ServerConfiguration.load(file: nil, environment: [:])
            configuration.auth.jwtSecrets = [.init(TestServer.jwtSecret)]
            configuration.grpc.address = "127.0.0.1:0"
            configuration.http.address = "127.0.0.1:\(running.server.httpPort)"
            configuration.usage.database = .sqlite(
                path: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "mm-busy-\(UUID().uuidString).sqlite"
                ).path)
            var logger = Logger(label: "busy-port")
            logger.logLevel = .critical
            let started = ContinuousClock.now
            let error = await #expect(throws: ServerConfiguration.Invalid.self) {
                _ = try await ModelManagerServer.start(configuration: configuration, logger: logger)
            }
            #expect(
                error?.description.contains("cannot listen for HTTP on 127.0.0.1:\(running.server.httpPort)") == true,
                "\(error?.description ?? "")")
            #expect(ContinuousClock.now - started < .seconds(10), "refused at once, not stalled")
        }
    }

    @Test func anHTTPClientThatLeavesMidStreamIsRecordedAsCancelled() async throws {
        try await withTestServer { server in
            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["user_id": "u"]).token
            let body: JSONValue = [
                "provider": "openai", "invoke_type": "chat-completions", "model": "gpt-4o-mini", "stream": true,
                "messages": [["role": "user", "content": "one two three four five six seven eight nine ten"]],
                "extra_headers": ["x-emulator-fault": "chunk-delay-ms=200"],
            ]
            let payload = body.jsonText
            let socket = try LoopbackSocket(port: server.server.httpPort)
            try socket.send(
                "POST /v1/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer \(token)\r\n"
                    + "X-Request-ID: leaves-1\r\nContent-Length: \(payload.utf8.count)\r\n\r\n\(payload)")
            #expect(socket.waitForData(containing: "data: ", within: .seconds(5)))
            socket.close()
            let repository = server.server.usageService.repository
            var record: UsageRecord?
            for _ in 0..<100 where record == nil {
                record = try await repository.records(requestIDs: ["leaves-1"]).first
                if record == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            let stored = try #require(record)
            #expect(!stored.success)
            #expect(stored.error?.hasPrefix("cancelled") == true, "\(stored.error ?? "")")
        }
    }

    @Test func aStreamCutAfterItsPromptWasCountedStillBillsThoseTokens() async throws {
        try await withTestServer { server in
            let request = ModelRequest(
                provider: .anthropic, channel: .anthropic, invokeType: .messages, stream: true, orgID: "o", userID: "u",
                clientType: "c",
                extra: [
                    "model": "claude-haiku-4-5", "max_tokens": 64,
                    "messages": [["role": "user", "content": "one two three four five"]],
                    "extra_headers": ["x-emulator-fault": "truncate-after=2"],
                ])
            var chunks: [ModelResponse] = []
            for try await chunk in server.asyncClient().invokeStream(request, requestID: "cut-1") {
                chunks.append(chunk)
            }
            #expect(chunks.last?.error != nil)
            let stored = try #require(
                try await server.server.usageService.repository.records(requestIDs: ["cut-1"]).first)
            #expect(!stored.success)
            #expect(stored.promptTokens > 0, "message_start counted the prompt: it is billed")
            #expect(stored.tokenSubject == "o/u")
        }
    }
}
