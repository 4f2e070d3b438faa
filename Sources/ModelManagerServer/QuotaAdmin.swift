public import Foundation
public import ModelManagerCore
public import ModelManagerUsage

/// Setting, removing and reporting quotas, for the CLI and the admin API alike.
public struct QuotaAdmin: Sendable {
    public let store: QuotaStore
    /// Where use is read: a server's live counters, or (the CLI) the database.
    private let counters: any QuotaCounters
    private let calendar: QuotaCalendar

    public init(store: QuotaStore, counters: (any QuotaCounters)? = nil, settings: QuotaSettings) {
        self.store = store
        self.counters = counters ?? store
        calendar = QuotaCalendar(timeZone: settings.timeZone)
    }

    /// The quota these texts name: a key's when `keyID` is given, else a user's when `userID`
    /// is, else the org's. INVALID_ARGUMENT naming a value that cannot be.
    public static func quota(
        orgID: String?, userID: String?, keyID: String?, model: String? = nil, period: String, metric: String,
        limit: Double?
    ) throws(ModelManagerError) -> Quota {
        let subject: QuotaSubject
        if let keyID, !keyID.isEmpty {
            subject = QuotaSubject(kind: .key, id: APIKeyIssuer.bareID(keyID))
        } else {
            guard let orgID, !orgID.isEmpty else { throw ModelManagerError(.invalidArgument, "org_id is required") }
            subject =
                userID.flatMap { $0.isEmpty ? nil : $0 }.map { .user(org: orgID, user: $0) }
                ?? QuotaSubject(kind: .org, id: orgID)
        }
        guard let period = Quota.Period(rawValue: period) else {
            throw ModelManagerError(
                .invalidArgument, "period must be minute, daily, monthly or total, got '\(period)'")
        }
        guard let metric = Quota.Metric(rawValue: metric) else {
            throw ModelManagerError(.invalidArgument, "metric must be calls, tokens or cost, got '\(metric)'")
        }
        if let limit {
            guard limit >= 0, limit.isFinite, metric == .cost || limit == limit.rounded(), limit <= 1e15 else {
                throw ModelManagerError(
                    .invalidArgument,
                    "limit must be a non-negative \(metric == .cost ? "number" : "whole number"), got \(limit)")
            }
        }
        return Quota(subject: subject, model: model ?? "", period: period, metric: metric, amount: limit ?? 0)
    }

    /// Each quota with what its current window has used and when that window resets.
    public func report(orgID: String?, now: Date = Date()) async throws -> JSONValue {
        var entries: [JSONValue] = []
        for quota in try await store.list(orgID: orgID) {
            let window = QuotaStore.Window(
                subject: quota.subject, period: quota.period,
                key: calendar.window(quota.period, model: quota.model, at: now), limits: [:])
            let used = try await counters.used(window)
            var entry = quota.json.objectValue ?? [:]
            entry["window"] = .string(window.key)
            entry["used"] = quota.metric == .cost ? .double(used.cost) : .integer(Int64(used[quota.metric]))
            entry["resets_at"] =
                calendar.reset(quota.period, after: now).map { .string($0.formatted(.iso8601)) } ?? .null
            entries.append(.object(entry))
        }
        return ["quotas": .array(entries)]
    }
}
