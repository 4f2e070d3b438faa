/// What an API key lets its holder do, checked on every request the key sends (each batch item
/// too): the org (and user) it acts for, and the providers and models it may call.
public struct CallerGrant: Sendable, Hashable {
    /// The key's visible prefix (`mmk_<id>`), never its secret.
    public var keyID: String
    public var orgID: String
    /// Nil: any user of the org.
    public var userID: String?
    /// Empty: any.
    public var allowedProviders: Set<String>
    /// Empty: any.
    public var allowedModels: Set<String>

    public init(
        keyID: String, orgID: String, userID: String?, allowedProviders: Set<String>, allowedModels: Set<String>
    ) {
        self.keyID = keyID
        self.orgID = orgID
        self.userID = userID
        self.allowedProviders = allowedProviders
        self.allowedModels = allowedModels
    }

    /// Fills the request's empty `org_id`/`user_id` with the key's, then refuses a request for
    /// another org or user, provider or model than the key allows (PERMISSION_DENIED, naming both).
    public func admit(_ request: inout ModelRequest) throws(ModelManagerError) {
        if request.orgID.isEmpty { request.orgID = orgID }
        guard request.orgID == orgID else {
            throw ModelManagerError(
                .permissionDenied,
                "API key \(keyID) belongs to org '\(orgID)', the request names org '\(request.orgID)'")
        }
        if let userID {
            if request.userID.isEmpty { request.userID = userID }
            guard request.userID == userID else {
                throw ModelManagerError(
                    .permissionDenied,
                    "API key \(keyID) belongs to user '\(userID)', the request names user '\(request.userID)'")
            }
        }
        guard allowedProviders.isEmpty || allowedProviders.contains(request.provider.rawValue) else {
            throw ModelManagerError(
                .permissionDenied,
                "API key \(keyID) may not call provider '\(request.provider.rawValue)' (allowed: "
                    + "\(allowedProviders.sorted().joined(separator: ", ")))")
        }
        let model = request.model ?? ""
        guard allowedModels.isEmpty || allowedModels.contains(model) else {
            throw ModelManagerError(
                .permissionDenied,
                "API key \(keyID) may not call model '\(model)' (allowed: "
                    + "\(allowedModels.sorted().joined(separator: ", ")))")
        }
    }
}
