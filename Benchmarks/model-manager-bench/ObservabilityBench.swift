import Foundation
import ModelManagerClient
import ModelManagerCore

/// `--observability`: what metrics and tracing cost per call. The same non-stream gRPC call,
/// answered by the emulator, with metrics and tracing off, each on, and both on (spans exported
/// over OTLP/HTTP, protobuf, to the emulator's collector, which only records them). Calls run 8
/// at a time; p50 latency and the process's CPU time per call (server, client and emulator
/// together: only the differences between rows are the observability's cost, the collector's
/// receiving included).
enum ObservabilityBench {
    static let calls = 6000
    static let concurrency = 8

    static func run() async throws {
        print("gRPC Invoke, \(calls) calls, \(concurrency) at a time, durable SQLite ledger, in one process")
        print("case                     p50 ms   p99 ms   CPU µs/call   added CPU µs/call")
        var baseline: Double?
        for (name, metrics, tracing) in [
            ("metrics off, tracing off", false, false), ("metrics on", true, false), ("tracing on", false, true),
            ("metrics and tracing on", true, true),
        ] {
            let running = try await InProcessServer.start(label: "observability-bench") { configuration, emulator in
                configuration.metrics.enabled = metrics
                configuration.tracing.enabled = tracing
                configuration.tracing.endpoint = emulator.baseURL + "/v1/traces"
            }
            let figures = try await measure(running.client)
            await running.stop()
            let added = figures.cpuMicroseconds - (baseline ?? figures.cpuMicroseconds)
            baseline = baseline ?? figures.cpuMicroseconds
            print(
                name.padding(toLength: 24, withPad: " ", startingAt: 0)
                    + String(
                        format: " %7.3f  %7.3f   %11.1f   %+17.1f", figures.p50, figures.p99, figures.cpuMicroseconds,
                        added))
        }
    }

    static func measure(_ client: AsyncModelManagerClient) async throws -> (
        p50: Double, p99: Double, cpuMicroseconds: Double
    ) {
        let request = ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: "bench", userID: "bench",
            extra: ["model": "gpt-4o-mini", "max_tokens": 32, "messages": [["role": "user", "content": "observe me"]]])
        func batch(_ count: Int) async throws -> [Double] {
            try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var samples: [Double] = []
                        for _ in 0..<(count / concurrency) {
                            let start = ContinuousClock.now
                            _ = try await client.invoke(request)
                            samples.append((ContinuousClock.now - start).milliseconds)
                        }
                        return samples
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        _ = try await batch(400)
        let before = processCPUSeconds()
        var samples = try await batch(calls)
        let cpu = processCPUSeconds() - before
        samples.sort()
        return (samples[samples.count / 2], samples[samples.count * 99 / 100], cpu * 1_000_000 / Double(samples.count))
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
