/// Header names that look like they carry a credential. Such a header is never forwarded from
/// a caller's `extra_headers` nor kept in a usage record, whatever a configuration lists.
public enum CredentialNames {
    static let words = [
        "token", "secret", "auth", "credential", "password", "passwd", "cookie", "signature", "session", "api-key",
        "apikey",
        "api_key", "access-key", "private-key", "secret-key",
    ]

    public static func matches(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return words.contains { lowered.contains($0) }
    }
}
