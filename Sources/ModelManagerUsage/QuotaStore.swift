import Foundation
import ModelManagerCore

/// Quotas and their counters in the ledger's database, so every instance on it enforces one
/// budget: a reservation is one transaction of conditional increments (`UPDATE … WHERE used +
/// amount <= limit`), which the database serialises per counter row; no read-then-write race.
public struct QuotaStore: Sendable {
    public let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// The limits of one subject in one window, checked and counted together.
    public struct Window: Sendable, Hashable {
        public var subject: QuotaSubject
        public var period: Quota.Period
        public var key: String
        public var limits: [Quota.Metric: Double]

        public init(subject: QuotaSubject, period: Quota.Period, key: String, limits: [Quota.Metric: Double]) {
            self.subject = subject
            self.period = period
            self.key = key
            self.limits = limits
        }
    }

    /// A window whose limit the reservation would pass: which metric, and what it had used.
    public struct Exceeded: Error, Sendable {
        public var window: Window
        public var metric: Quota.Metric
        public var used: QuotaAmounts
    }

    public func set(_ quota: Quota, at milliseconds: Int64) async throws {
        try await database.write([
            SQLStatement(
                """
                INSERT INTO quotas (subject_kind, subject_id, model, period, metric, amount, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subject_kind, subject_id, model, period, metric)
                DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at
                """,
                [
                    .text(quota.subject.kind.rawValue), .text(quota.subject.id), .text(quota.model),
                    .text(quota.period.rawValue), .text(quota.metric.rawValue), .double(quota.amount),
                    .integer(milliseconds),
                ])
        ])
    }

    /// False when there was no such quota.
    public func delete(_ quota: Quota) async throws -> Bool {
        try await !database.writeReturning(
            SQLStatement(
                """
                DELETE FROM quotas
                WHERE subject_kind = ? AND subject_id = ? AND model = ? AND period = ? AND metric = ?
                RETURNING subject_id
                """,
                [
                    .text(quota.subject.kind.rawValue), .text(quota.subject.id), .text(quota.model),
                    .text(quota.period.rawValue), .text(quota.metric.rawValue),
                ])
        ).isEmpty
    }

    /// The quotas of these subjects.
    public func quotas(for subjects: [QuotaSubject]) async throws -> [Quota] {
        guard !subjects.isEmpty else { return [] }
        let matches = Array(repeating: "(subject_kind = ? AND subject_id = ?)", count: subjects.count)
        return try await database.read(
            SQLStatement(
                "SELECT subject_kind, subject_id, model, period, metric, amount FROM quotas WHERE "
                    + matches.joined(separator: " OR "),
                subjects.flatMap { [SQLValue.text($0.kind.rawValue), .text($0.id)] })
        ).compactMap(Self.quota)
    }

    /// Every quota, or those of one org (the org's own, its users' and its keys').
    public func list(orgID: String?) async throws -> [Quota] {
        let filter =
            orgID == nil
            ? ""
            : """
             WHERE (subject_kind = 'org' AND subject_id = ?) OR (subject_kind = 'user' AND substr(subject_id, 1, ?) = ?)
                OR (subject_kind = 'key' AND subject_id IN (SELECT id FROM api_keys WHERE org_id = ?))
            """
        let arguments: [SQLValue] =
            orgID.map { org in
                let users = org + "/"
                return [.text(org), .integer(Int64(users.unicodeScalars.count)), .text(users), .text(org)]
            } ?? []
        return try await database.read(
            SQLStatement(
                "SELECT subject_kind, subject_id, model, period, metric, amount FROM quotas\(filter) "
                    + "ORDER BY subject_kind, subject_id, model, period, metric",
                arguments)
        ).compactMap(Self.quota)
    }

