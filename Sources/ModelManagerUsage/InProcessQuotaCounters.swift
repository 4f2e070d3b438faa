public import Logging
public import ServiceLifecycle
import Synchronization

/// Quota counters for the embedded, single-instance default: each window's counter is read from
/// the database when first used, then reserved and settled in memory under one lock (exact, with
/// no database round trip on the call's path), and written behind every `flushInterval` and at
/// shutdown. A crash loses at most the counts of the last `flushInterval`; the usage ledger
/// still has every call. Windows untouched for a whole interval leave memory once written, so
/// what is held is bounded by the windows in use (one per quota and period).
/// A Service: it writes from `run` until the group shuts down.
public final class InProcessQuotaCounters: QuotaCounters, Service {
    private let store: QuotaStore
    private let flushInterval: Duration
    private let logger: Logger
    private let counters = Mutex<[QuotaStore.CounterID: Counter]>([:])

    private struct Counter {
        var amounts: QuotaAmounts
        /// Changed since last written.
        var dirty = false
        /// Used since the last flush: kept in memory.
        var touched = true
    }

    public init(store: QuotaStore, flushInterval: Duration, logger: Logger) {
        self.store = store
        self.flushInterval = flushInterval
        self.logger = logger
    }

    public func reserve(_ amounts: QuotaAmounts, in windows: [QuotaStore.Window]) async throws -> [QuotaAmounts] {
        while true {
            let outcome = try counters.withLock { counters -> [QuotaAmounts]? in
                guard windows.allSatisfy({ counters[$0.counter] != nil }) else { return nil }
                for window in windows {
                    let used = counters[window.counter]!.amounts
                    for (metric, limit) in window.limits where used[metric] + amounts[metric] > limit {
                        throw QuotaStore.Exceeded(window: window, metric: metric, used: used)
                    }
                }
                return windows.map { window in Self.add(amounts, to: &counters[window.counter]!) }
            }
            if let outcome { return outcome }
            try await load(windows)
        }
    }

    public func settle(_ delta: QuotaAmounts, in windows: [QuotaStore.Window]) async throws -> [QuotaAmounts] {
        guard delta != .zero else { return [] }
        while true {
            let outcome = counters.withLock { counters -> [QuotaAmounts]? in
                guard windows.allSatisfy({ counters[$0.counter] != nil }) else { return nil }
                return windows.map { window in Self.add(delta, to: &counters[window.counter]!) }
            }
            if let outcome { return outcome }
            try await load(windows)
        }
    }

    public func used(_ window: QuotaStore.Window) async throws -> QuotaAmounts {
        if let held = counters.withLock({ $0[window.counter]?.amounts }) { return held }
        return try await store.used(window)
    }

    private static func add(_ amounts: QuotaAmounts, to counter: inout Counter) -> QuotaAmounts {
        counter.amounts = counter.amounts + amounts
        counter.dirty = true
        counter.touched = true
        return counter.amounts
    }

    /// Reads the windows not in memory from the database. Nothing else writes them while this
    /// instance holds them, so a counter read by two calls at once is the same value.
    private func load(_ windows: [QuotaStore.Window]) async throws {
        let missing = counters.withLock { counters in windows.filter { counters[$0.counter] == nil } }
        for window in missing {
            let used = try await store.used(window)
            counters.withLock { counters in
                if counters[window.counter] == nil { counters[window.counter] = Counter(amounts: used) }
            }
        }
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            // Woken by the graceful stop too, so that the last counts are written at once.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.flushInterval) }
            await flush()
        }
        await flush()
    }

    /// Writes the counters changed since the last flush, and lets go of those unused since.
    public func flush() async {
        let changed = counters.withLock { counters -> [(QuotaStore.CounterID, QuotaAmounts)] in
            var changed: [(QuotaStore.CounterID, QuotaAmounts)] = []
            var kept: [QuotaStore.CounterID: Counter] = [:]
            for (id, var counter) in counters where counter.dirty || counter.touched {
                if counter.dirty { changed.append((id, counter.amounts)) }
                counter.dirty = false
                counter.touched = false
                kept[id] = counter
            }
            counters = kept
            return changed
        }
        do {
            try await store.store(changed)
        } catch {
            // Kept in memory and written with the next flush.
            counters.withLock { counters in
                for (id, _) in changed { counters[id]?.dirty = true }
            }
            logger.error(
                "quota counters not yet written to the ledger database; retrying",
                metadata: ["counters": "\(changed.count)", "error": "\(error)"])
        }
    }
}
