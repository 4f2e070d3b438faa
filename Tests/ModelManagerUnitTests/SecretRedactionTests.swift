import ModelManagerClient
import ModelManagerCore
import ModelManagerGRPC
import Testing

/// Every secret, in the server's configuration and the client's, is a `Secret`: printing or
/// dumping what holds it never shows it.
@Suite struct SecretRedactionTests {
    @Test func configurationsPrintRedacted() {
        let configuration = ClientConfiguration(
            serverAddress: "127.0.0.1:1", jwtSecret: "client-secret-value", jwtToken: "token-value")
        let tls = TLSServerConfiguration(
            certificateChainPEM: "CERT", privateKeyPEM: "-----BEGIN PRIVATE KEY----- key-value")
        for text in [
            String(describing: configuration), String(reflecting: configuration), String(describing: tls),
            dumped(configuration), dumped(tls),
        ] {
            #expect(!text.contains("client-secret-value"))
            #expect(!text.contains("token-value"))
            #expect(!text.contains("key-value"))
        }
        #expect(configuration.jwtSecret?.revealed == "client-secret-value")
    }

    private func dumped(_ value: Any) -> String {
        var text = ""
        dump(value, to: &text)
        return text
    }
}
