public import ModelManagerCore

/// Who a verified token says the caller is. Accounting takes identity from the request
/// fields instead (the Python SDK freezes its claims to its first caller).
public struct Principal: Sendable, Hashable {
    public var orgID: String?
    public var userID: String?
    public var role: String?
    public var expiresAt: Int64
    public var claims: [String: JSONValue]
    /// The named client whose secret signed the token (nil for the plain `jwt_secrets`).
    public var client: String?
    /// The orgs that client may act for; empty: any.
    public var clientOrgIDs: Set<String>

    public init(claims: [String: JSONValue], expiresAt: Int64, client: String? = nil, clientOrgIDs: Set<String> = []) {
        self.claims = claims
        self.expiresAt = expiresAt
        self.client = client
        self.clientOrgIDs = clientOrgIDs
        orgID = claims["org_id"]?.stringValue
        userID = claims["user_id"]?.stringValue
        role = claims["role"]?.stringValue
    }

    public var isAdmin: Bool { role == "admin" }

    /// What a client bound to orgs may do; nil when its tokens may act for any org.
    public var grant: CallerGrant? {
        guard !clientOrgIDs.isEmpty else { return nil }
        return CallerGrant(credential: "JWT client '\(client ?? "")'", orgIDs: clientOrgIDs)
    }

    /// The token's subject: `sub` when it has one, else `org_id/user_id`.
    public var subject: String {
        claims["sub"]?.stringValue ?? "\(orgID ?? "")/\(userID ?? "")"
    }
}
