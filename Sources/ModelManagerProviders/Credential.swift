public import ModelManagerCore

/// How the gateway proves itself to an upstream. Descriptions never show the secret parts.
public enum Credential: Sendable, Hashable, CustomStringConvertible {
    case apiKey(Secret)
    /// A Google service account, exchanged for OAuth2 access tokens.
    case serviceAccount(ServiceAccount)

    /// A short, non-secret label for logs: the key's last four characters or the account's email.
    public var description: String {
        switch self {
        case .apiKey(let secret): "key …\(secret.revealed.suffix(4))"
        case .serviceAccount(let account): "service account \(account.clientEmail)"
        }
    }
}

/// The fields of a Google service-account key file that the token exchange needs.
public struct ServiceAccount: Sendable, Hashable {
    public var clientEmail: String
    public var privateKeyPEM: Secret
    public var tokenURI: String
    public var projectID: String?

    public init(clientEmail: String, privateKeyPEM: Secret, tokenURI: String, projectID: String?) {
        self.clientEmail = clientEmail
        self.privateKeyPEM = privateKeyPEM
        self.tokenURI = tokenURI
        self.projectID = projectID
    }

    /// Parses a service-account key file (`type: service_account`).
    public init(json: JSONValue, source: String) throws(ModelManagerError) {
        guard let email = json["client_email"]?.stringValue, let key = json["private_key"]?.stringValue else {
            throw ModelManagerError(
                .failedPrecondition,
                "\(source) is not a service-account key: 'client_email' and 'private_key' are required")
        }
        self.init(
            clientEmail: email, privateKeyPEM: Secret(key),
            tokenURI: json["token_uri"]?.stringValue ?? "https://oauth2.googleapis.com/token",
            projectID: json["project_id"]?.stringValue)
    }
}
