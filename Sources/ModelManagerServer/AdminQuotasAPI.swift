import Hummingbird
import ModelManagerCore
import ModelManagerUsage

/// `/api/v1/admin/quotas`: list (with each window's use and reset), set and remove quotas of an
/// org, its users and its keys; an org admin acts on its own org only.
extension AdminAPI {
    func registerQuotas(on router: Router<FaceContext>) {
        router.get("/api/v1/admin/quotas") { request, context in
            await respond(request, context) { admin, query in
                try await quotas.report(orgID: try admin.org(query["org_id"].flatMap { $0.isEmpty ? nil : $0 }))
            }
        }
        router.put("/api/v1/admin/quotas") { request, context in
            await respond(request, context, scope: .adminWrite) { admin, _ in
                let body = try await HTTPJSON.object(request, maximumBytes: Self.maximumBodyBytes, maximumDepth: 2)
                let fields = ["org_id", "user_id", "key_id", "model", "period", "metric", "limit"]
                if let unknown = body.keys.sorted().first(where: { !fields.contains($0) }) {
                    throw ModelManagerError(.invalidArgument, "unknown field '\(unknown)' in a quota")
                }
                guard let limit = body["limit"]?.doubleValue else {
                    throw ModelManagerError(
                        .invalidArgument, "limit must be a number, got \(body["limit"]?.jsonText ?? "nothing")")
                }
                let quota = try await authorized(
                    admin, orgID: body["org_id"]?.stringValue, userID: body["user_id"]?.stringValue,
                    keyID: body["key_id"]?.stringValue, model: body["model"]?.stringValue,
                    period: body["period"]?.stringValue ?? "",
                    metric: body["metric"]?.stringValue ?? "", limit: limit)
                try await quotas.store.set(quota, at: APIKeyIssuer.now())
                await auditor.record(
                    admin.act("quota.set", on: "\(quota.subject)", org: quota.subject.orgID ?? admin.orgID, quota.json))
                return quota.json
            }
        }
        router.delete("/api/v1/admin/quotas") { request, context in
            await respond(request, context, scope: .adminWrite) { admin, query in
                let quota = try await authorized(
                    admin, orgID: query["org_id"], userID: query["user_id"], keyID: query["key_id"],
                    model: query["model"], period: query["period"] ?? "", metric: query["metric"] ?? "", limit: nil)
                guard try await quotas.store.delete(quota) else {
                    throw ModelManagerError(
                        .notFound,
                        "no \(quota.period.rawValue) \(quota.metric.rawValue) quota for \(quota.subject)"
                            + (quota.model.isEmpty ? "" : " on model '\(quota.model)'"))
                }
                await auditor.record(
                    admin.act(
                        "quota.deleted", on: "\(quota.subject)", org: quota.subject.orgID ?? admin.orgID, quota.json))
                return ["deleted": quota.json]
            }
        }
    }

    /// The quota named, if this admin may act on it (a key's must belong to the admin's org).
    private func authorized(
        _ admin: Admin, orgID: String?, userID: String?, keyID: String?, model: String?, period: String,
        metric: String, limit: Double?
    ) async throws -> Quota {
        let quota = try QuotaAdmin.quota(
            orgID: try admin.org(orgID.flatMap { $0.isEmpty ? nil : $0 }), userID: userID, keyID: keyID, model: model,
            period: period, metric: metric, limit: limit)
        if quota.subject.kind == .key, let orgID = admin.orgID {
            guard let key = try await issuer?.store.find(id: quota.subject.id), key.orgID == orgID else {
                throw ModelManagerError(.notFound, "no API key mmk_\(quota.subject.id)")
            }
        }
        return quota
    }
}
