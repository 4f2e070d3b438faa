import Foundation
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerServer
import ModelManagerTestSupport
import ModelManagerUsage
import Testing

/// Asynchronous tasks through the Swift client: created at once, run by the workers, read back
/// with their result; idempotency keys, org isolation and the `tasks` scope.
@Suite struct TaskTests {
    static func chat(_ text: String = "task please", org: String = "org-t", delayMilliseconds: Int = 0) -> ModelRequest
    {
        var extra: [String: JSONValue] = [
            "model": "gpt-4o-mini", "messages": [["role": "user", "content": .string(text)]],
        ]
        if delayMilliseconds > 0 {
            extra["extra_headers"] = ["x-emulator-fault": .string("delay-ms=\(delayMilliseconds)")]
        }
        return ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: org, userID: "u1", extra: extra)
    }

    static func upstreamCalls(_ server: TestServer) -> Int {
        server.emulator.recorder.requests.filter { $0.path == "/v1/chat/completions" }.count
    }

    @Test func aTaskIsAnsweredAtOnceRunsAndIsReadBackWithItsResultAndOneRecord() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            // The upstream takes 2 s: the task is answered, and read back, while it still runs.
            let handle = try await client.createTask(Self.chat(delayMilliseconds: 2000), requestID: "task-req-1")
            #expect(handle.id.hasPrefix("task-"))
            let processing = try await client.getTaskStatus(handle.id)
            #expect(processing.status == "processing" && processing.resultData == nil)
            #expect(processing.model == "gpt-4o-mini" && processing.provider == "openai")

            let finished = try await client.waitForTask(handle.id, every: .milliseconds(50), timeout: .seconds(10))
            #expect(finished.status == "completed")
            #expect(finished.content == "Echo: task please")
            #expect(finished.resultData?["usage"]?["total_tokens"]?.integerValue ?? 0 > 0)
            #expect(finished.resultData?["usage"]?["total_cost"] != nil)
            #expect(finished.resultData?["raw_response"]?["object"] == "chat.completion")
            #expect(finished.completedAt != nil && finished.errorMessage == nil)
            #expect(Self.upstreamCalls(server) == 1)
            // The upstream never saw the task keys.
            let sent = try #require(server.emulator.recorder.requests.last?.body)
            #expect(sent["enable_async_task"] == nil)

            let records = try await server.server.usageService.repository.records(requestIDs: ["task-req-1"])
            #expect(records.count == 1 && records.first?.success == true)

            let batch = try await client.batchGetTaskStatus(["task-unknown", handle.id])
            #expect(batch.map(\.taskID) == ["task-unknown", handle.id])
            #expect(batch[0].status == "failed" && batch[0].errorMessage?.contains("not found") == true)
            #expect(batch[1].status == "completed")
            let unknown = await #expect(throws: ModelManagerClientError.self) {
                _ = try await client.getTaskStatus("task-unknown")
            }
            #expect(unknown?.status == .notFound)

            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["org_id": "org-t", "user_id": "u1"]).token
            let overHTTP = try await HTTPCalls.send(server, .GET, "/v1/tasks/\(handle.id)", token: token)
            #expect(overHTTP.status == 200 && overHTTP.body["status"] == "completed")
            #expect(overHTTP.body["result_data"]?["content"] == "Echo: task please")
        }
    }

    @Test func callbackURLsMustBeSignedHTTPAndNotInternalUnlessAllowed() async throws {
        try await withTestServer(configure: { $0.tasks.callbackSecret = "callback-secret" }) { server in
            let client = server.asyncClient()
            for (url, message) in [
                ("http://127.0.0.1:9/hook", "'127.0.0.1' is a loopback or private address"),
                ("http://[::1]:9/hook", "'[::1]' is a loopback or private address"),
                ("http://10.1.2.3/hook", "'10.1.2.3' is a loopback or private address"),
                ("http://169.254.169.254/latest", "'169.254.169.254' is a loopback or private address"),
                ("http://localhost:9/hook", "'localhost' is a loopback or private address"),
                ("ftp://example.com/hook", "must be an http:// or https:// URL"),
            ] {
                let refused = await #expect(throws: ModelManagerClientError.self) {
                    _ = try await client.createTask(Self.chat(), callbackURL: url)
                }
                #expect(refused?.status == .invalidArgument && refused?.message.contains(message) == true, "\(url)")
            }
            // A public address is accepted (a name is checked on what it resolves to when sending).
            _ = try await client.createTask(Self.chat(), callbackURL: "https://203.0.113.10/done")
        }
        try await withTestServer { server in
            let refused = await #expect(throws: ModelManagerClientError.self) {
                _ = try await server.asyncClient().createTask(
                    Self.chat(), callbackURL: "https://hooks.example.com/done")
            }
            #expect(refused?.message.contains("no callback signing secret") == true)
        }
    }

    @Test func anOrgCannotQueueMoreThanItsLimitAndCallbacksBackOffWithinTheirTime() async throws {
        try await withTestServer(configure: { $0.tasks.maximumProcessingPerOrg = 1 }) { server in
            // The client would retry RESOURCE_EXHAUSTED after its retry-after, once the first task is done.
            let client = QuotaTests.clientWithoutRetries(server)
            _ = try await client.createTask(Self.chat(delayMilliseconds: 2000))
            let refused = await #expect(throws: ModelManagerClientError.self) {
                _ = try await client.createTask(Self.chat())
            }
            #expect(refused?.status == .resourceExhausted && refused?.message.contains("1 tasks processing") == true)
            _ = try await client.createTask(Self.chat(org: "org-other"))
        }
        var settings = TaskSettings()
        settings.callbackRetryFor = .seconds(60)
        let finished = Date(timeIntervalSince1970: 1_000_000)
        let delays = (1...10).map { attempts in
            TaskCallbacks.retryAt(attempts: attempts, finishedAt: finished, settings: settings, now: finished)
                .map { $0.timeIntervalSince(finished) }
        }
        #expect(delays.prefix(6) == [1, 2, 4, 8, 16, 32])
        #expect(delays[6] == nil, "64 s would pass the 60 s retry time: given up")
        settings.callbackRetryFor = .seconds(86_400)
        #expect(
            TaskCallbacks.retryAt(attempts: 15, finishedAt: finished, settings: settings, now: finished)?
                .timeIntervalSince(finished) == 300, "the backoff stops growing at 5 min")
    }

    @Test func theBlockingClientCreatesAndWaitsForATask() async throws {
        try await withTestServer { server in
            let configuration = server.clientConfiguration
            let finished = try await Thread.run {
                let client = ModelManagerClient(configuration: configuration)
                let handle = try client.createTask(Self.chat("blocking task"))
                return try client.waitForTask(handle.id, every: .milliseconds(50), timeout: .seconds(10))
            }
            #expect(finished.status == "completed" && finished.content == "Echo: blocking task")
        }
    }

    @Test func anIdempotencyKeyNamesOneTaskAndOneUpstreamCall() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            let first = try await client.createTask(Self.chat(), idempotencyKey: "order-42")
            let second = try await client.createTask(Self.chat(), idempotencyKey: "order-42")
            #expect(first.id == second.id)
            let other = try await client.createTask(Self.chat(org: "org-other"), idempotencyKey: "order-42")
            #expect(other.id != first.id, "keys are per org")
            _ = try await client.waitForTask(first.id, every: .milliseconds(50), timeout: .seconds(10))
            _ = try await client.waitForTask(other.id, every: .milliseconds(50), timeout: .seconds(10))
            #expect(Self.upstreamCalls(server) == 2)
        }
    }

    @Test func aSynchronousCallWithAnIdempotencyKeyRunsOnceAndAFailedOneRunsAgain() async throws {
        try await withTestServer { server in
            let client = server.asyncClient()
            var keyed = Self.chat("only once", delayMilliseconds: 300)
            keyed.extra["idempotency_key"] = "sync-1"
            // Two at once: the second waits for the first's answer.
            async let first = client.invoke(keyed)
            async let second = client.invoke(keyed)
            let (one, two) = try await (first, second)
            #expect(one.content == "Echo: only once" && two.content == one.content)
            #expect(two.usage == one.usage && two.cost == one.cost)
            #expect(Self.upstreamCalls(server) == 1)
            var streamed = keyed
            streamed.stream = true
            var items: [ModelResponse] = []
            for try await item in client.invokeStream(streamed) { items.append(item) }
            #expect(items.map(\.content).joined() == "Echo: only once" && items.last?.usage == one.usage)
            #expect(Self.upstreamCalls(server) == 1, "a stream with the key gets the stored answer")

            var failing = Self.chat("fails")
            failing.extra["idempotency_key"] = "sync-2"
            failing.extra["extra_headers"] = ["x-emulator-fault": "status=400"]
            for _ in 0..<2 {
                let refused = await #expect(throws: ModelManagerClientError.self) {
                    _ = try await client.invoke(failing)
                }
                #expect(refused?.status == .invalidArgument)
            }
            #expect(Self.upstreamCalls(server) == 3, "a failed call lets its key go: the retry runs")
        }
    }

    @Test func aFailedTaskSaysWhyAndAKeyNeedsTheTasksScopeAndSeesOnlyItsOrg() async throws {
        try await withTestServer(configure: { $0.auth.apiKeyPepper = APIKeyTests.pepper }) { server in
            let client = server.asyncClient()
            let failing = try await client.createTask(
                ModelRequest(
                    provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: "org-t",
                    extra: [
                        "model": "gpt-4o-mini", "messages": [["role": "user", "content": "x"]],
                        "extra_headers": ["x-emulator-fault": "status=400"],
                    ]))
            let failed = try await client.waitForTask(failing.id, every: .milliseconds(50), timeout: .seconds(10))
            #expect(failed.status == "failed" && failed.resultData == nil)
            #expect(failed.errorMessage?.hasPrefix("invalid argument") == true, "\(failed.errorMessage ?? "")")

            let store = APIKeyStore(database: server.server.usageService.repository.database)
            let invokeOnly = try await APIKeyTests.makeKey(store) { $0.orgID = "org-t" }
            let refused = await #expect(throws: ModelManagerClientError.self) {
                _ = try await APIKeyTests.client(server, key: invokeOnly).createTask(Self.chat(org: ""))
            }
            #expect(refused?.status == .permissionDenied && refused?.message.contains("'tasks' scope") == true)

            let otherOrg = try await APIKeyTests.makeKey(store) { key in
                key.orgID = "org-2"
                key.scopes = [.invoke, .tasks]
            }
            let notTheirs = await #expect(throws: ModelManagerClientError.self) {
                _ = try await APIKeyTests.client(server, key: otherOrg).getTaskStatus(failing.id)
            }
            #expect(notTheirs?.status == .notFound)
            let own = try await APIKeyTests.client(server, key: otherOrg).createTask(Self.chat(org: ""))
            #expect(try await APIKeyTests.client(server, key: otherOrg).getTaskStatus(own.id).taskID == own.id)
        }
    }
}
