import ModelManagerClient
import ModelManagerCore
import ModelManagerServer
import ModelManagerTestSupport
import Testing

/// A named JWT client bound to orgs (`auth.clients`) acts for those orgs only; the plain
/// `jwt_secrets` still act for any org.
@Suite struct BoundJWTClientTests {
    static let billingSecret = "billing-client-secret-0123456789abcdef01234"

    static func request(org: String) -> ModelRequest {
        ModelRequest(
            provider: .openai, channel: .openai, invokeType: .chatCompletions, orgID: org, userID: "user-1",
            extra: ["model": "gpt-4o-mini", "messages": [["role": "user", "content": "hello"]]])
    }

    @Test func aBoundClientIsRefusedForAnotherOrgNamingItselfAndBoth() async throws {
        try await withTestServer(configure: {
            $0.auth.clients = [.init(name: "billing", secret: .init(Self.billingSecret), orgIDs: ["org-a", "org-b"])]
        }) { server in
            var configuration = server.clientConfiguration
            configuration.jwtSecret = .init(Self.billingSecret)
            let billing = AsyncModelManagerClient(configuration: configuration)
            #expect(try await billing.invoke(Self.request(org: "org-a")).content == "Echo: hello")
            #expect(try await billing.invoke(Self.request(org: "org-b")).content == "Echo: hello")
            let refused = await #expect(throws: ModelManagerClientError.self) {
                try await billing.invoke(Self.request(org: "org-c"))
            }
            #expect(refused?.status == .permissionDenied)
            #expect(
                refused?.message.contains("JWT client 'billing' is bound to orgs 'org-a', 'org-b'") == true
                    && refused?.message.contains("'org-c'") == true, "\(refused?.message ?? "")")
            // Each batch item is checked on its own.
            let items = try await billing.invokeBatch([Self.request(org: "org-a"), Self.request(org: "org-c")])
                .responses
            #expect(items[0].content == "Echo: hello")
            #expect(items[1].error?.contains("'org-c'") == true, "\(items[1].error ?? "")")
            // The plain secret is bound to nothing.
            #expect(try await server.asyncClient().invoke(Self.request(org: "org-c")).content == "Echo: hello")
        }
    }
}
