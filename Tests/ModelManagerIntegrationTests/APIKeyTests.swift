import AsyncHTTPClient
import Foundation
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerTestSupport
import ModelManagerUsage
import NIOCore
import Testing

/// API keys end to end: created in the ledger database (as `model-manager keys create` does),
/// presented as `Bearer mmk_…` over gRPC (the Swift client) and HTTP, refused when revoked,
/// expired, wrong, short of scope, or used for another org or model.
@Suite struct APIKeyTests {
    static let pepper: Secret = "test-pepper-0123456789"

    static func withKeyServer(_ body: (TestServer, APIKeyStore) async throws -> Void) async throws {
        try await withTestServer(configure: { $0.auth.apiKeyPepper = pepper }) { server in
            try await body(server, APIKeyStore(database: server.server.usageService.repository.database))
        }
    }

    /// A new key for org-1 stored as the CLI stores it; `adjust` sets its limits.
    static func makeKey(_ store: APIKeyStore, adjust: (inout APIKeyRecord) -> Void = { _ in }) async throws -> String {
        let secret = APIKeySecret.generate()
        var record = APIKeyRecord(
            id: secret.id, keyHash: APIKeySecret.hash(secret.key.revealed, pepper: pepper), name: "tests",
            orgID: "org-1", createdAt: Int64(Date().timeIntervalSince1970 * 1000))
        adjust(&record)
        try await store.create(record)
        return secret.key.revealed
    }

    /// The Swift client with an API key (sent as `api-key` metadata) instead of a JWT secret.
    static func client(_ server: TestServer, key: String) -> AsyncModelManagerClient {
        var configuration = server.clientConfiguration
        configuration.jwtSecret = nil
        configuration.apiKey = Secret(key)
        return AsyncModelManagerClient(configuration: configuration)
    }

    static func chat(org: String = "", model: String = "gpt-4o-mini") -> ModelRequest {
        ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: org, userID: "user-1",
            extra: ["model": .string(model), "messages": [["role": "user", "content": "hello"]]])
    }

    @Test func aKeyCallsForItsOrgOverGRPCAndHTTPAndIsRecordedAsItself() async throws {
        try await Self.withKeyServer { server, store in
            let key = try await Self.makeKey(store)
            let id = try #require(APIKeySecret.id(of: key))
            let response = try await Self.client(server, key: key).invoke(Self.chat(), requestID: "key-grpc")
            #expect(response.content == "Echo: hello")
            // The same key as a Bearer token (a client holding a fixed token) works too.
            var bearer = server.clientConfiguration
            bearer.jwtSecret = nil
            bearer.jwtToken = Secret(key)
            #expect(
                try await AsyncModelManagerClient(configuration: bearer).invoke(Self.chat()).content == "Echo: hello")

            let answer = try await HTTPCalls.invoke(server, token: key, org: "org-1", requestID: "key-http")
            #expect(answer.status == 200, "\(answer.body.jsonText)")

            let records = try await server.server.usageService.repository.records(requestIDs: ["key-grpc", "key-http"])
            #expect(records.count == 2)
            for record in records {
                #expect(record.orgID == "org-1", "an empty org_id is the key's")
                #expect(record.tokenSubject == "key:\(id)")
            }
        }
    }

    @Test func aKeyIsRefusedForAnotherOrgOrModelAndWithoutItsScope() async throws {
        try await Self.withKeyServer { server, store in
            let key = try await Self.makeKey(store) { $0.allowedModels = ["gpt-4o-mini"] }
            let prefix = "mmk_\(try #require(APIKeySecret.id(of: key)))"
            let client = Self.client(server, key: key)
            let otherOrg = await #expect(throws: ModelManagerClientError.self) {
                try await client.invoke(Self.chat(org: "org-2"))
            }
            #expect(otherOrg?.status == .permissionDenied)
            #expect(otherOrg?.message.contains("org 'org-1'") == true && otherOrg?.message.contains("'org-2'") == true)
            #expect(otherOrg?.message.contains(prefix) == true, "\(otherOrg?.message ?? "")")
            let otherModel = await #expect(throws: ModelManagerClientError.self) {
                try await client.invoke(Self.chat(model: "gpt-4o"))
            }
            #expect(otherModel?.status == .permissionDenied)
            #expect(otherModel?.message.contains("'gpt-4o'") == true, "\(otherModel?.message ?? "")")

            let tasksOnly = try await Self.makeKey(store) { $0.scopes = [.tasks] }
            let noScope = await #expect(throws: ModelManagerClientError.self) {
                try await Self.client(server, key: tasksOnly).invoke(Self.chat())
            }
            #expect(noScope?.status == .permissionDenied)
            #expect(noScope?.message.contains("scope 'invoke'") == true, "\(noScope?.message ?? "")")
        }
    }

    @Test func aRevokedExpiredOrWrongKeyIsUnauthenticated() async throws {
        try await Self.withKeyServer { server, store in
            let key = try await Self.makeKey(store)
            let id = try #require(APIKeySecret.id(of: key))
            let client = Self.client(server, key: key)
            _ = try await client.invoke(Self.chat())
            #expect(try await store.revoke(id: id, at: Int64(Date().timeIntervalSince1970 * 1000)))
            // The server trusted its lookup for at most the cache lifetime (1 s).
            let revokedAt = ContinuousClock.now
            var refused: ModelManagerClientError?
            while refused == nil, ContinuousClock.now - revokedAt < .seconds(3) {
                do {
                    _ = try await client.invoke(Self.chat())
                    try await Task.sleep(for: .milliseconds(50))
                } catch let error as ModelManagerClientError {
                    refused = error
                }
            }
            #expect(ContinuousClock.now - revokedAt < .milliseconds(1500), "refused within the 1 s cache lifetime")
            #expect(refused?.status == .unauthenticated)
            #expect(refused?.message.contains("mmk_\(id) was revoked") == true, "\(refused?.message ?? "")")

            let expired = try await Self.makeKey(store) {
                $0.expiresAt = Int64(Date().timeIntervalSince1970 * 1000) - 1
            }
            let expiredError = await #expect(throws: ModelManagerClientError.self) {
                try await Self.client(server, key: expired).invoke(Self.chat())
            }
            #expect(expiredError?.status == .unauthenticated)
            #expect(expiredError?.message.contains("expired at") == true, "\(expiredError?.message ?? "")")

            let live = try await Self.makeKey(store)
            let forged = String(live.dropLast(4)) + "AAAA"
            let wrong = await #expect(throws: ModelManagerClientError.self) {
                try await Self.client(server, key: forged).invoke(Self.chat())
            }
            #expect(wrong?.status == .unauthenticated)
            #expect(wrong?.message.contains("is not valid") == true)
            #expect(wrong?.message.contains(String(forged.suffix(32))) == false, "the secret is never echoed")
        }
    }
}
