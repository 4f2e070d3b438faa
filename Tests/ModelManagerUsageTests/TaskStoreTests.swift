import Foundation
import ModelManagerCore
import ModelManagerUsage
import Testing

/// The task store's leases and single completion, and the shared cache tier's expiry, on SQLite
/// and PostgreSQL.
@Suite struct TaskStoreTests {
    static func task(_ id: String, at date: Date) -> NewTask {
        NewTask(
            id: id, orgID: "o1", userID: "u1", provider: "openai", channel: "openai", invokeType: "chat-completions",
            model: "gpt-4o-mini", request: ["provider": "openai"], context: [:], reservation: nil, idempotencyKey: nil,
            callbackURL: nil, createdAt: date)
    }

    @Test(arguments: Backend.allCases)
    func aLeaseKeepsATaskUntilItExpiresAndATaskCompletesOnce(_ backend: Backend) async throws {
        let store = TaskStore(repository: try await backend.repository())
        let start = date("2026-12-03T10:00:00Z")
        _ = try await store.create(Self.task("t1", at: start), idempotencyWindow: .seconds(60))
        let first = try #require(try await store.claim(owner: "a", lease: .seconds(10), maximumAttempts: 2, now: start))
        #expect(first.id == "t1" && first.attempts == 1)
        #expect(try await store.claim(owner: "b", lease: .seconds(10), maximumAttempts: 2, now: start) == nil)
        // "a" died: once its lease has expired, "b" takes the task over; "a" can no longer renew it.
        let later = start.addingTimeInterval(11)
        #expect(try await store.claim(owner: "b", lease: .seconds(10), maximumAttempts: 2, now: later)?.attempts == 2)
        #expect(try await !store.renew(id: "t1", owner: "a", lease: .seconds(10), now: later))
        #expect(try await store.renew(id: "t1", owner: "b", lease: .seconds(10), now: later))

        let paid = record("t1-run", at: later)
        #expect(
            try await store.complete(
                id: "t1", status: .completed, resultData: [:], errorMessage: nil, record: paid, at: later))
        #expect(
            try await !store.complete(
                id: "t1", status: .completed, resultData: [:], errorMessage: nil, record: record("t1-again", at: later),
                at: later),
            "the second run to finish records nothing")
        #expect(try await store.repository.summary(UsageFilter()).calls == 1)
        #expect(try await store.tasks(ids: ["t1"]).first?.status == .completed)
        #expect(try await store.prune(finishedBefore: later.addingTimeInterval(1), limit: 10) == 1)
        #expect(try await store.tasks(ids: ["t1"]).isEmpty)
        await store.database.close()
    }

    @Test(arguments: Backend.allCases)
    func aTaskWhoseRunsAllDieIsFailedAfterItsAttempts(_ backend: Backend) async throws {
        let store = TaskStore(repository: try await backend.repository())
        let start = date("2026-12-03T10:00:00Z")
        _ = try await store.create(Self.task("t2", at: start), idempotencyWindow: .seconds(60))
        for round in 0..<2 {
            let now = start.addingTimeInterval(Double(round) * 20)
            #expect(try await store.claim(owner: "x", lease: .seconds(10), maximumAttempts: 2, now: now) != nil)
        }
        let expired = start.addingTimeInterval(40)
        #expect(try await store.claim(owner: "x", lease: .seconds(10), maximumAttempts: 2, now: expired) == nil)
        #expect(try await store.abandonExhausted(maximumAttempts: 2, now: expired) == ["t2"])
        let failed = try #require(try await store.tasks(ids: ["t2"]).first)
        #expect(failed.status == .failed && failed.errorMessage?.contains("abandoned after 2 attempts") == true)
        await store.database.close()
    }

    @Test(arguments: Backend.allCases)
    func sharedCacheAnswersExpireAndArePruned(_ backend: Backend) async throws {
        let shared = SharedCacheStore(database: try await backend.repository().database)
        let now = date("2026-12-03T10:00:00Z")
        try await shared.store(key: "live", orgID: "o1", answer: "{}", expires: now.addingTimeInterval(60))
        try await shared.store(key: "old", orgID: "o1", answer: "{}", expires: now.addingTimeInterval(-1))
        #expect(try await shared.answer(key: "live", now: now)?.answer == "{}")
        #expect(try await shared.answer(key: "old", now: now) == nil)
        #expect(try await shared.prune(now: now, limit: 10) == 1)
        #expect(try await shared.answer(key: "live", now: now) != nil)
        await shared.database.close()
    }
}
