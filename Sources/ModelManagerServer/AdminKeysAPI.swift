import Hummingbird
import ModelManagerCore
import ModelManagerUsage

/// `/api/v1/admin/keys`: create (the key is in the answer once), list, show, revoke and rotate
/// API keys; an org admin sees and manages its own org's keys only.
extension AdminAPI {
    func register(on router: Router<FaceContext>) {
        router.post("/api/v1/admin/keys") { request, context in
            await respond(request, context, scope: .adminWrite, status: 201) { admin, _ in
                let body = try await HTTPJSON.object(request, maximumBytes: Self.maximumBodyBytes, maximumDepth: 4)
                let (key, record) = try await keyIssuer().create(try Self.order(body, admin: admin))
                await auditor.record(admin.act("key.created", on: "mmk_\(record.id)", org: record.orgID, record.json))
                return ["key": .string(key.revealed), "record": record.json]
            }
        }
        router.get("/api/v1/admin/keys") { request, context in
            await respond(request, context) { admin, query in
                let limit = try Self.positive("limit", query["limit"], default: 100, maximum: 1000)
                let orgID = try admin.org(query["org_id"].flatMap { $0.isEmpty ? nil : $0 })
                return ["keys": .array(try await keyIssuer().store.list(orgID: orgID, limit: limit).map(\.json))]
            }
        }
        router.get("/api/v1/admin/keys/:id") { request, context in
            await respond(request, context) { admin, _ in try await key(context, admin: admin).json }
        }
        router.post("/api/v1/admin/keys/:id/revoke") { request, context in
            await respond(request, context, scope: .adminWrite) { admin, _ in
                let record = try await key(context, admin: admin)
                guard try await keyIssuer().store.revoke(id: record.id, at: APIKeyIssuer.now()) else {
                    throw ModelManagerError(.failedPrecondition, "API key mmk_\(record.id) was revoked already")
                }
                await auditor.record(admin.act("key.revoked", on: "mmk_\(record.id)", org: record.orgID))
                return ["revoked": .string(record.id)]
            }
        }
        router.post("/api/v1/admin/keys/:id/rotate") { request, context in
            await respond(request, context, scope: .adminWrite) { admin, _ in
                let record = try await key(context, admin: admin)
                guard let key = try await keyIssuer().rotate(id: record.id) else {
                    throw ModelManagerError(
                        .failedPrecondition, "API key mmk_\(record.id) is revoked: it cannot rotate")
                }
                await auditor.record(admin.act("key.rotated", on: "mmk_\(record.id)", org: record.orgID))
                return ["key": .string(key.revealed), "id": .string(record.id)]
            }
        }
    }

    private func keyIssuer() throws(ModelManagerError) -> APIKeyIssuer {
        guard let issuer else {
            throw ModelManagerError(.unimplemented, "API keys are off: set MODEL_MANAGER_API_KEY_PEPPER")
        }
        return issuer
    }

    /// The key the path names, if this admin may see it (another org's key is not found, as an
    /// unknown one is, so that ids of other orgs cannot be probed).
    private func key(_ context: FaceContext, admin: Admin) async throws -> APIKeyRecord {
        let id = APIKeyIssuer.bareID(context.parameters.get("id") ?? "")
        guard let record = try await keyIssuer().store.find(id: id), admin.orgID == nil || admin.orgID == record.orgID
        else {
            throw ModelManagerError(.notFound, "no API key mmk_\(id)")
        }
        return record
    }

    static func order(_ body: [String: JSONValue], admin: Admin) throws(ModelManagerError) -> APIKeyIssuer.Order {
        func text(_ name: String) throws(ModelManagerError) -> String? {
            guard let value = body[name], value != .null else { return nil }
            guard let text = value.stringValue else {
                throw ModelManagerError(.invalidArgument, "\(name) must be a string, got \(value.jsonText)")
            }
            return text
        }
        func list(_ name: String) throws(ModelManagerError) -> [String]? {
            guard let value = body[name], value != .null else { return nil }
            guard let items = value.arrayValue?.compactMap(\.stringValue), items.count == value.arrayValue?.count else {
                throw ModelManagerError(.invalidArgument, "\(name) must be an array of strings, got \(value.jsonText)")
            }
            return items
        }
        let known: Set = [
            "org_id", "user_id", "name", "scopes", "allowed_providers", "allowed_models", "expires_in_days",
        ]
        if let unknown = body.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelManagerError(.invalidArgument, "unknown field '\(unknown)' in a key order")
        }
        var days: Double?
        if let value = body["expires_in_days"], value != .null {
            guard let number = value.doubleValue else {
                throw ModelManagerError(.invalidArgument, "expires_in_days must be a number, got \(value.jsonText)")
            }
            days = number
        }
        guard let orgID = try admin.org(try text("org_id")) else {
            throw ModelManagerError(.invalidArgument, "org_id is required")
        }
        return APIKeyIssuer.Order(
            orgID: orgID, userID: try text("user_id"), name: try text("name") ?? "",
            scopes: try list("scopes") ?? ["invoke"], allowedProviders: try list("allowed_providers") ?? [],
            allowedModels: try list("allowed_models") ?? [], expiresInDays: days)
    }
}