    /// Counts `amounts` against every window at once, or throws `Exceeded` for the first window
    /// it would pass and counts nothing. Windows are locked in one order, so that concurrent
    /// reservations on PostgreSQL cannot deadlock.
    /// Returns what each window has used, this reservation included, in the order given.
    @discardableResult
    public func reserve(_ amounts: QuotaAmounts, in windows: [Window]) async throws -> [QuotaAmounts] {
        let given = windows
        let windows = windows.sorted { ($0.subject, $0.key) < ($1.subject, $1.key) }
        // A window's first reservation inserts its row unconditionally: one larger than a limit
        // on its own is refused here.
        for window in windows {
            if let (metric, _) = window.limits.first(where: { amounts[$0.key] > $0.value }) {
                throw Exceeded(window: window, metric: metric, used: try await used(window))
            }
        }
        let statements = windows.map { window in
            var conditions: [String] = []
            var limits: [SQLValue] = []
            for metric in Quota.Metric.allCases {
                guard let limit = window.limits[metric] else { continue }
                conditions.append("quota_usage.\(metric.rawValue) + excluded.\(metric.rawValue) <= ?")
                limits.append(.double(limit))
            }
            return SQLStatement(
                """
                INSERT INTO quota_usage (subject_kind, subject_id, window_key, calls, tokens, cost)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subject_kind, subject_id, window_key) DO UPDATE
                SET calls = quota_usage.calls + excluded.calls, tokens = quota_usage.tokens + excluded.tokens,
                    cost = quota_usage.cost + excluded.cost
                """ + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                    + " RETURNING calls, tokens, cost",
                Self.key(window) + [.integer(amounts.calls), .integer(amounts.tokens), .double(amounts.cost)] + limits,
                requiresRows: true)
        }
        do {
            let results = try await database.transact(statements)
            var after: [Window: QuotaAmounts] = [:]
            for (window, rows) in zip(windows, results) {
                if let row = rows.first { after[window] = Self.amounts(row) }
            }
            return given.map { after[$0] ?? amounts }
        } catch let refused as SQLRowsRequired {
            let window = windows[refused.index]
            let used = try await self.used(window)
            // Calls that settled since may have given some back: the metric nearest its limit.
            let metric =
                window.limits.max { left, right in
                    (used[left.key] + amounts[left.key]) / max(left.value, 1e-9)
                        < (used[right.key] + amounts[right.key]) / max(right.value, 1e-9)
                }?.key ?? .calls
            throw Exceeded(window: window, metric: metric, used: used)
        }
    }

    /// Adds `delta` (the real usage less what was reserved) to every window.
    /// Returns what each window has used after it, in the order given (nothing when `delta` is zero).
    @discardableResult
    public func settle(_ delta: QuotaAmounts, in windows: [Window]) async throws -> [QuotaAmounts] {
        guard delta != .zero else { return [] }
        let sorted = windows.sorted { ($0.subject, $0.key) < ($1.subject, $1.key) }
        let results = try await database.transact(
            sorted.map { window in
                SQLStatement(
                    "UPDATE quota_usage SET calls = calls + ?, tokens = tokens + ?, cost = cost + ? "
                        + "WHERE subject_kind = ? AND subject_id = ? AND window_key = ? RETURNING calls, tokens, cost",
                    [.integer(delta.calls), .integer(delta.tokens), .double(delta.cost)] + Self.key(window))
            })
        var after: [Window: QuotaAmounts] = [:]
        for (window, rows) in zip(sorted, results) {
            if let row = rows.first { after[window] = Self.amounts(row) }
        }
        return windows.map { after[$0] ?? .zero }
    }

    /// What a window has used so far.
    public func used(_ window: Window) async throws -> QuotaAmounts {
        let row = try await database.read(
            SQLStatement(
                "SELECT calls, tokens, cost FROM quota_usage WHERE subject_kind = ? AND subject_id = ? AND window_key = ?",
                Self.key(window))
        ).first
        return row.map(Self.amounts) ?? .zero
    }

    private static func amounts(_ row: [SQLValue]) -> QuotaAmounts {
        QuotaAmounts(calls: row[0].integer, tokens: row[1].integer, cost: row[2].double ?? 0)
    }

    private static func key(_ window: Window) -> [SQLValue] {
        [.text(window.subject.kind.rawValue), .text(window.subject.id), .text(window.key)]
    }

    private static func value(_ amounts: QuotaAmounts, _ metric: Quota.Metric) -> SQLValue {
        switch metric {
        case .calls: .integer(amounts.calls)
        case .tokens: .integer(amounts.tokens)
        case .cost: .double(amounts.cost)
        }
    }

    private static func quota(_ row: [SQLValue]) -> Quota? {
        guard let kind = row[0].text.flatMap(QuotaSubject.Kind.init(rawValue:)),
            let period = row[3].text.flatMap(Quota.Period.init(rawValue:)),
            let metric = row[4].text.flatMap(Quota.Metric.init(rawValue:))
        else { return nil }
        return Quota(
            subject: QuotaSubject(kind: kind, id: row[1].text ?? ""), model: row[2].text ?? "", period: period,
            metric: metric, amount: row[5].double ?? 0)
    }
}
