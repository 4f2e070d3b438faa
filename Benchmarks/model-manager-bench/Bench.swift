import AsyncHTTPClient
import Foundation
import ModelManagerClient
import ModelManagerCore
import NIOCore
import ProviderEmulator

/// Non-stream Invoke through the server to the emulator at several concurrencies, next to the
/// same call made straight to the emulator; prints calls/s, p50/p99 latency, server CPU per call
/// and the server's peak RSS. Figures, not assertions. Loopback only; bounded by count.
@main
struct Bench {
    static let secret = "bench-secret-0123456789abcdef0123456789abcdef"

    static func main() async throws {
        let arguments = CommandLine.arguments
        if arguments.contains("--ledger") {
            try await LedgerBench.run(postgresURL: value(after: "--postgres", in: arguments))
            return
        }
        if arguments.contains("--semantic") {
            SemanticBench.run()
            return
        }
        if arguments.contains("--cache") {
            try await CacheBench.run()
            return
        }
        if arguments.contains("--observability") {
            try await ObservabilityBench.run()
            return
        }
        if arguments.contains("--admission") {
            try await AdmissionBench.run(postgresURL: value(after: "--postgres", in: arguments))
            return
        }
        let binary = value(after: "--server", in: arguments) ?? ".build/release/model-manager"
        let callsPerLevel = Int(value(after: "--calls", in: arguments) ?? "") ?? 2000
        let levels = (value(after: "--concurrency", in: arguments) ?? "1,8,64").split(separator: ",").compactMap {
            Int($0)
        }

        let emulator = try await ProviderEmulator()
        let server = try ServerProcess(
            binary: binary,
            environment: [
                "MODEL_MANAGER_SERVER_JWT_SECRET_KEY": secret,
                "OPENAI_BASE_URL": emulator.openAIBaseURL,
                "OPENAI_API_KEY": ProviderEmulator.defaultAPIKey,
                "MODEL_MANAGER_SQLITE_PATH": FileManager.default.temporaryDirectory.appendingPathComponent(
                    "mm-bench-\(UUID().uuidString).sqlite"
                ).path,
            ])
        defer { server.stop() }

        let client = AsyncModelManagerClient(
            configuration: ClientConfiguration(
                serverAddress: "127.0.0.1:\(server.port)", jwtSecret: Secret(secret), useTLS: false,
                timeout: .seconds(30)))
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let request = ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: "bench", userID: "bench",
            clientType: "bench",
            extra: [
                "model": "gpt-4o-mini",
                "messages": [["role": "user", "content": "benchmark this short prompt please"]], "max_tokens": 32,
            ])
        let body = JSONValue.object([
            "model": "gpt-4o-mini", "messages": [["role": "user", "content": "benchmark this short prompt please"]],
            "max_tokens": 32,
        ]).jsonText

        func direct() async throws {
            var upstream = HTTPClientRequest(url: emulator.openAIBaseURL + "/chat/completions")
            upstream.method = .POST
            upstream.headers.add(name: "Authorization", value: "Bearer \(ProviderEmulator.defaultAPIKey)")
            upstream.headers.add(name: "Content-Type", value: "application/json")
            upstream.body = .bytes(ByteBuffer(string: body))
            let response = try await http.execute(upstream, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw ModelManagerError(.internalError, "emulator answered \(response.status)")
            }
        }
        func viaServer() async throws {
            let response = try await client.invoke(request)
            guard response.error == nil, response.usage != nil else {
                throw ModelManagerError(.internalError, "bad answer")
            }
        }

        // Warm up connections and code paths.
        _ = try await run(calls: 200, concurrency: 8, direct)
        _ = try await run(calls: 200, concurrency: 8, viaServer)

        print(
            "non-stream Invoke, \(callsPerLevel) calls per row, 2-core loopback; server = model-manager serve (\(binary))"
        )
        print("path          conc   calls/s     p50 ms   p99 ms   server CPU ms/call")
        for concurrency in levels {
            let straight = try await run(calls: callsPerLevel, concurrency: concurrency, direct)
            let cpuBefore = server.cpuSeconds()
            let through = try await run(calls: callsPerLevel, concurrency: concurrency, viaServer)
            let cpuPerCall = (server.cpuSeconds() - cpuBefore) * 1000 / Double(callsPerLevel)
            print(row("direct", concurrency, straight, cpu: nil))
            print(row("via server", concurrency, through, cpu: cpuPerCall))
            print(String(format: "  added by the server at p50: %.2f ms", through.p50 - straight.p50))
        }
        print(String(format: "server peak RSS: %.1f MiB", server.peakRSSMiB()))
        try await http.shutdown()
        await emulator.stop()
    }

    struct Result {
        var callsPerSecond: Double
        var p50: Double
        var p99: Double
    }

    static func run(calls: Int, concurrency: Int, _ call: @escaping @Sendable () async throws -> Void) async throws
        -> Result
    {
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<concurrency {
                let share = calls / concurrency + (worker < calls % concurrency ? 1 : 0)
                group.addTask {
                    var mine: [Double] = []
                    mine.reserveCapacity(share)
                    for _ in 0..<share {
                        let start = ContinuousClock.now
                        try await call()
                        mine.append((ContinuousClock.now - start).milliseconds)
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let elapsed = (ContinuousClock.now - started).milliseconds / 1000
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return Result(callsPerSecond: Double(calls) / elapsed, p50: percentile(0.5), p99: percentile(0.99))
    }

    static func row(_ name: String, _ concurrency: Int, _ result: Result, cpu: Double?) -> String {
        let cpuText = cpu.map { String(format: "%.3f", $0) } ?? "-"
        return name.padding(toLength: 12, withPad: " ", startingAt: 0)
            + String(format: "  %4d  %8.0f  %8.2f %8.2f   ", concurrency, result.callsPerSecond, result.p50, result.p99)
            + cpuText
    }

    static func value(after flag: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }
}

/// `model-manager serve` as a child process on a free port.
final class ServerProcess {
    let process = Process()
    let port: Int
    private let logURL: URL

    init(binary: String, environment: [String: String]) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("mm-bench-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: binary)
        // Default log level: every call logs its line, as in production.
        process.arguments = ["serve", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardError = log
        process.standardOutput = log
        try process.run()
        var found: Int?
        let deadline = Date().addingTimeInterval(60)
        while found == nil, Date() < deadline {
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            for line in log.split(separator: "\n") where line.contains("model-manager listening") {
                found = (try? JSONValue(parsing: String(line)))?["grpc_port"]?.stringValue.flatMap { Int($0) }
            }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else {
            throw ModelManagerError(
                .unavailable, "server did not start: \((try? String(contentsOf: logURL, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return (Double(line.split(separator: " ")[1]) ?? 0) / 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: logURL)
    }
}
