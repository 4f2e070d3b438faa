import Foundation
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerTestSupport
import ModelManagerUsage
import Testing

/// The audit log: admin acts with their actor and address, admin reads, and refused calls counted
/// per credential and minute; an org admin reads its own org's entries only.
@Suite struct AuditTests {
    static func entries(_ server: TestServer, token: String, query: String = "") async throws -> [JSONValue] {
        let answer = try await HTTPCalls.send(server, .GET, "/api/v1/admin/audit?page_size=500\(query)", token: token)
        #expect(answer.status == 200, "\(answer.body.jsonText)")
        return answer.body["results"]?.arrayValue ?? []
    }

    @Test func adminActsAndRefusedCallsAreOnRecord() async throws {
        try await withTestServer(configure: {
            $0.auth.apiKeyPepper = APIKeyTests.pepper
            $0.audit.flushInterval = .milliseconds(100)
        }) { server in
            let admin = AdminKeysTests.globalAdmin
            let created = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: admin,
                body: ["org_id": "org-1", "name": "caller", "scopes": ["invoke"]])
            let key = try #require(created.body["key"]?.stringValue)
            let id = try #require(created.body["record"]?["id"]?.stringValue)
            let orgAdmin = try #require(
                try await HTTPCalls.send(
                    server, .POST, "/api/v1/admin/keys", token: admin,
                    body: ["org_id": "org-1", "name": "ops", "scopes": ["admin:read", "admin:write"]]
                ).body["key"]?.stringValue)
            let orgAdminID = try #require(APIKeySecret.id(of: orgAdmin))
            _ = try await HTTPCalls.send(
                server, .PUT, "/api/v1/admin/quotas", token: orgAdmin,
                body: ["period": "daily", "metric": "calls", "limit": 10])
            _ = try await HTTPCalls.send(server, .POST, "/api/v1/admin/keys/\(id)/revoke", token: admin)
            _ = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: admin, body: ["org_id": "org-2", "name": "elsewhere"])

            // Five calls for another org, three with a forged key: two counted entries.
            let caller = try #require(
                try await HTTPCalls.send(
                    server, .POST, "/api/v1/admin/keys", token: admin, body: ["org_id": "org-1", "name": "c2"]
                ).body["key"]?.stringValue)
            for _ in 0..<5 { _ = try await HTTPCalls.invoke(server, token: caller, org: "org-9") }
            let forged = String(key.dropLast(4)) + "AAAA"
            for _ in 0..<3 { _ = try await HTTPCalls.invoke(server, token: forged) }
            // And two over gRPC with the caller's id but a wrong secret.
            let forgedCaller = APIKeyTests.client(server, key: String(caller.dropLast(4)) + "AAAA")
            for _ in 0..<2 { _ = try? await forgedCaller.invoke(APIKeyTests.chat()) }
            let callerID = try #require(APIKeySecret.id(of: caller))
            // Counts are written every 100 ms here: a burst may span two writes, so they are summed.
            func deniedCount(_ entries: [JSONValue], _ actor: String) -> Int64 {
                entries.filter { $0["action"]?.stringValue == "call.denied" && $0["actor"]?.stringValue == actor }
                    .reduce(0) { $0 + ($1["details"]?["count"]?.integerValue ?? 0) }
            }
            var all: [JSONValue] = []
            for _ in 0..<100 {
                all = try await Self.entries(server, token: admin)
                if deniedCount(all, "key:\(callerID)") >= 7, deniedCount(all, "key:\(id)") >= 3 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            func find(_ action: String) -> [JSONValue] { all.filter { $0["action"]?.stringValue == action } }
            #expect(find("key.created").count == 4)
            let revoked = try #require(find("key.revoked").first)
            #expect(revoked["target"]?.stringValue == "mmk_\(id)" && revoked["actor"]?.stringValue == "admin:/root")
            #expect(revoked["address"]?.stringValue == "127.0.0.1")
            let quota = try #require(find("quota.set").first)
            #expect(quota["actor"]?.stringValue == "key:\(orgAdminID)" && quota["org_id"]?.stringValue == "org-1")
            #expect(deniedCount(all, "key:\(callerID)") == 7)
            #expect(deniedCount(all, "key:\(id)") == 3)
            let permission = try #require(
                find("call.denied").first {
                    $0["actor"]?.stringValue == "key:\(callerID)" && $0["target"]?.stringValue == "permission denied"
                })
            #expect(permission["org_id"]?.stringValue == "org-9")
            let forgedEntry = try #require(find("call.denied").first { $0["actor"]?.stringValue == "key:\(id)" })
            #expect(forgedEntry["target"]?.stringValue == "unauthenticated")
            let overGRPC = try #require(
                find("call.denied").first {
                    $0["actor"]?.stringValue == "key:\(callerID)" && $0["target"]?.stringValue == "unauthenticated"
                })
            // Refused calls carry the caller's address on both faces.
            #expect([permission, forgedEntry, overGRPC].allSatisfy { $0["address"]?.stringValue == "127.0.0.1" })
            #expect(!all.map(\.jsonText).joined().contains(key), "no secret is on record")

            // An org admin reads its org's entries only; its own reads are on record.
            let mine = try await Self.entries(server, token: orgAdmin)
            #expect(!mine.isEmpty && mine.allSatisfy { $0["org_id"]?.stringValue == "org-1" })
            let refused = try await HTTPCalls.send(server, .GET, "/api/v1/admin/audit?org_id=org-2", token: orgAdmin)
            #expect(refused.status == 403)
            let reads = try await Self.entries(
                server, token: admin, query: "&action=admin.query&actor=key:\(orgAdminID)")
            #expect(reads.contains { $0["target"]?.stringValue?.hasPrefix("/api/v1/admin/audit") == true })
        }
    }
}
