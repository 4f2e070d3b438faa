import Foundation
import ModelManagerClient
import ModelManagerCore

/// `--cache`: a non-stream call through the gRPC face answered by the emulator, next to the same
/// call answered from the exact-match cache, one after another; p50 and p99 in ms, and what a
/// hit adds over the uncached call (negative: it saves). Both commit a durable usage record.
enum CacheBench {
    static let calls = 2000

    static func run() async throws {
        let running = try await InProcessServer.start(label: "cache-bench")
        let client = running.client
        func request(_ index: Int, cached: Bool) -> ModelRequest {
            var extra: [String: JSONValue] = [
                "model": "gpt-4o-mini", "max_tokens": 32,
                // Uncached calls differ, so that each reaches the emulator.
                "messages": [
                    ["role": "user", "content": .string(cached ? "the cached question" : "question \(index)")]
                ],
            ]
            if cached { extra["cache"] = ["ttl": 600] }
            return ModelRequest(
                provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: "bench", userID: "bench",
                extra: extra)
        }
        func measure(cached: Bool) async throws -> (Double, Double) {
            var samples: [Double] = []
            for index in 0..<(calls + 200) {
                let start = ContinuousClock.now
                _ = try await client.invoke(request(index, cached: cached))
                if index >= 200 { samples.append((ContinuousClock.now - start).milliseconds) }
            }
            samples.sort()
            return (samples[samples.count / 2], samples[samples.count * 99 / 100])
        }
        let uncached = try await measure(cached: false)
        let hit = try await measure(cached: true)
        print("gRPC Invoke, \(calls) calls one after another (after 200 to warm up), durable SQLite ledger; ms")
        print("case                                  p50      p99")
        print(String(format: "uncached (emulator answers)       %7.3f  %7.3f", uncached.0, uncached.1))
        print(String(format: "exact cache hit                   %7.3f  %7.3f", hit.0, hit.1))
        print(String(format: "hit added over uncached (p50)     %7.3f", hit.0 - uncached.0))
        print("cache counters: \(running.server.invocation.cacheCounters)")
        await running.stop()
    }
}
