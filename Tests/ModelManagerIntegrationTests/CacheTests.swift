import Foundation
import ModelManagerClient
import ModelManagerCore
import ModelManagerServer
import ModelManagerTestSupport
import Testing

/// The exact-match response cache: hits without an upstream call, recorded as hits; streams
/// replayed; TTL, the byte bound, org isolation, and when a route's cache applies.
@Suite struct CacheTests {
    static func chat(
        _ text: String, org: String = "org-c", cache: JSONValue? = ["ttl": 60], temperature: Double? = nil,
        stream: Bool = false
    ) -> ModelRequest {
        var extra: [String: JSONValue] = [
            "model": "gpt-4o-mini", "messages": [["role": "user", "content": .string(text)]],
        ]
        if let cache { extra["cache"] = cache }
        if let temperature { extra["temperature"] = .double(temperature) }
        return ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, stream: stream, orgID: org, userID: "u1",
            extra: extra)
    }

    static func upstreamCalls(_ server: TestServer) -> Int { TaskTests.upstreamCalls(server) }

    @Test func aRepeatedRequestIsAnsweredFromTheCacheAndRecordedAsAHit() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            let paid = try await client.invoke(Self.chat("cache me"), requestID: "cache-1")
            let hit = try await client.invoke(Self.chat("cache me"), requestID: "cache-2")
            #expect(Self.upstreamCalls(server) == 1)
            #expect(hit.content == paid.content && hit.usage == paid.usage)
            #expect(hit.usageJSON?["cache_hit"] == "exact" && paid.usageJSON?["cache_hit"] == nil)
            #expect(hit.cost == 0 && hit.usageJSON?["saved_cost"]?.doubleValue == paid.cost)
            #expect(
                server.emulator.recorder.requests.last?.body?["cache"] == nil, "the cache object is not sent upstream")

            let records = try await server.server.usageService.repository.records(requestIDs: ["cache-1", "cache-2"])
            let first = try #require(records.first { $0.requestID == "cache-1" })
            let second = try #require(records.first { $0.requestID == "cache-2" })
            #expect(first.cacheHit == nil && first.totalTokens > 0)
            #expect(second.cacheHit == "exact" && second.totalTokens == 0 && second.cost == 0)
            #expect(second.savedCost == first.cost && second.model == "gpt-4o-mini" && second.success)

            // Another org, another answer; another parameter, another answer.
            _ = try await client.invoke(Self.chat("cache me", org: "org-d"))
            var other = Self.chat("cache me")
            other.extra["max_tokens"] = 5
            _ = try await client.invoke(other)
            #expect(Self.upstreamCalls(server) == 3)
            let counters = try await HTTPCalls.send(
                server, .GET, "/api/v1/admin/cache", token: AdminKeysTests.globalAdmin)
            #expect(counters.body["hits"] == 1 && counters.body["misses"] == 3 && counters.body["entries"] == 3)
            #expect((counters.body["bytes"]?.integerValue ?? 0) > 0)
        }
    }

    @Test func aStreamIsReplayedAsItsChunksAndServesNonStreamCallsWhole() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            var first: [String] = []
            for try await item in client.invokeStream(Self.chat("one two three four", stream: true)) {
                first.append(item.content)
            }
            var replayed: [String] = []
            var lastUsage: JSONValue?
            for try await item in client.invokeStream(Self.chat("one two three four", stream: true)) {
                replayed.append(item.content)
                lastUsage = item.usageJSON ?? lastUsage
            }
            #expect(replayed == first && first.count > 2)
            #expect(lastUsage?["cache_hit"] == "exact")
            let whole = try await client.invoke(Self.chat("one two three four"))
            #expect(whole.content == first.joined())
            #expect(Self.upstreamCalls(server) == 1)
        }
    }

    @Test func entriesExpireAndTheLeastRecentlyUsedLeaveFirstPastTheByteBound() async throws {
        // About two answers fit (each is some 750 bytes with its raw response).
        try await withTestServer(configure: { $0.cache.maximumBytes = 2000 }) { server in
            let client = server.asyncClient()
            _ = try await client.invoke(Self.chat("short lived", cache: ["ttl": 0.3]))
            try await Task.sleep(for: .milliseconds(500))
            _ = try await client.invoke(Self.chat("short lived", cache: ["ttl": 0.3]))
            #expect(Self.upstreamCalls(server) == 2, "expired after its TTL")

            for text in ["a", "b"] { _ = try await client.invoke(Self.chat(text)) }
            _ = try await client.invoke(Self.chat("a"))  // `a` is now the most recent
            _ = try await client.invoke(Self.chat("d"))  // past the bound: the least recent, `b`, leaves
            let before = Self.upstreamCalls(server)
            _ = try await client.invoke(Self.chat("a"))
            #expect(Self.upstreamCalls(server) == before, "the recently used entry stayed")
            _ = try await client.invoke(Self.chat("b"))
            #expect(Self.upstreamCalls(server) == before + 1, "the least recently used entry was evicted")
            let counters = server.server.invocation.cacheCounters
            #expect(counters.evicted > 0 && counters.bytes <= 2000)
        }
    }

    @Test func aCachedRouteSkipsRandomSamplingUnlessTheRequestAsks() async throws {
        try await withTestServer(configure: { $0.cache.routes = ["openai/chat-completions": .seconds(60)] }) { server in
            let client = server.asyncClient()
            for _ in 0..<2 { _ = try await client.invoke(Self.chat("deterministic", cache: nil, temperature: 0)) }
            #expect(Self.upstreamCalls(server) == 1, "the route caches without being asked")
            for _ in 0..<2 { _ = try await client.invoke(Self.chat("creative", cache: nil, temperature: 0.7)) }
            #expect(Self.upstreamCalls(server) == 3, "never for temperature > 0 unless asked")
            for _ in 0..<2 { _ = try await client.invoke(Self.chat("asked", cache: ["ttl": 30], temperature: 0.7)) }
            #expect(Self.upstreamCalls(server) == 4)
            for _ in 0..<2 { _ = try await client.invoke(Self.chat("deterministic 2", cache: false, temperature: 0)) }
            #expect(Self.upstreamCalls(server) == 6, "cache: false opts out")
            let refused = await #expect(throws: ModelManagerClientError.self) {
                _ = try await client.invoke(Self.chat("bad", cache: ["ttl": "soon"]))
            }
            #expect(refused?.status == .invalidArgument && refused?.message.contains("\"soon\"") == true)
        }
    }
}
