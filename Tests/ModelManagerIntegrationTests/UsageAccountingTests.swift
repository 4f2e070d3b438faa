import AsyncHTTPClient
import Foundation
import Logging
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerServer
import ModelManagerTestSupport
import ModelManagerUsage
import NIOCore
import Testing

/// Usage accounting through the server: a record per call, cost in the answer, the admin API.
@Suite struct UsageAccountingTests {
    static func chat(_ text: String, model: String = "gpt-4o-mini", stream: Bool = false, user: String = "alice")
        -> ModelRequest
    {
        ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, stream: stream, orgID: "acme",
            userID: user, clientType: "usage-tests",
            extra: ["model": .string(model), "messages": [["role": "user", "content": .string(text)]]])
    }

    @Test func everyCallLeavesARecordCommittedBeforeItsFinalAnswer() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            let repository = server.server.usageService.repository
            let answer = try await client.invoke(Self.chat("count me"), requestID: "rec-1")
            // The record exists the moment the answer does.
            let stored = try #require(try await repository.records(requestIDs: ["rec-1"]).first)
            #expect(stored.success)
            #expect(stored.totalTokens == answer.usage?.totalTokens)
            #expect(stored.model == "gpt-4o-mini")
            #expect(stored.userID == "alice" && stored.orgID == "acme" && stored.clientType == "usage-tests")
            #expect(stored.originRequestID == "rec-1")
            #expect(stored.cost == answer.usageJSON?["total_cost"]?.doubleValue)
            #expect(answer.usageJSON?["currency"] == "USD")
            #expect((stored.cost ?? 0) > 0)

            var chunks: [ModelResponse] = []
            for try await chunk in client.invokeStream(Self.chat("stream me", stream: true), requestID: "rec-2") {
                chunks.append(chunk)
            }
            let streamed = try #require(try await repository.records(requestIDs: ["rec-2"]).first)
            #expect(streamed.stream && streamed.success)
            #expect(streamed.timeToFirstTokenMilliseconds != nil)
            #expect(streamed.totalTokens == chunks.last?.usage?.totalTokens)

            // A failed call is recorded too, with its error.
            _ = await #expect(throws: ModelManagerClientError.self) {
                try await client.invoke(Self.chat("x", model: "gpt-unknown"), requestID: "rec-3")
            }
            let failed = try #require(try await repository.records(requestIDs: ["rec-3"]).first)
            #expect(!failed.success)
            #expect(failed.error?.contains("gpt-unknown") == true)

            // Batch items count one each.
            _ = try await client.invokeBatch(
                [Self.chat("one"), Self.chat("two"), Self.chat("three", model: "nope")], requestID: "rec-4")
            let batch = try await repository.records(requestIDs: ["rec-4"])
            #expect(batch.count == 3)
            #expect(batch.filter(\.success).count == 2)
        }
    }

    @Test func unknownPricesAreNullNotZero() async throws {
        try await withTestServer { server in
            let answer = try await server.asyncClient().invoke(
                ModelRequest(
                    provider: .perplexity, invokeType: .chatCompletions, orgID: "acme", userID: "alice",
                    extra: ["model": "sonar-reasoning", "messages": [["role": "user", "content": "hi"]]]),
                requestID: "unpriced")
            #expect(answer.usageJSON?["total_cost"] == .null)
            let stored = try #require(
                try await server.server.usageService.repository.records(requestIDs: ["unpriced"]).first)
            #expect(stored.cost == nil)
        }
    }

    @Test func adminAPIAnswersAdminsOnly() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            for user in ["alice", "alice", "bob"] { _ = try await client.invoke(Self.chat("stats please", user: user)) }
            let http = HTTPClient.shared
            let base = "http://127.0.0.1:\(server.server.httpPort)"
            let minter = JWTMinter(secret: TestServer.jwtSecret)
            let admin = JWTMinter(secret: TestServer.adminJWTSecret).mint(claims: ["user_id": "root", "role": "admin"])
                .token
            let user = minter.mint(claims: ["user_id": "alice"]).token
            // A client minting itself admin with the clients' secret is known, and forbidden.
            let selfMadeAdmin = minter.mint(claims: ["user_id": "mallory", "role": "admin"]).token
            let adminSecretWithoutRole = JWTMinter(secret: TestServer.adminJWTSecret).mint(claims: ["user_id": "root"])
                .token

            func get(_ path: String, token: String?) async throws -> (Int, JSONValue) {
                var request = HTTPClientRequest(url: base + path)
                if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                let response = try await http.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 20)
                return (Int(response.status.code), try JSONValue(parsing: body.readableBytesView))
            }

            let (status, stats) = try await get("/api/v1/admin/token-stats?granularity=day", token: admin)
            #expect(status == 200)
            #expect(stats["summary"]?["total_calls"] == .integer(3))
            #expect(stats["summary"]?["successful_calls"] == .integer(3))
            #expect(stats["by_model"]?[0]?["model"] == "gpt-4o-mini")
            #expect(stats["series"]?.arrayValue?.count == 1)
            let (_, filtered) = try await get("/api/v1/admin/token-stats?user_id=bob", token: admin)
            #expect(filtered["summary"]?["total_calls"] == .integer(1))
            #expect(filtered["series"] == .null)
            let (listStatus, list) = try await get(
                "/api/v1/admin/llm-usage?page=1&page_size=2&user_id=alice", token: admin)
            #expect(listStatus == 200)
            #expect(list["total"] == .integer(2))
            #expect(list["results"]?.arrayValue?.count == 2)
            #expect(list["page_size"] == .integer(2))

            let (rejectedUser, _) = try await get("/api/v1/admin/token-stats", token: user)
            #expect(rejectedUser == 403)
            let (rejectedSelfMade, selfMadeError) = try await get("/api/v1/admin/token-stats", token: selfMadeAdmin)
            #expect(rejectedSelfMade == 403)
            #expect(selfMadeError["error"]?.stringValue?.contains("client token does not grant admin") == true)
            let forged = JWTMinter(secret: "not-any-secret-of-this-server").mint(claims: ["role": "admin"]).token
            let (rejectedForged, forgedError) = try await get("/api/v1/admin/token-stats", token: forged)
            #expect(rejectedForged == 401)
            #expect(forgedError["error"]?.stringValue?.contains("signature") == true)
            let (forbidden, _) = try await get("/api/v1/admin/token-stats", token: adminSecretWithoutRole)
            #expect(forbidden == 403)
            let (unauthenticated, _) = try await get("/api/v1/admin/token-stats", token: nil)
            #expect(unauthenticated == 401)
            let (badGranularity, error) = try await get("/api/v1/admin/token-stats?granularity=week", token: admin)
            #expect(badGranularity == 400)
            #expect(error["error"]?.stringValue?.contains("'week'") == true)
            let (badDate, _) = try await get("/api/v1/admin/llm-usage?start_date=yesterday", token: admin)
            #expect(badDate == 400)
            let (ready, readiness) = try await get("/readyz", token: nil)
            #expect(ready == 200)
            #expect(readiness["ledger"] == "ok")
        }
    }

    @Test func withoutAnAdminSecretTheAdminAPIIsOffAndSaysSo() async throws {
        try await withTestServer(configure: { $0.auth.adminJWTSecrets = [] }) { server in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.server.httpPort)/api/v1/admin/token-stats")
            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["user_id": "root", "role": "admin"]).token
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try JSONValue(parsing: try await response.body.collect(upTo: 1 << 20).readableBytesView)
            #expect(response.status.code == 501)
            #expect(body["error"]?.stringValue?.contains("MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY") == true)
        }
    }

    @Test func theAdminSecretMustDifferFromTheClients() async throws {
        await #expect(throws: ServerConfiguration.Invalid.self) {
            try await withTestServer(configure: { $0.auth.adminJWTSecrets = [.init(TestServer.jwtSecret)] }) { _ in }
        }
    }

    @Test func onlyAllowListedHeadersReachTheRecordAndNeverACredential() async throws {
        try await withTestServer { server in
            var request = HTTPClientRequest(url: "\(server.httpURL)/v1/invoke")
            request.method = .POST
            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["user_id": "alice"]).token
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "X-Request-ID", value: "headers-1")
            request.headers.add(name: "X-Api-Key", value: "sk-live-0123456789")
            request.headers.add(name: "X-User-IP", value: "203.0.113.7")
            request.headers.add(name: "X-Idempotency-Key", value: String(repeating: "k", count: 1000))
            request.headers.add(name: "X-Something-Else", value: "not kept")
            let body: JSONValue = [
                "provider": "openai", "invoke_type": "chat-completions", "model": "gpt-4o-mini",
                "messages": [["role": "user", "content": "hi"]],
                "user_context": ["org_id": "acme", "user_id": "alice", "client_type": "t"],
            ]
            request.body = .bytes(ByteBuffer(string: body.jsonText))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 200)
            let stored = try #require(
                try await server.server.usageService.repository.records(requestIDs: ["headers-1"]).first)
            #expect(stored.metadata["x-user-ip"] == .string("203.0.113.7"))
            #expect(stored.metadata["x-api-key"] == nil)
            #expect(stored.metadata["x-something-else"] == nil)
            // Kept values are cut to 256 bytes.
            #expect(stored.metadata["x-idempotency-key"] == .string(String(repeating: "k", count: 256)))
            #expect(!stored.metadata.description.contains("sk-live"))
        }
    }
}

