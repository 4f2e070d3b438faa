import Foundation
import ModelManagerClient
import ModelManagerCore
import Testing

/// The client's retry policy, fallback policy and circuit breaker, without I/O.
@Suite struct ResilienceStateMachineTests {
    let policy = RetryPolicy(maximumRetries: 6, baseDelay: .seconds(1), maximumDelay: .seconds(60), jitter: 0.05)

    func decide(
        _ status: ModelManagerError.Code, attempt: Int, remaining: Duration = .seconds(100), refresh: Bool = true,
        refreshed: Bool = false, yielded: Bool = false
    ) -> RetryPolicy.Decision {
        policy.decide(
            status: status, attempt: attempt, remaining: remaining, canRefreshToken: refresh,
            alreadyRefreshed: refreshed, streamYieldedChunks: yielded, random: 0)
    }

    @Test func retryCountsPerStatusFollowTheProtocolTable() {
        func retries(_ status: ModelManagerError.Code) -> Int {
            var attempt = 0
            while case .retry = decide(status, attempt: attempt) { attempt += 1 }
            return attempt
        }
        #expect(retries(.unavailable) == 1)
        #expect(retries(.cancelled) == 5)
        #expect(retries(.deadlineExceeded) == 3)
        #expect(retries(.resourceExhausted) == 3)
        #expect(retries(.aborted) == 3)
        for permanent: ModelManagerError.Code in [
            .invalidArgument, .permissionDenied, .notFound, .failedPrecondition, .internalError, .unimplemented,
        ] {
            #expect(retries(permanent) == 0, "\(permanent)")
        }
    }

    @Test func backoffShapes() {
        #expect(decide(.resourceExhausted, attempt: 0) == .retry(after: .seconds(1)))
        #expect(decide(.resourceExhausted, attempt: 2) == .retry(after: .seconds(4)))
        #expect(decide(.cancelled, attempt: 2) == .retry(after: .seconds(3)))
        #expect(policy.delay(attempt: 10, backoff: .exponential, random: 0) == .seconds(60))
        #expect(policy.delay(attempt: 0, backoff: .exponential, random: 1) == .milliseconds(1050))
    }

    @Test func retriesNeverOutliveTheDeadline() {
        #expect(decide(.resourceExhausted, attempt: 1, remaining: .seconds(1)) == .fail)
        #expect(decide(.resourceExhausted, attempt: 1, remaining: .seconds(3)) == .retry(after: .seconds(2)))
    }

    @Test func aRefusalIsRetriedNoSoonerThanTheServerSaysAndNotAtAllWhenThatIsPastTheDeadline() {
        func decide(retryAfter: Duration, remaining: Duration) -> RetryPolicy.Decision {
            policy.decide(
                status: .resourceExhausted, attempt: 0, remaining: remaining, retryAfter: retryAfter,
                canRefreshToken: false, alreadyRefreshed: false, streamYieldedChunks: false, random: 0)
        }
        #expect(decide(retryAfter: .seconds(5), remaining: .seconds(30)) == .retry(after: .seconds(5)))
        #expect(decide(retryAfter: .milliseconds(10), remaining: .seconds(30)) == .retry(after: .seconds(1)))
        #expect(decide(retryAfter: .seconds(3_600), remaining: .seconds(30)) == .fail)
    }

    @Test func authenticationIsRetriedOnceWithAFreshTokenWhenOneCanBeMinted() {
        #expect(decide(.unauthenticated, attempt: 0) == .refreshTokenAndRetry)
        #expect(decide(.unauthenticated, attempt: 1, refreshed: true) == .fail)
        #expect(decide(.unauthenticated, attempt: 0, refresh: false) == .fail)
    }

    @Test func aStreamThatYieldedIsNeverReplayed() {
        #expect(decide(.unavailable, attempt: 0, yielded: true) == .fail)
        #expect(decide(.unauthenticated, attempt: 0, yielded: true) == .fail)
    }

    @Test func fallbackPolicy() {
        let fallback = FallbackPolicy()
        #expect(fallback.shouldFallBack(status: .unavailable, attempt: 0))
        #expect(fallback.shouldFallBack(status: .deadlineExceeded, attempt: 0))
        #expect(!fallback.shouldFallBack(status: .resourceExhausted, attempt: 0))
        #expect(fallback.shouldFallBack(status: .resourceExhausted, attempt: 1))
        for never: ModelManagerError.Code in [.unauthenticated, .permissionDenied, .invalidArgument] {
            #expect(!fallback.shouldFallBack(status: never, attempt: 5))
        }
    }

    @Test func circuitOpensAfterTheThresholdProbesWhenHalfOpenAndCloses() {
        let breaker = CircuitBreaker(threshold: 3, timeout: .seconds(10), fallbackURL: "http://fallback.example:8080")
        let start = ContinuousClock.now
        #expect(breaker.allowsGRPC(now: start))
        breaker.recordFailure(now: start)
        breaker.recordFailure(now: start)
        #expect(breaker.snapshot.state == .closed)
        breaker.recordFailure(now: start)
        #expect(breaker.snapshot.state == .open)
        #expect(breaker.snapshot.failureCount == 3)
        #expect(breaker.snapshot.lastFailureTime != nil)
        #expect(breaker.snapshot.fallbackURL == "http://fallback.example:8080")
        #expect(!breaker.allowsGRPC(now: start + .seconds(9)))
        // Half-open: one probe goes to gRPC, the rest stay on HTTP until it answers.
        #expect(breaker.allowsGRPC(now: start + .seconds(10)))
        #expect(breaker.snapshot.state == .halfOpen)
        #expect(!breaker.allowsGRPC(now: start + .seconds(10)))
        breaker.recordFailure(now: start + .seconds(11))
        #expect(breaker.snapshot.state == .open)
        #expect(breaker.allowsGRPC(now: start + .seconds(21)))
        breaker.recordSuccess()
        #expect(breaker.snapshot.state == .closed)
        #expect(breaker.snapshot.failureCount == 0)
        #expect(breaker.allowsGRPC(now: start + .seconds(21)))
    }

