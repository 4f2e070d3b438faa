import Benchmark
import Foundation
import Logging
import ModelManagerAuth
import ModelManagerCore
import ModelManagerUsage
import ModelManagerWire

/// The per-call steps of the hot path, each alone: time and allocations per operation
/// (`swift package benchmark`; README "Benchmarks"). A baseline lives in `.benchmarkBaselines/`.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 10,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000)

    Benchmark("request decode (gRPC bytes → ModelRequest)") { benchmark in
        for _ in benchmark.scaledIterations {
            try Samples.requestBytes.withUnsafeBytes { bytes in
                blackHole(try ModelServiceCodec.decodeRequestItem(bytes))
            }
        }
    }

    Benchmark("response encode (ModelResponseItem → gRPC bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ModelServiceCodec.encodeResponseItem(Samples.responseItem).bytes)
        }
    }

    Benchmark("JSON parse (chat completion, 1 KB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try JSONValue(parsing: Samples.chatCompletion))
        }
    }

    Benchmark("JSON write (HTTP answer item with relayed raw_response)") { benchmark in
        for _ in benchmark.scaledIterations {
            var output = JSONOutput()
            output.append(#"{"content":"#)
            output.write(Samples.content)
            output.append(#","usage":"#)
            output.write(Samples.usage)
            output.append(#","raw_response":"#)
            output.write(Samples.raw)
            output.append("}")
            blackHole(output.bytes)
        }
    }

    Benchmark("SSE parse (23-event chat stream, one buffer)") { benchmark in
        for _ in benchmark.scaledIterations {
            var parser = SSEParser()
            blackHole(try parser.feed(Samples.stream))
        }
    }

    Benchmark("JWT verify, cached", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let verifier = JWTVerifier(secrets: [Samples.secret])
        _ = try verifier.verify(authorization: Samples.authorization)
        for _ in benchmark.scaledIterations {
            blackHole(try verifier.verify(authorization: Samples.authorization))
        }
    }

    Benchmark("JWT verify, not cached", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let tokens = Samples.distinctAuthorizations(benchmark.scaledIterations.count)
        let verifier = JWTVerifier(secrets: [Samples.secret])
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(try verifier.verify(authorization: tokens[index]))
        }
    }

    Benchmark("price lookup", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let prices = PriceTable(logger: Logger(label: "bench"))
        let usage = Usage(promptTokens: 57, completionTokens: 40, cachedTokens: 8)
        for _ in benchmark.scaledIterations {
            blackHole(prices.cost(of: usage, model: "gpt-4o-mini-2024-07-18"))
        }
    }

    Benchmark(
        "ledger append (buffered; one SQLite writer commits behind)",
        configuration: .init(scalingFactor: .kilo, maxIterations: 200)
    ) { benchmark in
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hot-path-\(UUID().uuidString).sqlite")
            .path
        let repository = UsageRepository(database: try SQLiteDatabase(path: path), sinks: [])
        let ledger = UsageLedger(
            repository: repository, mode: .buffered(capacity: 1 << 20), logger: Logger(label: "bench"))
        let records = (0..<benchmark.scaledIterations.count).map { Samples.record($0) }
        try await withRunningServices([ledger], logger: Logger(label: "bench")) {
            try await ledger.ready.wait()
            benchmark.startMeasurement()
            for index in benchmark.scaledIterations {
                blackHole(await ledger.record(records[index]))
            }
            benchmark.stopMeasurement()
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
