public import Foundation
public import ModelManagerCore

/// Filters shared by every statistics query.
public struct UsageFilter: Sendable, Hashable {
    public var start: Date?
    /// Inclusive.
    public var end: Date?
    public var userID: String?
    public var orgID: String?
    /// Substring of the model name (list only).
    public var model: String?
    public var success: Bool?

    public init(
        start: Date? = nil, end: Date? = nil, userID: String? = nil, orgID: String? = nil, model: String? = nil,
        success: Bool? = nil
    ) {
        self.start = start
        self.end = end
        self.userID = userID
        self.orgID = orgID
        self.model = model
        self.success = success
    }

    func whereClause(dialect: SQLDialect) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let start {
            conditions.append("created_at >= ?")
            arguments.append(.integer(Self.milliseconds(start)))
        }
        if let end {
            conditions.append("created_at <= ?")
            arguments.append(.integer(Self.milliseconds(end)))
        }
        if let userID {
            conditions.append("user_id = ?")
            arguments.append(.text(userID))
        }
        if let orgID {
            conditions.append("org_id = ?")
            arguments.append(.text(orgID))
        }
        if let model {
            conditions.append(dialect.contains("model"))
            arguments.append(.text("%\(model)%"))
        }
        if let success {
            conditions.append("success = ?")
            arguments.append(.bool(success))
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}

/// The time series granularities of the admin API: the bucket each one uses.
public enum Granularity: String, Sendable, CaseIterable {
    /// Hourly buckets.
    case day
    /// Daily buckets.
    case month
    /// Monthly buckets.
    case year

    var unit: SQLDialect.BucketUnit {
        switch self {
        case .day: .hour
        case .month: .day
        case .year: .month
        }
    }

    public init(parsing text: String) throws(ModelManagerError) {
        guard let value = Granularity(rawValue: text) else {
            throw ModelManagerError(.invalidArgument, "unknown granularity '\(text)' (accepted: day, month, year)")
        }
        self = value
    }
}

/// Token and call totals for a group of records.
public struct UsageTotals: Sendable, Hashable {
    public var promptTokens: Int64 = 0
    public var completionTokens: Int64 = 0
    public var totalTokens: Int64 = 0
    public var cachedTokens: Int64 = 0
    public var reasoningTokens: Int64 = 0
    public var cost: Double = 0
    public var calls: Int64 = 0
    public var successfulCalls: Int64 = 0
    public var failedCalls: Int64 { calls - successfulCalls }

    /// The SELECT list that produces these totals, in `init(row:)` order.
    static let selectList = """
        CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT),
        CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(cached_tokens), 0) AS BIGINT),
        CAST(COALESCE(SUM(reasoning_tokens), 0) AS BIGINT), COALESCE(SUM(cost), 0.0), CAST(COUNT(*) AS BIGINT),
        CAST(COALESCE(SUM(CASE WHEN success THEN 1 ELSE 0 END), 0) AS BIGINT)
        """
    static let columnCount = 8

    init(row: ArraySlice<SQLValue>) {
        let values = Array(row)
        promptTokens = values[0].integer
        completionTokens = values[1].integer
        totalTokens = values[2].integer
        cachedTokens = values[3].integer
        reasoningTokens = values[4].integer
        // Sums of fractions of a cent carry float noise: keep ten decimals.
        cost = ((values[5].double ?? 0) * 1e10).rounded() / 1e10
        calls = values[6].integer
        successfulCalls = values[7].integer
    }

    public init() {}

    /// The admin API's summary object.
    public var summaryJSON: JSONValue {
        [
            "total_prompt_tokens": .integer(promptTokens), "total_completion_tokens": .integer(completionTokens),
            "total_tokens": .integer(totalTokens), "total_cached_tokens": .integer(cachedTokens),
            "total_reasoning_tokens": .integer(reasoningTokens), "total_cost": .double(cost),
            "total_calls": .integer(calls),
            "successful_calls": .integer(successfulCalls), "failed_calls": .integer(failedCalls),
        ]
    }

    /// A group's object: its key plus the same figures under shorter names.
    public func groupJSON(_ key: String, _ value: String) -> JSONValue {
        [
            key: .string(value), "prompt_tokens": .integer(promptTokens),
            "completion_tokens": .integer(completionTokens),
            "total_tokens": .integer(totalTokens), "cached_tokens": .integer(cachedTokens),
            "reasoning_tokens": .integer(reasoningTokens),
            "cost": .double(cost), "calls": .integer(calls), "successful_calls": .integer(successfulCalls),
            "failed_calls": .integer(failedCalls),
        ]
    }
}

/// One group of a breakdown (by model, org, user, or time bucket).
public struct UsageGroup: Sendable, Hashable {
    public var key: String
    public var totals: UsageTotals
}

/// A page of records, newest first.
public struct UsagePage: Sendable {
    public var records: [UsageRecord]
    public var total: Int64
    public var page: Int
    public var pageSize: Int

    public var json: JSONValue {
        [
            "results": .array(records.map(\.json)), "total": .integer(total), "page": .integer(Int64(page)),
            "page_size": .integer(Int64(pageSize)),
        ]
    }
}
