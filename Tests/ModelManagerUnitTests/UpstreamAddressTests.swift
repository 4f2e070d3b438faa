import ModelManagerCore
import ModelManagerProviders
import Testing

@Suite struct UpstreamAddressTests {
    @Test func theSchemeGivesTheDefaultPortAndTheHostHeaderLeavesItOut() throws {
        let secure = try UpstreamAddress("https://api.openai.com/v1/chat/completions?api-version=1")
        #expect(secure.origin == .init(secure: true, host: "api.openai.com", port: 443))
        #expect(secure.target == "/v1/chat/completions?api-version=1")
        #expect(secure.origin.hostHeader == "api.openai.com")
        #expect(secure.origin.serverName == "api.openai.com")

        let plain = try UpstreamAddress("http://127.0.0.1:18080")
        #expect(plain.origin == .init(secure: false, host: "127.0.0.1", port: 18080))
        #expect(plain.target == "/")
        #expect(plain.origin.hostHeader == "127.0.0.1:18080")
        #expect(plain.origin.serverName == nil)
    }

    @Test func anIPv6HostIsBracketedInTheHostHeaderAndNeverSentAsAServerName() throws {
        let address = try UpstreamAddress("https://[::1]:8443?x=1")
        #expect(address.origin == .init(secure: true, host: "::1", port: 8443))
        #expect(address.target == "/?x=1")
        #expect(address.origin.hostHeader == "[::1]:8443")
        #expect(address.origin.serverName == nil)
    }

    @Test(arguments: [
        ("ftp://example.com/v1", "is not http or https"),
        ("https://user:pw@example.com/v1", "has no host, or has user info"),
        ("https://example.com:99999/v1", "has an invalid port '99999'"),
        ("https://example.com:/v1", "has an invalid port ''"),
        ("http://[::1/v1", "has an unclosed IPv6 address"),
        ("https:///v1", "has no host"),
    ])
    func aURLThatCannotBeCalledIsRefusedNamingIt(url: String, reason: String) {
        #expect {
            try UpstreamAddress(url)
        } throws: { error in
            let error = error as? ModelManagerError
            return error?.code == .invalidArgument && error?.message.contains("'\(url)' \(reason)") == true
        }
    }
}