    @Test func successResetsTheFailureCount() {
        let breaker = CircuitBreaker(threshold: 2, timeout: .seconds(10))
        breaker.recordFailure()
        breaker.recordSuccess()
        breaker.recordFailure()
        #expect(breaker.snapshot.state == .closed)
    }
}

@Suite struct ClientSurfaceTests {
    @Test func resilienceVariablesAndDotEnv() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mm-\(UUID().uuidString).env").path
        try """
        # comment
        export MODEL_MANAGER_SERVER_ADDRESS=from-dotenv:1
        MODEL_CLIENT_HTTP_FALLBACK_URL="http://fallback:8080"
        MODEL_CLIENT_CIRCUIT_BREAKER_THRESHOLD=7 # trailing comment
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try ClientConfiguration.fromEnvironment(
            [
                "MODEL_MANAGER_SERVER_ADDRESS": "from-env:2", "MODEL_CLIENT_RESILIENT_ENABLED": "true",
                "MODEL_CLIENT_FAST_FALLBACK_ENABLED": "true",
                "MODEL_CLIENT_CIRCUIT_BREAKER_TIMEOUT": "30", "MODEL_CLIENT_FALLBACK_AFTER_RETRIES": "2",
                "MODEL_CLIENT_IMMEDIATE_FALLBACK_ERRORS": "UNAVAILABLE,CANCELLED",
                "MODEL_CLIENT_NEVER_FALLBACK_ERRORS": "UNAUTHENTICATED",
                "MODEL_MANAGER_SERVER_GRPC_MAX_RETRIES": "2", "MODEL_MANAGER_SERVER_GRPC_RETRY_DELAY": "0.5",
                "MODEL_CLIENT_STREAM_CHUNK_TIMEOUT": "9",
            ], dotEnvFile: path)
        #expect(configuration.serverAddress == "from-env:2")
        #expect(configuration.resilience.httpFallbackURL == "http://fallback:8080")
        #expect(configuration.resilience.circuitBreakerThreshold == 7)
        #expect(configuration.resilience.enabled && configuration.resilience.fastFallback)
        #expect(configuration.resilience.circuitBreakerTimeout == .seconds(30))
        #expect(configuration.resilience.fallback.afterRetries == 2)
        #expect(configuration.resilience.fallback.immediate == [.unavailable, .cancelled])
        #expect(configuration.resilience.fallback.never == [.unauthenticated])
        #expect(configuration.retry.maximumRetries == 2)
        #expect(configuration.retry.baseDelay == .milliseconds(500))
        #expect(configuration.streamChunkTimeout == .seconds(9))
        #expect(throws: ClientConfiguration.Invalid.self) {
            try ClientConfiguration.fromEnvironment(
                ["MODEL_MANAGER_SERVER_ADDRESS": "h:1", "MODEL_CLIENT_NEVER_FALLBACK_ERRORS": "NOPE"], dotEnvFile: nil)
        }
    }

    @Test func buildersMakeEachProvidersNativeShape() {
        let user = UserContext(orgID: "o", userID: "u", clientType: "c")
        let chat = ModelRequest.chat(
            model: "gpt-4o-mini",
            messages: [
                .system("be brief"),
                ChatMessage(role: "user", parts: [.text("what is this?"), .imageURL("data:image/png;base64,AAAA")]),
            ], user: user)
        #expect(chat.invokeType == .chatCompletions)
        #expect(chat.extra["messages"]?[0] == ["role": "system", "content": "be brief"])
        #expect(chat.extra["messages"]?[1]?["content"]?[1]?["image_url"]?["url"] == "data:image/png;base64,AAAA")
        let claude = ModelRequest.anthropic(
            model: "claude-sonnet-4-5",
            messages: [ChatMessage(role: "user", parts: [.imageURL("data:image/jpeg;base64,BBBB")])], maxTokens: 64,
            user: user)
        #expect(claude.extra["messages"]?[0]?["content"]?[0]?["source"]?["media_type"] == "image/jpeg")
        #expect(claude.extra["max_tokens"] == 64)
        let gemini = ModelRequest.gemini(
            model: "gemini-2.0-flash",
            contents: [GeminiContent(parts: [.text("hi"), .fileURI(mimeType: "image/png", uri: "gs://b/x.png")])],
            config: ["temperature": 0.1], user: user)
        #expect(gemini.extra["contents"]?[0]?["parts"]?[1]?["file_data"]?["file_uri"] == "gs://b/x.png")
        #expect(gemini.channel == .aiStudio && gemini.invokeType == .generation)
        let imagen = ModelRequest.image(
            provider: .google, channel: .vertexai, model: "imagen-4.0-generate-001", prompt: "fox", count: 2, user: user
        )
        #expect(imagen.invokeType == .imageGeneration && imagen.extra["number_of_images"] == 2)
    }
}
