import Foundation
import ModelManagerAuth
import ModelManagerClient
import Testing

@Suite struct ClientConfigurationTests {
    @Test func readsThePythonSDKVariables() throws {
        let configuration = try ClientConfiguration.fromEnvironment(
            [
                "MODEL_MANAGER_SERVER_ADDRESS": "10.1.2.3:50051",
                "MODEL_MANAGER_SERVER_JWT_SECRET_KEY": "s3cret",
                "MODEL_MANAGER_SERVER_GRPC_USE_TLS": "FALSE",
                "MODEL_MANAGER_SERVER_INVOKE_TIMEOUT": "2.5",
            ], dotEnvFile: nil)
        #expect(configuration.serverAddress == "10.1.2.3:50051")
        #expect(configuration.jwtSecret == "s3cret")
        #expect(configuration.useTLS == false)
        #expect(configuration.timeout == .milliseconds(2500))
    }

    @Test func tlsIsTheDefaultAndTheAddressIsRequired() throws {
        #expect(
            try ClientConfiguration.fromEnvironment(["MODEL_MANAGER_SERVER_ADDRESS": "h:1"], dotEnvFile: nil).useTLS)
        #expect(throws: ClientConfiguration.Invalid.self) {
            try ClientConfiguration.fromEnvironment([:], dotEnvFile: nil)
        }
        #expect(throws: ClientConfiguration.Invalid.self) {
            try ClientConfiguration.fromEnvironment(
                ["MODEL_MANAGER_SERVER_ADDRESS": "h:1", "MODEL_MANAGER_SERVER_INVOKE_TIMEOUT": "soon"], dotEnvFile: nil)
        }
    }

    @Test func tokensAreCachedPerCallerAndVerifiable() throws {
        var configuration = ClientConfiguration(
            serverAddress: "h:1", jwtSecret: "client-secret-0123456789abcdef0123456")
        let tokens = TokenSource(configuration: configuration)
        let first = try #require(tokens.authorization(orgID: "o", userID: "u"))
        #expect(tokens.authorization(orgID: "o", userID: "u") == first)
        #expect(tokens.authorization(orgID: "o", userID: "other") != first)
        let principal = try JWTVerifier(secrets: ["client-secret-0123456789abcdef0123456"]).verify(authorization: first)
        #expect(principal.userID == "u")
        #expect(principal.orgID == "o")

        // A token within 60 s of expiry is minted again.
        configuration.tokenLifetime = .seconds(30)
        let shortLived = TokenSource(configuration: configuration)
        let a = shortLived.authorization(orgID: "o", userID: "u")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(shortLived.authorization(orgID: "o", userID: "u") != a)
    }

    @Test func aFixedTokenIsSentAsIs() {
        let configuration = ClientConfiguration(serverAddress: "h:1", jwtToken: "abc.def.ghi")
        #expect(
            TokenSource(configuration: configuration).authorization(orgID: "o", userID: "u") == "Bearer abc.def.ghi")
        #expect(
            TokenSource(configuration: ClientConfiguration(serverAddress: "h:1")).authorization(orgID: "o", userID: "u")
                == nil)
    }
}
