public import Foundation
public import ModelManagerCore

/// Whose spending a quota bounds.
public struct QuotaSubject: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable, Comparable {
        case org, key, user
        public static func < (left: Kind, right: Kind) -> Bool { left.rawValue < right.rawValue }
    }

    public var kind: Kind
    /// The org id, the key id, or `org/user` for a user.
    public var id: String

    public init(kind: Kind, id: String) {
        self.kind = kind
        self.id = id
    }

    public static func user(org: String, user: String) -> QuotaSubject {
        QuotaSubject(kind: .user, id: "\(org)/\(user)")
    }

    /// The org a subject belongs to, when the subject says (org and user subjects).
    public var orgID: String? {
        switch kind {
        case .org: id
        case .user: id.split(separator: "/", maxSplits: 1).first.map(String.init)
        case .key: nil
        }
    }

    public var description: String { "\(kind.rawValue) '\(id)'" }

    public static func < (left: QuotaSubject, right: QuotaSubject) -> Bool {
        (left.kind, left.id) < (right.kind, right.id)
    }
}

/// One limit: `amount` of `metric` per `period` for `subject`, on one model or (empty) all.
/// A `minute` period is a rate limit: requests (calls) and tokens per minute.
public struct Quota: Sendable, Hashable {
    public enum Period: String, Sendable, CaseIterable, Comparable {
        case minute, daily, monthly, total
        public static func < (left: Period, right: Period) -> Bool { left.rawValue < right.rawValue }
    }

    public enum Metric: String, Sendable, CaseIterable {
        case calls, tokens, cost
    }

    public var subject: QuotaSubject
    /// Empty: every model.
    public var model: String
    public var period: Period
    public var metric: Metric
    /// Calls and tokens are whole numbers; cost is in the price table's currency.
    public var amount: Double

    public init(subject: QuotaSubject, model: String = "", period: Period, metric: Metric, amount: Double) {
        self.subject = subject
        self.model = model
        self.period = period
        self.metric = metric
        self.amount = amount
    }

    public var json: JSONValue {
        [
            "subject_kind": .string(subject.kind.rawValue), "subject_id": .string(subject.id),
            "model": model.isEmpty ? .null : .string(model), "period": .string(period.rawValue),
            "metric": .string(metric.rawValue),
            "limit": metric == .cost ? .double(amount) : .integer(Int64(amount)),
        ]
    }
}

/// What one call counts against a quota: 1 call, its tokens and its cost.
public struct QuotaAmounts: Sendable, Hashable {
    public var calls: Int64
    public var tokens: Int64
    public var cost: Double

    public init(calls: Int64, tokens: Int64, cost: Double) {
        self.calls = calls
        self.tokens = tokens
        self.cost = cost
    }

    public static let zero = QuotaAmounts(calls: 0, tokens: 0, cost: 0)

    public subscript(metric: Quota.Metric) -> Double {
        switch metric {
        case .calls: Double(calls)
        case .tokens: Double(tokens)
        case .cost: cost
        }
    }

    public static func + (left: QuotaAmounts, right: QuotaAmounts) -> QuotaAmounts {
        QuotaAmounts(calls: left.calls + right.calls, tokens: left.tokens + right.tokens, cost: left.cost + right.cost)
    }

    public static func - (left: QuotaAmounts, right: QuotaAmounts) -> QuotaAmounts {
        QuotaAmounts(calls: left.calls - right.calls, tokens: left.tokens - right.tokens, cost: left.cost - right.cost)
    }
}

/// Calendar windows in the configured time zone: a day, a month, or all time.
public struct QuotaCalendar: Sendable {
    private let calendar: Calendar

    public init(timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The window `date` falls in, as stored (`minute:29412345`, `day:2026-12-03`,
    /// `month:2026-12`, `total`), for one model's limits or (empty) all models'.
    public func window(_ period: Quota.Period, model: String = "", at date: Date) -> String {
        model.isEmpty ? window(period, at: date) : window(period, at: date) + "/" + model
    }

    private func window(_ period: Quota.Period, at date: Date) -> String {
        if period == .minute { return "minute:\(Int64((date.timeIntervalSince1970 / 60).rounded(.down)))" }
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        let year = parts.year ?? 0
        let month = parts.month ?? 0
        switch period {
        case .minute: return ""
        case .daily: return "day:" + String(format: "%04d-%02d-%02d", year, month, parts.day ?? 0)
        case .monthly: return "month:" + String(format: "%04d-%02d", year, month)
        case .total: return "total"
        }
    }

    /// When the window `date` falls in ends; nil for `total`, which never resets.
    public func reset(_ period: Quota.Period, after date: Date) -> Date? {
        switch period {
        case .minute:
            return Date(timeIntervalSince1970: ((date.timeIntervalSince1970 / 60).rounded(.down) + 1) * 60)
        case .daily:
            return calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: date))
        case .monthly:
            let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date)) ?? date
            return calendar.date(byAdding: .month, value: 1, to: start)
        case .total:
            return nil
        }
    }
}
