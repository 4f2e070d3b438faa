public import Foundation
import Hummingbird
import ModelManagerAuth
public import ModelManagerCore
import ModelManagerUsage

/// `GET /api/v1/admin/token-stats` and `/api/v1/admin/llm-usage`, for a JWT signed with the admin
/// secret whose `role` is `admin`. The clients' secret never grants admin; with no admin secret
/// configured the admin API is off.
struct AdminAPI: Sendable {
    let verifier: JWTVerifier?
    let repository: UsageRepository

    /// Authenticates an admin and runs `body` with the query parameters; every failure is JSON.
    func respond(_ request: Request, _ body: ([String: String]) async throws -> JSONValue) async -> Response {
        do {
            guard let verifier else {
                return HTTPJSON.error(
                    ModelManagerError(
                        .unimplemented,
                        "the admin API is off: no admin secret is configured (set MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY)"
                    ))
            }
            // A client's token does not verify here: only the admin secret grants admin.
            let principal = try verifier.verify(authorization: request.headers[.authorization])
            guard principal.isAdmin else {
                return HTTPJSON.error(
                    ModelManagerError(.permissionDenied, "the admin API needs a token whose role is 'admin'"))
            }
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            return HTTPJSON.response(200, try await body(query))
        } catch let error as ModelManagerError {
            return HTTPJSON.error(error)
        } catch {
            return HTTPJSON.error(ModelManagerError(.unavailable, "the usage ledger could not answer", cause: error))
        }
    }

    func tokenStats(_ query: [String: String]) async throws -> JSONValue {
        let filter = try Self.filter(query, allowsModelAndSuccess: false)
        let granularity = try query["granularity"].flatMap { $0.isEmpty ? nil : $0 }.map {
            text throws(ModelManagerError) in try Granularity(parsing: text)
        }
        let summary = try await repository.summary(filter)
        let byModel = try await repository.breakdown(by: .model, filter)
        let byOrg = try await repository.breakdown(by: .org, filter)
        let byUser = try await repository.breakdown(by: .user, filter)
        var series: [UsageGroup]?
        if let granularity { series = try await repository.series(granularity, filter) }
        return [
            "summary": summary.summaryJSON,
            "by_model": .array(byModel.map { $0.totals.groupJSON("model", $0.key) }),
            "by_org": .array(byOrg.map { $0.totals.groupJSON("org_id", $0.key) }),
            "by_user": .array(byUser.map { $0.totals.groupJSON("user_id", $0.key) }),
            "series": series.map { groups in JSONValue.array(groups.map { $0.totals.groupJSON("bucket", $0.key) }) }
                ?? .null,
            "granularity": granularity.map { .string($0.rawValue) } ?? .null,
        ]
    }

    func llmUsage(_ query: [String: String]) async throws -> JSONValue {
        let filter = try Self.filter(query, allowsModelAndSuccess: true)
        let page = try Self.positive("page", query["page"], default: 1, maximum: 1_000_000)
        let pageSize = try Self.positive("page_size", query["page_size"], default: 20, maximum: 500)
        return try await repository.list(filter, page: page, pageSize: pageSize).json
    }

    static func filter(_ query: [String: String], allowsModelAndSuccess: Bool) throws(ModelManagerError) -> UsageFilter
    {
        var filter = UsageFilter()
        filter.start = try query["start_date"].flatMap { $0.isEmpty ? nil : $0 }.map { text throws(ModelManagerError) in
            try DateParameter.parse(text, name: "start_date", endOfDay: false)
        }
        filter.end = try query["end_date"].flatMap { $0.isEmpty ? nil : $0 }.map { text throws(ModelManagerError) in
            try DateParameter.parse(text, name: "end_date", endOfDay: true)
        }
        filter.userID = query["user_id"].flatMap { $0.isEmpty ? nil : $0 }
        filter.orgID = query["org_id"].flatMap { $0.isEmpty ? nil : $0 }
        if allowsModelAndSuccess {
            filter.model = query["model"].flatMap { $0.isEmpty ? nil : $0 }
            if let success = query["success"], !success.isEmpty {
                guard let value = ["true": true, "false": false, "1": true, "0": false][success.lowercased()] else {
                    throw ModelManagerError(.invalidArgument, "success must be true or false, got '\(success)'")
                }
                filter.success = value
            }
        }
        if let start = filter.start, let end = filter.end, start > end {
            throw ModelManagerError(.invalidArgument, "start_date is after end_date")
        }
        return filter
    }

    static func positive(_ name: String, _ text: String?, default value: Int, maximum: Int) throws(ModelManagerError)
        -> Int
    {
        guard let text, !text.isEmpty else { return value }
        guard let number = Int(text), number >= 1, number <= maximum else {
            throw ModelManagerError(.invalidArgument, "\(name) must be an integer from 1 to \(maximum), got '\(text)'")
        }
        return number
    }
}

/// ISO 8601 dates for the admin filters: a day (`2026-11-21`, the whole day when it ends a
/// range) or an instant (`2026-11-21T10:00:00Z`).
public enum DateParameter {
    public static func parse(_ text: String, name: String, endOfDay: Bool) throws(ModelManagerError) -> Date {
        if let instant = try? Date(text, strategy: .iso8601) { return instant }
        if let instant = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return instant
        }
        if let day = try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day()) {
            return endOfDay ? day.addingTimeInterval(86_400 - 0.001) : day
        }
        throw ModelManagerError(
            .invalidArgument, "\(name) '\(text)' is not an ISO 8601 date (2026-11-21 or 2026-11-21T10:00:00Z)")
    }
}
