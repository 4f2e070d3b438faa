import Foundation
import Logging
import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerServer
import ProviderEmulator

/// `--cache`: a non-stream call through the gRPC face answered by the emulator, next to the same
/// call answered from the exact-match cache, one after another; p50 and p99 in ms, and what a
/// hit adds over the uncached call (negative: it saves). Both commit a durable usage record.
enum CacheBench {
    static let calls = 2000

    static func run() async throws {
        let emulator = try await ProviderEmulator()
        var configuration = try ServerConfiguration.load(file: nil, environment: [:])
        configuration.auth.jwtSecrets = [Secret(Bench.secret)]
        configuration.grpc.address = "127.0.0.1:0"
        configuration.http.address = "127.0.0.1:0"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mm-cache-\(UUID()).sqlite").path
        configuration.usage.database = .sqlite(path: path)
        configuration.routeAllProviders(
            toEmulatorAt: emulator.baseURL, apiKey: ProviderEmulator.defaultAPIKey,
            serviceAccount: try ServiceAccount(json: emulator.serviceAccountJSON, source: "emulator"))
        var logger = Logger(label: "cache-bench")
        logger.logLevel = .critical
        let server = try await ModelManagerServer.start(configuration: configuration, logger: logger)
        let client = AsyncModelManagerClient(
            configuration: ClientConfiguration(
                serverAddress: "127.0.0.1:\(server.grpcPort)", jwtSecret: Secret(Bench.secret), useTLS: false,
                timeout: .seconds(30)))

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
        print("cache counters: \(server.invocation.cacheCounters)")
        client.close()
        await server.shutdown()
        await emulator.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
