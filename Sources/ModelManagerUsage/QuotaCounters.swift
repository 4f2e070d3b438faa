/// Where a quota's window counters live and change: reserve before a call, settle after it.
/// `QuotaStore` keeps them in the shared database (every instance on it enforces one budget);
/// `InProcessQuotaCounters` keeps them in memory and writes them behind, for the embedded
/// single-instance default.
public protocol QuotaCounters: Sendable {
    /// Counts `amounts` against every window at once, or throws `QuotaStore.Exceeded` for a
    /// window it would pass and counts nothing. Returns what each window has used, this
    /// reservation included, in the order given.
    func reserve(_ amounts: QuotaAmounts, in windows: [QuotaStore.Window]) async throws -> [QuotaAmounts]
    /// Adds `delta` to every window; returns what each has used after it (nothing for a zero delta).
    func settle(_ delta: QuotaAmounts, in windows: [QuotaStore.Window]) async throws -> [QuotaAmounts]
    /// What a window has used so far.
    func used(_ window: QuotaStore.Window) async throws -> QuotaAmounts
}

extension QuotaStore: QuotaCounters {}

extension QuotaStore.Window {
    /// Which counter the window is: its subject and window key (its limits aside).
    public var counter: QuotaStore.CounterID { QuotaStore.CounterID(subject: subject, key: key) }
}

extension QuotaStore {
    public struct CounterID: Sendable, Hashable {
        public var subject: QuotaSubject
        public var key: String
    }

    /// Writes counters as they stand (the in-process counters' write-behind), in one transaction.
    public func store(_ counters: [(CounterID, QuotaAmounts)]) async throws {
        guard !counters.isEmpty else { return }
        try await database.write(
            counters.sorted { ($0.0.subject, $0.0.key) < ($1.0.subject, $1.0.key) }.map { counter, amounts in
                SQLStatement(
                    """
                    INSERT INTO quota_usage (subject_kind, subject_id, window_key, calls, tokens, cost)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subject_kind, subject_id, window_key)
                    DO UPDATE SET calls = excluded.calls, tokens = excluded.tokens, cost = excluded.cost
                    """,
                    [
                        .text(counter.subject.kind.rawValue), .text(counter.subject.id), .text(counter.key),
                        .integer(amounts.calls), .integer(amounts.tokens), .double(amounts.cost),
                    ])
            })
    }
}
