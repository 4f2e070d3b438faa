import Foundation
import ModelManagerClient
import ModelManagerCore
import ModelManagerServer
import ModelManagerTestSupport
import Testing

/// The semantic cache: a reworded question is answered from the cache when its embedding is
/// close enough; another question, another org or other parameters are not.
@Suite struct SemanticCacheTests {
    static func embeddingCalls(_ server: TestServer) -> Int {
        server.emulator.recorder.requests.filter { $0.path == "/v1/embeddings" }.count
    }

    static func semanticServer(_ configuration: inout ServerConfiguration) {
        var semantic = SemanticCacheSettings(provider: .openai, channel: .openai, model: "text-embedding-3-small")
        semantic.dimensions = 256
        configuration.cache.semantic = semantic
    }

    static func ask(_ text: String, org: String = "org-s", maxTokens: Int? = nil) -> ModelRequest {
        var request = CacheTests.chat(text, org: org, cache: ["ttl": 60, "semantic": true])
        if let maxTokens { request.extra["max_tokens"] = .integer(Int64(maxTokens)) }
        return request
    }

    @Test func aRewordedQuestionIsASemanticHitAndAnotherQuestionIsNot() async throws {
        try await withTestServer(configure: Self.semanticServer) { server in
            let client = server.asyncClient()
            let paid = try await client.invoke(Self.ask("What is the capital of France?"), requestID: "sem-1")
            let reworded = try await client.invoke(Self.ask("what's the capital of france"), requestID: "sem-2")
            #expect(TaskTests.upstreamCalls(server) == 1, "the reworded question was not paid for again")
            #expect(reworded.content == paid.content && reworded.usageJSON?["cache_hit"] == "semantic")
            #expect(Self.embeddingCalls(server) == 2)
            let body = try #require(server.emulator.recorder.requests.first { $0.path == "/v1/embeddings" }?.body)
            #expect(body["dimensions"] == 256 && body["input"] == "What is the capital of France?")

            _ = try await client.invoke(Self.ask("How do volcanoes form?"))
            #expect(TaskTests.upstreamCalls(server) == 2, "an unrelated question misses")
            _ = try await client.invoke(Self.ask("what's the capital of france", org: "org-other"))
            #expect(TaskTests.upstreamCalls(server) == 3, "orgs never share answers")
            _ = try await client.invoke(Self.ask("what's the capital of france", maxTokens: 5))
            #expect(TaskTests.upstreamCalls(server) == 4, "other parameters, another answer")

            let records = try await server.server.usageService.repository.records(requestIDs: ["sem-2"])
            let hit = try #require(records.first { $0.cacheHit != nil })
            #expect(hit.cacheHit == "semantic" && hit.totalTokens == 0 && hit.savedCost == paid.cost)
            #expect(records.contains { $0.invokeType == "embeddings" && $0.promptTokens > 0 }, "the lookup is billed")
            #expect(server.server.invocation.cacheCounters.semanticHits == 1)
        }
    }

    @Test func geminiEmbeddingsServeTheSemanticCacheToo() async throws {
        try await withTestServer(configure: { configuration in
            var semantic = SemanticCacheSettings(provider: .google, channel: .aiStudio, model: "gemini-embedding-001")
            semantic.dimensions = 128
            configuration.cache.semantic = semantic
        }) { server in
            let client = server.asyncClient()
            _ = try await client.invoke(Self.ask("Which planets have rings?"))
            let hit = try await client.invoke(Self.ask("which planet have rings"))
            #expect(hit.usageJSON?["cache_hit"] == "semantic")
            #expect(TaskTests.upstreamCalls(server) == 1)
            let embedded = server.emulator.recorder.requests.filter { $0.path.hasSuffix(":embedContent") }
            #expect(embedded.count == 2 && embedded.first?.body?["outputDimensionality"] == 128)
        }
    }

    @Test func evictionKeepsEveryOtherVectorWithItsOwnAnswer() throws {
        // Room for about three entries: storing a fourth evicts the oldest, whose row the last
        // row replaces in the bucket's matrix.
        var settings = CacheSettings()
        settings.maximumBytes = 3 * 400
        let cache = ResponseCache(settings: settings)
        func axis(_ index: Int) -> [Float] { (0..<8).map { $0 == index ? 1 : 0 } }
        for index in 0..<4 {
            cache.store(
                ResponseCache.Answer(deltas: [], completion: ResponseChunk(content: "answer \(index)")),
                policy: ResponseCache.Policy(key: "k\(index)", ttl: .seconds(60), semantic: ("", "bucket")),
                vector: axis(index))
        }
        #expect(cache.nearest(axis(0), in: "bucket", threshold: 0.95) == nil, "the oldest was evicted")
        for index in 1..<4 {
            let found = try #require(cache.nearest(axis(index), in: "bucket", threshold: 0.95))
            #expect(found.answer.completion.content == "answer \(index)" && found.similarity > 0.99)
        }
    }

    @Test func withoutAnEmbeddingTheCallGoesOnUncached() async throws {
        try await withTestServer(configure: { configuration in
            Self.semanticServer(&configuration)
            configuration.cache.semantic?.model = "no-such-embedding-model"
        }) { server in
            let client = server.asyncClient()
            let answer = try await client.invoke(Self.ask("Still answered?"))
            #expect(answer.content == "Echo: Still answered?")
        }
    }
}
