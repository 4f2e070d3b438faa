public import Foundation
import Hummingbird
import ModelManagerAuth
public import ModelManagerCore
import ModelManagerUsage

/// The admin API: usage statistics (`GET /api/v1/admin/token-stats`, `/llm-usage`) and API keys
/// (`/api/v1/admin/keys`). A JWT signed with the admin secret whose `role` is `admin` is a global
/// admin; an API key with `admin:read` (and `admin:write` to change keys) is an admin of its own
/// org only. The clients' secret never grants admin; with neither an admin secret nor API keys
/// configured the admin API is off.
struct AdminAPI: Sendable {
    let verifier: JWTVerifier?
    /// The clients' tokens: recognised only to refuse them 403 rather than 401.
    let clientTokens: JWTVerifier
    let keys: APIKeyVerifier?
    let issuer: APIKeyIssuer?
    let quotas: QuotaAdmin
    let repository: UsageRepository
    let auditor: Auditor
    static let maximumBodyBytes = 64 << 10

    /// Who is asking.
    struct Admin: Sendable {
        /// Nil: a global admin.
        var orgID: String?
        /// Who, for the audit log: `admin:<subject>` or `key:<id>`.
        var actor: String
        var address: String?

        /// An act of this admin, for the audit log.
        func act(_ action: String, on target: String, org: String?, _ details: JSONValue = [:]) -> AuditEntry {
            AuditEntry(actor: actor, action: action, target: target, orgID: org, details: details, address: address)
        }

        /// The org a request may act on: the asked one (nil: all) for a global admin; its own for
        /// an org admin, which may not name another.
        func org(_ asked: String?) throws(ModelManagerError) -> String? {
            guard let orgID else { return asked }
            if let asked, asked != orgID {
                throw ModelManagerError(
                    .permissionDenied, "an admin key of org '\(orgID)' cannot act on org '\(asked)'")
            }
            return orgID
        }
    }

    /// Authenticates an admin with `scope` and runs `body` with the query parameters; every
    /// failure is JSON.
    func respond(
        _ request: Request, _ context: FaceContext, scope: APIKeyRecord.Scope = .adminRead, status: Int = 200,
        _ body: (Admin, [String: String]) async throws -> JSONValue
    ) async -> Response {
        do {
            let admin = try await authenticate(request, scope: scope, address: context.peer)
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            let answer = try await body(admin, query)
            // Reads are on record too; changes record themselves, naming what they changed.
            if request.method == .get {
                await auditor.record(
                    admin.act("admin.query", on: request.uri.description, org: admin.orgID ?? query["org_id"]))
            }
            return HTTPJSON.response(status, answer)
        } catch let error as ModelManagerError {
            return HTTPJSON.error(error)
        } catch {
            return HTTPJSON.error(ModelManagerError(.unavailable, "the ledger database could not answer", cause: error))
        }
    }

    private func authenticate(_ request: Request, scope: APIKeyRecord.Scope, address: String?)
        async throws(ModelManagerError) -> Admin
    {
        do {
            return try await verifyAdmin(request, scope: scope, address: address)
        } catch {
            let credential = CallerAuthenticator.refusedCredential(
                CallerAuthenticator.bearerKey(request.headers[.authorization]))
            auditor.denied(credential: credential, orgID: nil, error: error, address: address)
            throw error
        }
    }

    private func verifyAdmin(_ request: Request, scope: APIKeyRecord.Scope, address: String?)
        async throws(ModelManagerError) -> Admin
    {
        guard verifier != nil || keys != nil else {
            throw ModelManagerError(
                .unimplemented,
                "the admin API is off: no admin secret is configured (set MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY)"
                    + " and API keys are off (set MODEL_MANAGER_API_KEY_PEPPER)")
        }
        let authorization = request.headers[.authorization]
        if let presented = CallerAuthenticator.bearerKey(authorization) {
            guard let keys else {
                throw ModelManagerError(
                    .unauthenticated, "API keys are not enabled on this server (auth.api_key_pepper is not set)")
            }
            let record = try await keys.verify(presented, scope: scope)
            return Admin(orgID: record.orgID, actor: "key:\(record.id)", address: address)
        }
        let principal: Principal
        do throws(ModelManagerError) {
            guard let verifier else {
                throw ModelManagerError(
                    .unauthenticated,
                    "admin tokens are not accepted here: no admin secret is configured; use an admin key")
            }
            principal = try verifier.verify(authorization: authorization)
        } catch  where error.code == .unauthenticated {
            // Only the admin secret grants admin: a client's token, whatever its role, is known
            // and refused.
            guard (try? clientTokens.verify(authorization: authorization)) != nil else { throw error }
            throw ModelManagerError(
                .permissionDenied,
                "a client token does not grant admin, whatever its role: the admin API needs a token signed with "
                    + "the admin secret or an API key with an admin scope")
        }
        guard principal.isAdmin else {
            throw ModelManagerError(.permissionDenied, "the admin API needs a token whose role is 'admin'")
        }
        return Admin(orgID: nil, actor: "admin:\(principal.subject)", address: address)
    }

    func tokenStats(_ admin: Admin, _ query: [String: String]) async throws -> JSONValue {
        var filter = try Self.filter(query, allowsModelAndSuccess: false)
        filter.orgID = try admin.org(filter.orgID)
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

    func llmUsage(_ admin: Admin, _ query: [String: String]) async throws -> JSONValue {
        var filter = try Self.filter(query, allowsModelAndSuccess: true)
        filter.orgID = try admin.org(filter.orgID)
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
