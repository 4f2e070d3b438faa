/// What a credential bound to orgs lets its holder do, checked on every request it sends (each
/// batch item too): an API key acts for its org (and user), with its providers and models; a JWT
/// client bound to orgs acts for those orgs.
public struct CallerGrant: Sendable, Hashable {
    /// How errors name the credential: `API key mmk_<id>` or `JWT client 'name'`, never a secret.
    public var credential: String
    /// The API key's id, whose own quotas apply too; nil for a JWT client.
    public var keyID: String?
    /// The orgs a request may name; never empty.
    public var orgIDs: Set<String>
    /// Nil: any user of the org.
    public var userID: String?
    /// Empty: any.
    public var allowedProviders: Set<String>
    /// Empty: any.
    public var allowedModels: Set<String>
    /// May create asynchronous tasks and read their status (an API key's `tasks` scope).
    public var mayUseTasks: Bool

    public init(
        credential: String, keyID: String? = nil, orgIDs: Set<String>, userID: String? = nil,
        allowedProviders: Set<String> = [], allowedModels: Set<String> = [], mayUseTasks: Bool = true
    ) {
        self.mayUseTasks = mayUseTasks
        self.credential = credential
        self.keyID = keyID
        self.orgIDs = orgIDs
        self.userID = userID
        self.allowedProviders = allowedProviders
        self.allowedModels = allowedModels
    }

    /// PERMISSION_DENIED unless the credential may use asynchronous tasks.
    public func admitTasks() throws(ModelManagerError) {
        guard mayUseTasks else {
            throw ModelManagerError(
                .permissionDenied, "\(credential) has no 'tasks' scope: it cannot create or read tasks")
        }
    }

    /// Fills the request's empty `org_id` (when the credential has one org) and `user_id` with
    /// the credential's, then refuses a request for another org or user, provider or model than it
    /// allows (PERMISSION_DENIED, naming both).
    public func admit(_ request: inout ModelRequest) throws(ModelManagerError) {
        if request.extra["enable_async_task"]?.boolValue == true { try admitTasks() }
        if request.orgID.isEmpty, orgIDs.count == 1, let only = orgIDs.first { request.orgID = only }
        guard orgIDs.contains(request.orgID) else {
            let bound =
                orgIDs.count == 1
                ? "belongs to org '\(orgIDs.first!)'"
                : "is bound to orgs \(orgIDs.sorted().map { "'\($0)'" }.joined(separator: ", "))"
            throw ModelManagerError(
                .permissionDenied, "\(credential) \(bound), the request names org '\(request.orgID)'")
        }
        if let userID {
            if request.userID.isEmpty { request.userID = userID }
            guard request.userID == userID else {
                throw ModelManagerError(
                    .permissionDenied,
                    "\(credential) belongs to user '\(userID)', the request names user '\(request.userID)'")
            }
        }
        guard allowedProviders.isEmpty || allowedProviders.contains(request.provider.rawValue) else {
            throw ModelManagerError(
                .permissionDenied,
                "\(credential) may not call provider '\(request.provider.rawValue)' (allowed: "
                    + "\(allowedProviders.sorted().joined(separator: ", ")))")
        }
        let model = request.model ?? ""
        guard allowedModels.isEmpty || allowedModels.contains(model) else {
            throw ModelManagerError(
                .permissionDenied,
                "\(credential) may not call model '\(model)' (allowed: "
                    + "\(allowedModels.sorted().joined(separator: ", ")))")
        }
    }
}
