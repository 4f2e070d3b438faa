import Foundation
import ModelManagerAuth
import ModelManagerCore
import Testing

@Suite struct JWTVerifierTests {
    static let secret = "unit-secret-0123456789abcdef0123456789abcdef"
    let verifier = JWTVerifier(secrets: [secret, "second-secret-0123456789abcdef012345"], leeway: .seconds(5))

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    func failure(_ authorization: String?) -> String? {
        do {
            _ = try verifier.verify(authorization: authorization)
            return nil
        } catch {
            #expect(error.code == .unauthenticated)
            return error.message
        }
    }

    @Test func validTokenGivesThePrincipal() throws {
        let token = JWTMinter(secret: Self.secret).mint(claims: ["org_id": "o", "user_id": "u", "role": "admin"]).token
        let principal = try verifier.verify(authorization: "Bearer \(token)")
        #expect(principal.orgID == "o")
        #expect(principal.userID == "u")
        #expect(principal.isAdmin)
    }

    @Test func everyConfiguredSecretIsAccepted() throws {
        let token = JWTMinter(secret: "second-secret-0123456789abcdef012345").mint(claims: ["user_id": "u"]).token
        #expect(try verifier.verify(authorization: "Bearer \(token)").userID == "u")
    }

    @Test func eachBadTokenSaysWhatIsWrong() {
        let minter = JWTMinter(secret: Self.secret)
        #expect(failure(nil)?.contains("missing authorization") == true)
        #expect(failure("Basic abc")?.contains("not a Bearer token") == true)
        #expect(failure("Bearer abc.def")?.contains("malformed token") == true)
        #expect(failure("Bearer !!!.???.sig")?.contains("malformed token") == true)
        let wrongSecret = JWTMinter(secret: "another-secret-0123456789abcdef0123").mint(claims: ["user_id": "u"]).token
        #expect(failure("Bearer \(wrongSecret)")?.contains("signature does not match") == true)
        let expired = minter.mint(claims: ["user_id": "u"], lifetime: .seconds(-60)).token
        #expect(failure("Bearer \(expired)")?.contains("expired at") == true)
        let payload = Self.base64URL(#"{"user_id":"u","exp":9999999999}"#)
        let none = Self.base64URL(#"{"alg":"none","typ":"JWT"}"#) + "." + payload + "."
        #expect(failure("Bearer \(none)")?.contains("'none' is not accepted") == true)
        let rs256 = Self.base64URL(#"{"alg":"RS256","typ":"JWT"}"#) + "." + payload + ".c2ln"
        #expect(failure("Bearer \(rs256)")?.contains("'RS256' is not accepted") == true)
        let hs512 = Self.base64URL(#"{"alg":"HS512","typ":"JWT"}"#) + "." + payload + ".c2ln"
        #expect(failure("Bearer \(hs512)")?.contains("'HS512' is not accepted") == true)
    }

    @Test func leewayAcceptsARecentlyExpiredToken() throws {
        let token = JWTMinter(secret: Self.secret).mint(claims: ["user_id": "u"], lifetime: .seconds(-2)).token
        #expect(try verifier.verify(authorization: "Bearer \(token)").userID == "u")
    }
}
