import AsyncHTTPClient
import Foundation
import Logging
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerServer
import ModelManagerTestSupport
import ModelManagerUsage
import NIOCore
import NIOHTTP1
import Testing

/// Quotas of orgs, users and keys: checked before the upstream call, counted atomically, settled on
/// the real usage; refusals name the limit, the use and the reset, with a retry-after.
@Suite struct QuotaTests {
    static func chat(org: String = "org-q", user: String = "user-q", model: String = "gpt-4o-mini") -> ModelRequest {
        ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: org, userID: user,
            extra: ["model": .string(model), "messages": [["role": "user", "content": "hello"]], "max_tokens": 10])
    }

    static func set(
        _ server: TestServer, _ subject: QuotaSubject, _ period: Quota.Period, _ metric: Quota.Metric, _ amount: Double
    )
        async throws
    {
        try await QuotaStore(database: server.server.usageService.repository.database).set(
            Quota(subject: subject, period: period, metric: metric, amount: amount), at: 0)
    }

    static func used(_ server: TestServer, _ subject: QuotaSubject, _ period: Quota.Period) async throws -> QuotaAmounts
    {
        let key = QuotaCalendar(timeZone: .gmt).window(period, at: Date())
        return try await server.server.invocation.quotaCounters.used(
            .init(subject: subject, period: period, key: key, limits: [:]))
    }

    /// Refusals come back at once, so a burst shows what the server admitted.
    static func clientWithoutRetries(_ server: TestServer) -> AsyncModelManagerClient {
        var configuration = server.clientConfiguration
        configuration.retry.maximumRetries = 0
        return AsyncModelManagerClient(configuration: configuration)
    }

    /// Runs `count` calls at once; returns how many succeeded and the refusals.
    static func burst(_ client: AsyncModelManagerClient, _ count: Int, org: String = "org-q") async
        -> (succeeded: Int, refused: [ModelManagerClientError])
    {
        await withTaskGroup(of: Result<Void, ModelManagerClientError>.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do {
                        _ = try await client.invoke(chat(org: org))
                        return .success(())
                    } catch let error as ModelManagerClientError {
                        return .failure(error)
                    } catch {
                        return .failure(ModelManagerClientError(status: .internalError, message: "\(error)"))
                    }
                }
            }
            var succeeded = 0
            var refused: [ModelManagerClientError] = []
            for await result in group {
                switch result {
                case .success: succeeded += 1
                case .failure(let error): refused.append(error)
                }
            }
            return (succeeded, refused)
        }
    }

    @Test func aDailyCallQuotaAdmitsExactlyItsLimitUnderConcurrency() async throws {
        try await withTestServer { server in
            let org = QuotaSubject(kind: .org, id: "org-q")
            try await Self.set(server, org, .daily, .calls, 100)
            let (succeeded, refused) = await Self.burst(Self.clientWithoutRetries(server), 200)
            #expect(succeeded == 100)
            #expect(refused.count == 100)
            #expect(refused.allSatisfy { $0.status == .resourceExhausted }, "\(refused.first.map { "\($0)" } ?? "")")
            let message = refused.first?.message ?? ""
            #expect(message.contains("org 'org-q' daily calls limit 100, 100 used"), "\(message)")
            #expect(message.contains("resets at"), "\(message)")
            #expect(try await Self.used(server, org, .daily).calls == 100)
        }
    }

    @Test func theEmbeddedLedgersInMemoryCountersOutliveARestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mm-restart-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let sameLedger: (inout ServerConfiguration) -> Void = { configuration in
            configuration.usage.database = .sqlite(path: path)
            configuration.quotas.counterFlushInterval = .seconds(3600)
        }
        let org = QuotaSubject(kind: .org, id: "org-restart")
        try await withTestServer(configure: sameLedger) { server in
            try await Self.set(server, org, .daily, .calls, 3)
            let (succeeded, _) = await Self.burst(Self.clientWithoutRetries(server), 2, org: org.id)
            #expect(succeeded == 2)
        }
        // Written at shutdown, although the next write-behind was an hour away.
        try await withTestServer(configure: sameLedger) { server in
            let (succeeded, refused) = await Self.burst(Self.clientWithoutRetries(server), 3, org: org.id)
            #expect(succeeded == 1)
            #expect(refused.first?.message.contains("daily calls limit 3, 3 used") == true)
        }
    }

    @Test func aFailedCallGivesItsCallBackAndTokensSettleOnTheRealUsage() async throws {
        try await withTestServer { server in
            let user = QuotaSubject.user(org: "org-q", user: "user-q")
            try await Self.set(server, user, .monthly, .calls, 1)
            try await Self.set(server, user, .monthly, .tokens, 1000)
            var configuration = server.clientConfiguration
            configuration.retry.baseDelay = .seconds(1)
            let client = AsyncModelManagerClient(configuration: configuration)
            await #expect(throws: ModelManagerClientError.self) {
                _ = try await client.invoke(Self.chat(model: "no-such-model"))
            }
            #expect(try await Self.used(server, user, .monthly).calls == 0)
            let answer = try await client.invoke(Self.chat())
            let used = try await Self.used(server, user, .monthly)
            #expect(used.calls == 1)
            #expect(
                used.tokens == Int64(answer.usage?.totalTokens ?? -1), "settled on the real usage, not the estimate")
            // The client retries RESOURCE_EXHAUSTED, but not a refusal that lasts past its deadline.
            let started = ContinuousClock.now
            let refused = await #expect(throws: ModelManagerClientError.self) {
                _ = try await client.invoke(Self.chat())
            }
            #expect(ContinuousClock.now - started < .seconds(1), "refused at once, not retried")
            #expect(refused?.message.contains("user 'org-q/user-q' monthly calls limit 1") == true)
            #expect((refused?.retryAfter ?? .zero) > .seconds(60), "the trailer says when the month ends")
        }
    }

    @Test func aTokenQuotaIsNotPassedByConcurrentCalls() async throws {
        try await withTestServer { server in
            let org = QuotaSubject(kind: .org, id: "org-t")
            try await Self.set(server, org, .daily, .tokens, 200)
            let (succeeded, refused) = await Self.burst(Self.clientWithoutRetries(server), 40, org: "org-t")
            #expect(succeeded > 0 && !refused.isEmpty)
            #expect(
                refused.allSatisfy { $0.message.contains("daily tokens limit 200") },
                "\(refused.map(\.message).filter { !$0.contains("daily tokens limit 200") }.prefix(2))")
            // Every call reserved more than it used, so the settled total stays within the limit.
            #expect(try await Self.used(server, org, .daily).tokens <= 200)
        }
    }

    @Test func aKeysTotalQuotaNeverResetsAndHTTPSaysRetryAfterForADailyOne() async throws {
        try await withTestServer(configure: { $0.auth.apiKeyPepper = APIKeyTests.pepper }) { server in
            let store = APIKeyStore(database: server.server.usageService.repository.database)
            let key = try await APIKeyTests.makeKey(store)
            let id = try #require(APIKeySecret.id(of: key))
            try await Self.set(server, QuotaSubject(kind: .key, id: id), .total, .calls, 2)
            let client = APIKeyTests.client(server, key: key)
            _ = try await client.invoke(APIKeyTests.chat())
            _ = try await client.invoke(APIKeyTests.chat())
            let refused = await #expect(throws: ModelManagerClientError.self) {
                _ = try await client.invoke(APIKeyTests.chat())
            }
            #expect(refused?.message.contains("key '\(id)' total calls limit 2, 2 used") == true)
            #expect(refused?.message.contains("a total quota does not reset") == true, "\(refused?.message ?? "")")

            try await Self.set(server, QuotaSubject(kind: .org, id: "org-h"), .daily, .calls, 0)
            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["user_id": "u"]).token
            let answer = try await HTTPCalls.invoke(server, token: token, org: "org-h")
            #expect(answer.status == 429)
            let seconds = try #require(answer.headers.first(name: "Retry-After").flatMap(Int.init))
            #expect(seconds >= 1 && seconds <= 86_400)
        }
    }

    @Test func adminsSetAndReadQuotasOfTheirOwnOrg() async throws {
        try await withTestServer(configure: { $0.auth.apiKeyPepper = APIKeyTests.pepper }) { server in
            let orgAdmin = try await APIKeyTests.makeKey(
                APIKeyStore(database: server.server.usageService.repository.database)
            ) { $0.scopes = [.adminRead, .adminWrite] }
            let set = try await HTTPCalls.send(
                server, .PUT, "/api/v1/admin/quotas", token: orgAdmin,
                body: ["period": "daily", "metric": "calls", "limit": 5])
            #expect(set.status == 200, "\(set.body.jsonText)")
            #expect(set.body["subject_id"]?.stringValue == "org-1")
            let otherOrg = try await HTTPCalls.send(
                server, .PUT, "/api/v1/admin/quotas", token: orgAdmin,
                body: ["org_id": "org-2", "period": "daily", "metric": "calls", "limit": 5])
            #expect(otherOrg.status == 403)
            let badPeriod = try await HTTPCalls.send(
                server, .PUT, "/api/v1/admin/quotas", token: orgAdmin,
                body: ["period": "weekly", "metric": "calls", "limit": 5])
            #expect(badPeriod.status == 400 && badPeriod.body["error"]?.stringValue?.contains("'weekly'") == true)

            _ = try await server.asyncClient().invoke(Self.chat(org: "org-1"))
            let report = try await HTTPCalls.send(server, .GET, "/api/v1/admin/quotas", token: orgAdmin)
            let entry = try #require(report.body["quotas"]?.arrayValue?.first)
            #expect(entry["used"]?.integerValue == 1 && entry["limit"]?.integerValue == 5)
            #expect(entry["resets_at"]?.stringValue?.hasSuffix("T00:00:00Z") == true)
            let deleted = try await HTTPCalls.send(
                server, .DELETE, "/api/v1/admin/quotas?period=daily&metric=calls", token: orgAdmin)
            #expect(deleted.status == 200)
            #expect(
                try await HTTPCalls.send(server, .GET, "/api/v1/admin/quotas", token: orgAdmin).body["quotas"]?
                    .arrayValue?.isEmpty == true)
        }
    }

    @Test func aPerMinuteRequestLimitOnOneModelShowsInHeadersAndRefusesUntilTheNextMinute() async throws {
        try await withTestServer { server in
            try await QuotaStore(database: server.server.usageService.repository.database).set(
                Quota(
                    subject: QuotaSubject(kind: .org, id: "org-r"), model: "gpt-4o-mini", period: .minute,
                    metric: .calls,
                    amount: 3), at: 0)
            try await Self.set(server, QuotaSubject(kind: .org, id: "org-r"), .minute, .tokens, 100_000)
            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["user_id": "u"]).token
            var remaining: [String] = []
            var answers: [HTTPCalls.Answer] = []
            for _ in 0..<4 {
                let answer = try await HTTPCalls.invoke(server, token: token, org: "org-r")
                answers.append(answer)
                remaining.append(answer.headers.first(name: "x-ratelimit-remaining-requests") ?? "-")
            }
            // A new minute may begin during the loop; then the count starts again.
            if answers.map(\.status) == [200, 200, 200, 429] {
                #expect(remaining.prefix(3) == ["2", "1", "0"])
                #expect(answers[0].headers.first(name: "x-ratelimit-limit-requests") == "3")
                #expect(answers[0].headers.first(name: "x-ratelimit-limit-tokens") == "100000")
                let reset = answers[0].headers.first(name: "x-ratelimit-reset-requests") ?? ""
                #expect(reset.hasSuffix("s") && (Int(reset.dropLast()) ?? 0) <= 60, "\(reset)")
                let refused = answers[3]
                #expect(refused.body["error"]?.stringValue?.contains("org 'org-r' minute calls limit 3") == true)
                let retryAfter = Int(refused.headers.first(name: "Retry-After") ?? "") ?? 0
                #expect(retryAfter >= 1 && retryAfter <= 60)
            } else {
                #expect(answers.filter { $0.status == 200 }.count >= 3, "\(answers.map(\.status))")
            }
            // Another model is not limited by that model's limit.
            var other = Self.chat(org: "org-r", model: "gpt-4o")
            other.extra["max_tokens"] = 5
            _ = try await server.asyncClient().invoke(other)
        }
    }
}
