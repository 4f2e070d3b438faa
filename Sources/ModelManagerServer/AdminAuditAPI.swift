import Hummingbird
import ModelManagerCore
import ModelManagerUsage

/// `GET /api/v1/admin/audit?page&page_size&actor&action&org_id&start_date&end_date`: the audit
/// log, newest first; an org admin reads its own org's entries only.
extension AdminAPI {
    func registerAudit(on router: Router<FaceContext>) {
        router.get("/api/v1/admin/audit") { request, context in
            await respond(request, context) { admin, query in
                func text(_ name: String) -> String? { query[name].flatMap { $0.isEmpty ? nil : $0 } }
                let usage = try Self.filter(query, allowsModelAndSuccess: false)
                let filter = AuditLog.Filter(
                    orgID: try admin.org(text("org_id")), actor: text("actor"), action: text("action"),
                    start: usage.start, end: usage.end)
                let page = try Self.positive("page", query["page"], default: 1, maximum: 1_000_000)
                let pageSize = try Self.positive("page_size", query["page_size"], default: 50, maximum: 500)
                let (entries, total) = try await auditor.log.list(filter, page: page, pageSize: pageSize)
                return [
                    "results": .array(entries.map(\.json)), "total": .integer(Int64(total)),
                    "page": .integer(Int64(page)), "page_size": .integer(Int64(pageSize)),
                ]
            }
        }
    }
}
