import AsyncHTTPClient
import Foundation
import ModelManagerAuth
import ModelManagerCore
import ModelManagerTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// `/api/v1/admin/keys` for a global admin (admin JWT) and an org admin (an admin-scoped key):
/// keys made there work for calls, and an org admin sees and manages its own org only.
@Suite struct AdminKeysTests {
    static let globalAdmin = JWTMinter(secret: TestServer.adminJWTSecret).mint(claims: [
        "user_id": "root", "role": "admin",
    ])
    .token

    @Test func aGlobalAdminMakesListsRotatesAndRevokesKeysThatWork() async throws {
        try await withTestServer(configure: { $0.auth.apiKeyPepper = APIKeyTests.pepper }) { server in
            let created = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: Self.globalAdmin,
                body: ["org_id": "org-1", "name": "service-a", "allowed_models": ["gpt-4o-mini"]])
            #expect(created.status == 201, "\(created.body.jsonText)")
            let key = try #require(created.body["key"]?.stringValue)
            let id = try #require(created.body["record"]?["id"]?.stringValue)
            #expect(try await HTTPCalls.invoke(server, token: key).status == 200)

            let listed = try await HTTPCalls.send(
                server, .GET, "/api/v1/admin/keys?org_id=org-1", token: Self.globalAdmin)
            #expect(listed.body["keys"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [id])
            #expect(!listed.body.jsonText.contains(key) && !listed.body.jsonText.contains("hash"))

            let rotated = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys/mmk_\(id)/rotate", token: Self.globalAdmin)
            let newKey = try #require(rotated.body["key"]?.stringValue)
            #expect(newKey != key && newKey.hasPrefix("mmk_\(id)_"))
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await HTTPCalls.invoke(server, token: key).status == 401)
            #expect(try await HTTPCalls.invoke(server, token: newKey).status == 200)

            #expect(
                try await HTTPCalls.send(server, .POST, "/api/v1/admin/keys/\(id)/revoke", token: Self.globalAdmin)
                    .status
                    == 200)
            let again = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys/\(id)/revoke", token: Self.globalAdmin)
            #expect(again.status == 400 && again.body["error"]?.stringValue?.contains("revoked already") == true)
            try await Task.sleep(for: .milliseconds(1100))
            let refused = try await HTTPCalls.invoke(server, token: newKey)
            #expect(refused.status == 401 && refused.body["error"]?.stringValue?.contains("revoked") == true)

            let unknownField = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: Self.globalAdmin,
                body: ["org_id": "org-1", "name": "x", "scope": ["invoke"]])
            #expect(unknownField.status == 400 && unknownField.body["error"]?.stringValue?.contains("'scope'") == true)
            let badScope = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: Self.globalAdmin,
                body: ["org_id": "org-1", "name": "x", "scopes": ["root"]])
            #expect(badScope.status == 400 && badScope.body["error"]?.stringValue?.contains("'root'") == true)
        }
    }

    @Test func anOrgAdminKeySeesAndManagesItsOrgOnly() async throws {
        try await withTestServer(configure: { $0.auth.apiKeyPepper = APIKeyTests.pepper }) { server in
            func make(_ org: String, _ scopes: [JSONValue]) async throws -> (key: String, id: String) {
                let answer = try await HTTPCalls.send(
                    server, .POST, "/api/v1/admin/keys", token: Self.globalAdmin,
                    body: ["org_id": .string(org), "name": "k", "scopes": .array(scopes)])
                return (
                    try #require(answer.body["key"]?.stringValue),
                    try #require(answer.body["record"]?["id"]?.stringValue)
                )
            }
            let orgAdmin = try await make("org-1", ["admin:read", "admin:write"]).key
            let reader = try await make("org-1", ["admin:read"]).key
            let otherOrgs = try await make("org-2", ["invoke"])
            #expect(try await HTTPCalls.invoke(server, token: otherOrgs.key).status == 200)

            let mine = try await HTTPCalls.send(server, .GET, "/api/v1/admin/keys", token: orgAdmin)
            #expect(mine.status == 200)
            #expect(mine.body["keys"]?.arrayValue?.allSatisfy { $0["org_id"]?.stringValue == "org-1" } == true)
            #expect(mine.body["keys"]?.arrayValue?.count == 2)
            #expect(
                try await HTTPCalls.send(server, .GET, "/api/v1/admin/keys/\(otherOrgs.id)", token: orgAdmin).status
                    == 404)
            let crossOrg = try await HTTPCalls.send(server, .GET, "/api/v1/admin/keys?org_id=org-2", token: orgAdmin)
            #expect(crossOrg.status == 403 && crossOrg.body["error"]?.stringValue?.contains("'org-2'") == true)
            let revokeOther = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys/\(otherOrgs.id)/revoke", token: orgAdmin)
            #expect(revokeOther.status == 404)

            let forOrg2 = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: orgAdmin, body: ["org_id": "org-2", "name": "x"])
            #expect(forOrg2.status == 403)
            let own = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: orgAdmin, body: ["name": "mine"])
            #expect(own.status == 201 && own.body["record"]?["org_id"]?.stringValue == "org-1")

            let readOnly = try await HTTPCalls.send(
                server, .POST, "/api/v1/admin/keys", token: reader, body: ["name": "x"])
            #expect(readOnly.status == 403 && readOnly.body["error"]?.stringValue?.contains("admin:write") == true)

            #expect(try await HTTPCalls.send(server, .GET, "/api/v1/admin/token-stats", token: reader).status == 200)
            let otherStats = try await HTTPCalls.send(
                server, .GET, "/api/v1/admin/token-stats?org_id=org-2", token: reader)
            #expect(otherStats.status == 403)
            let usage = try await HTTPCalls.send(server, .GET, "/api/v1/admin/llm-usage", token: reader)
            #expect(usage.status == 200, "\(usage.body.jsonText)")
            #expect(!usage.body.jsonText.contains("org-2"), "an org admin reads its own org's calls only")

            let invokeOnly = try await make("org-1", ["invoke"]).key
            #expect(try await HTTPCalls.send(server, .GET, "/api/v1/admin/keys", token: invokeOnly).status == 403)
        }
    }
}
