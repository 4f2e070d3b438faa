import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import Testing

@Suite struct InProcessQuotaCountersTests {
    static let window = QuotaStore.Window(
        subject: QuotaSubject(kind: .org, id: "o1"), period: .daily, key: "day:2026-12-03", limits: [.calls: 100])

    @Test func concurrentReservationsAdmitExactlyTheLimitAndAreWrittenBehind() async throws {
        let store = QuotaStore(database: try await Backend.sqlite.repository().database)
        try await store.reserve(QuotaAmounts(calls: 30, tokens: 0, cost: 0), in: [Self.window])
        let counters = InProcessQuotaCounters(store: store, flushInterval: .seconds(60), logger: Logger(label: "test"))
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    (try? await counters.reserve(QuotaAmounts(calls: 1, tokens: 5, cost: 0), in: [Self.window])) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 70, "the 30 already in the database count")
        let refused = await #expect(throws: QuotaStore.Exceeded.self) {
            try await counters.reserve(QuotaAmounts(calls: 1, tokens: 0, cost: 0), in: [Self.window])
        }
        #expect(refused?.metric == .calls && refused?.used.calls == 100)
        #expect(try await store.used(Self.window).calls == 30, "not written until the flush")
        try await counters.settle(QuotaAmounts(calls: -1, tokens: 0, cost: 0), in: [Self.window])
        await counters.flush()
        #expect(try await store.used(Self.window) == QuotaAmounts(calls: 99, tokens: 350, cost: 0))
        #expect(try await counters.used(Self.window).calls == 99)
    }

    @Test func anUnusedCounterLeavesMemoryAfterItIsWrittenAndIsReadBackWhenUsedAgain() async throws {
        let store = QuotaStore(database: try await Backend.sqlite.repository().database)
        let counters = InProcessQuotaCounters(store: store, flushInterval: .seconds(60), logger: Logger(label: "test"))
        try await counters.reserve(QuotaAmounts(calls: 1, tokens: 0, cost: 0), in: [Self.window])
        await counters.flush()
        await counters.flush()
        // Out of memory now: a change in the database (as from an earlier run) is what it reads.
        try await store.settle(QuotaAmounts(calls: 10, tokens: 0, cost: 0), in: [Self.window])
        #expect(
            try await counters.reserve(QuotaAmounts(calls: 1, tokens: 0, cost: 0), in: [Self.window])[0].calls == 12)
    }
}