/// Two server instances sharing one PostgreSQL ledger, as a deployment behind a load balancer would.
@Suite struct SharedPostgresLedgerTests {
    /// A configuration change that points a server at a new database on the test PostgreSQL.
    static func sharedDatabase() async throws -> (inout ServerConfiguration) -> Void {
        let base = try #require(
            ProcessInfo.processInfo.environment["MM_TEST_POSTGRES_URL"],
            "MM_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL")
        let name = "shared_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try PostgresDatabase(url: base, logger: Logger(label: "shared-ledger-test"))
        try await withRunningServices([admin], logger: Logger(label: "shared-ledger-test")) {
            _ = try await admin.read(SQLStatement("CREATE DATABASE \(name)"))
        }
        let url = String(base[..<base.lastIndex(of: "/")!] + "/\(name)")
        return { $0.usage.database = .postgres(url: url) }
    }

    @Test func twoInstancesEnforceOneCallQuotaExactly() async throws {
        let shared = try await Self.sharedDatabase()
        try await withTestServer(configure: shared) { first in
            try await withTestServer(configure: shared) { second in
                try await QuotaStore(database: first.server.usageService.repository.database).set(
                    Quota(subject: QuotaSubject(kind: .org, id: "org-q"), period: .daily, metric: .calls, amount: 100),
                    at: 0)
                let clients = [first, second].map(QuotaTests.clientWithoutRetries)
                async let fromFirst = QuotaTests.burst(clients[0], 100)
                async let fromSecond = QuotaTests.burst(clients[1], 100)
                let (one, two) = await (fromFirst, fromSecond)
                #expect(one.succeeded + two.succeeded == 100, "\(one.succeeded) + \(two.succeeded)")
                #expect((one.refused + two.refused).allSatisfy { $0.status == .resourceExhausted })
                #expect(try await QuotaTests.used(first, QuotaSubject(kind: .org, id: "org-q"), .daily).calls == 100)
            }
        }
    }

    @Test func twoInstancesKeepATokenQuotaWithinItsReservations() async throws {
        let shared = try await Self.sharedDatabase()
        try await withTestServer(configure: shared) { first in
            try await withTestServer(configure: shared) { second in
                let org = QuotaSubject(kind: .org, id: "org-tokens")
                try await QuotaTests.set(first, org, .daily, .tokens, 500)
                let perCall = try #require(
                    try await first.asyncClient().invoke(QuotaTests.chat(org: "org-probe")).usage?.totalTokens)
                let clients = [first, second].map(QuotaTests.clientWithoutRetries)
                async let fromFirst = QuotaTests.burst(clients[0], 40, org: org.id)
                async let fromSecond = QuotaTests.burst(clients[1], 40, org: org.id)
                let (one, two) = await (fromFirst, fromSecond)
                let succeeded = one.succeeded + two.succeeded
                #expect(succeeded > 0 && !(one.refused + two.refused).isEmpty)
                #expect((one.refused + two.refused).allSatisfy { $0.message.contains("daily tokens limit 500") })
                // Each call reserves its prompt's estimate and max_tokens (more than the emulator's
                // answer uses): what is in flight can never push the settled total past the limit.
                let used = try await QuotaTests.used(first, org, .daily)
                #expect(used.tokens == Int64(succeeded * perCall), "settled on the real usage of \(succeeded) calls")
                #expect(used.tokens <= 500)
            }
        }
    }

    @Test func theSharedCacheTierAnswersOneInstanceWithAnotherInstancesAnswer() async throws {
        let database = try await Self.sharedDatabase()
        let shared: (inout ServerConfiguration) -> Void = { configuration in
            database(&configuration)
            configuration.cache.shared = true
        }
        try await withTestServer(configure: shared) { first in
            try await withTestServer(configure: shared) { second in
                let paid = try await first.asyncClient().invoke(CacheTests.chat("shared answer"))
                let hit = try await second.asyncClient().invoke(CacheTests.chat("shared answer"))
                #expect(TaskTests.upstreamCalls(first) == 1 && TaskTests.upstreamCalls(second) == 0)
                #expect(hit.content == paid.content && hit.usageJSON?["cache_hit"] == "exact")
                #expect(hit.usageJSON?["saved_cost"]?.doubleValue == paid.cost)
                // Kept in the second instance's own cache now: no second read of the shared tier needed.
                _ = try await second.asyncClient().invoke(CacheTests.chat("shared answer"))
                #expect(second.server.invocation.cacheCounters.entries == 1)
                _ = try await second.asyncClient().invoke(CacheTests.chat("shared answer", org: "org-elsewhere"))
                #expect(TaskTests.upstreamCalls(second) == 1, "another org's request is another key")
            }
        }
    }

    @Test func aKeyRevokedOnOneInstanceIsRefusedByBothWithinASecond() async throws {
        let database = try await Self.sharedDatabase()
        let shared: (inout ServerConfiguration) -> Void = { configuration in
            database(&configuration)
            configuration.auth.apiKeyPepper = APIKeyTests.pepper
        }
        try await withTestServer(configure: shared) { first in
            try await withTestServer(configure: shared) { second in
                let key = try await APIKeyTests.makeKey(
                    APIKeyStore(database: first.server.usageService.repository.database))
                let clients = [first, second].map { APIKeyTests.client($0, key: key) }
                for client in clients { _ = try await client.invoke(APIKeyTests.chat()) }
                let revoked = try await HTTPCalls.send(
                    first, .POST, "/api/v1/admin/keys/\(try #require(APIKeySecret.id(of: key)))/revoke",
                    token: AdminKeysTests.globalAdmin)
                #expect(revoked.status == 200)
                let since = ContinuousClock.now
                for client in clients {
                    var refused: ModelManagerClientError?
                    while refused == nil, ContinuousClock.now - since < .seconds(3) {
                        do {
                            _ = try await client.invoke(APIKeyTests.chat())
                            try await Task.sleep(for: .milliseconds(20))
                        } catch let error as ModelManagerClientError {
                            refused = error
                        }
                    }
                    #expect(refused?.status == .unauthenticated)
                }
                #expect(ContinuousClock.now - since < .milliseconds(1500), "both refuse within the 1 s cache lifetime")
            }
        }
    }

    @Test func twoInstancesShareOneLedger() async throws {
        let shared = try await Self.sharedDatabase()
        // Both instances migrate the same database at start (under the advisory lock).
        try await withTestServer(configure: shared) { first in
            try await withTestServer(configure: shared) { second in
                _ = try await first.asyncClient().invoke(
                    UsageAccountingTests.chat("from the first"), requestID: "pg-first")
                _ = try await second.asyncClient().invoke(
                    UsageAccountingTests.chat("from the second"), requestID: "pg-second")
                for server in [first, second] {
                    let records = try await server.server.usageService.repository.records(requestIDs: [
                        "pg-first", "pg-second",
                    ])
                    #expect(records.count == 2)
                    #expect(records.allSatisfy { $0.success && $0.totalTokens > 0 })
                }
            }
        }
    }
}
