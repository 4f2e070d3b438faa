import Foundation
import Logging
import ModelManagerAuth
import ModelManagerCore
import ModelManagerServer
import ModelManagerUsage

/// `--admission`: what admitting a call costs before it goes upstream (its credential's grant
/// and its quotas and rate limits reserved), measured on a running server's invocation service,
/// on SQLite and PostgreSQL.
enum AdmissionBench {
    static let calls = 3000

    static func run(postgresURL: String?) async throws {
        print("admission per call, \(calls) calls one after another (after 200 to warm up); µs")
        print("database    case                                          p50       p99")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mm-admission-\(UUID()).sqlite").path
        try await measure("sqlite", database: .sqlite(path: path))
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        if let postgresURL {
            try await measure("postgresql", database: .postgres(url: postgresURL))
        } else {
            print("(postgresql skipped: pass --postgres postgres://user@host:port/db)")
        }
    }

    static func measure(_ name: String, database: UsageService.Configuration.Database) async throws {
        var configuration = try ServerConfiguration.load(file: nil, environment: [:])
        configuration.auth.jwtSecrets = [Secret(Bench.secret)]
        configuration.auth.apiKeyPepper = "bench-pepper"
        configuration.grpc.address = "127.0.0.1:0"
        configuration.http.address = "127.0.0.1:0"
        configuration.usage.database = database
        var logger = Logger(label: "admission-bench")
        logger.logLevel = .critical
        let server = try await ModelManagerServer.start(configuration: configuration, logger: logger)
        let ledger = server.usageService.repository.database
        let secret = APIKeySecret.generate()
        let record = APIKeyRecord(
            id: secret.id, keyHash: APIKeySecret.hash(secret.key.revealed, pepper: "bench-pepper"), name: "bench",
            orgID: "bench-org-\(secret.id)", createdAt: 0)
        try await APIKeyStore(database: ledger).create(record)
        let limited = QuotaSubject(kind: .key, id: secret.id)
        let quotas = QuotaStore(database: ledger)

        func admit(grant: CallerGrant?) async throws -> (Double, Double) {
            let request = ModelRequest(
                provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: record.orgID, userID: "u",
                extra: ["model": "gpt-4o-mini", "messages": [["role": "user", "content": "hi"]], "max_tokens": 10])
            let context = InvocationContext(requestID: "bench", tokenSubject: "bench", grant: grant)
            var samples: [Double] = []
            for index in 0..<(calls + 200) {
                let start = ContinuousClock.now
                _ = try await server.invocation.admit(request, context: context)
                if index >= 200 { samples.append((ContinuousClock.now - start).milliseconds * 1000) }
            }
            samples.sort()
            return (samples[samples.count / 2], samples[samples.count * 99 / 100])
        }
        func row(_ label: String, _ figures: (Double, Double)) {
            print(
                name.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + label.padding(toLength: 44, withPad: " ", startingAt: 0)
                    + String(format: "  %8.1f  %8.1f", figures.0, figures.1))
        }
        var hmac: [Double] = []
        for _ in 0..<calls {
            let start = ContinuousClock.now
            _ = APIKeySecret.matches(secret.key.revealed, hash: record.keyHash, pepper: "bench-pepper")
            hmac.append((ContinuousClock.now - start).milliseconds * 1000)
        }
        hmac.sort()
        row("API key hash (a key's first call in a cache life)", (hmac[hmac.count / 2], hmac[hmac.count * 99 / 100]))
        row("no quota (JWT caller)", try await admit(grant: nil))
        row("API key grant, no quota", try await admit(grant: record.grant))
        try await quotas.set(Quota(subject: limited, period: .daily, metric: .calls, amount: 1e12), at: 0)
        try await quotas.set(Quota(subject: limited, period: .minute, metric: .tokens, amount: 1e12), at: 0)
        // Which quotas apply is cached for a second: past that, every call reserves.
        try await Task.sleep(for: .milliseconds(1100))
        row("API key grant, daily calls + minute tokens", try await admit(grant: record.grant))
        await server.shutdown()
    }
}
