public import ModelManagerCore

/// Who a verified token says the caller is. Accounting takes identity from the request
/// fields instead (the Python SDK freezes its claims to its first caller).
public struct Principal: Sendable, Hashable {
    public var orgID: String?
    public var userID: String?
    public var role: String?
    public var expiresAt: Int64
    public var claims: [String: JSONValue]

    public init(claims: [String: JSONValue], expiresAt: Int64) {
        self.claims = claims
        self.expiresAt = expiresAt
        orgID = claims["org_id"]?.stringValue
        userID = claims["user_id"]?.stringValue
        role = claims["role"]?.stringValue
    }

    public var isAdmin: Bool { role == "admin" }

    /// The token's subject: `sub` when it has one, else `org_id/user_id`.
    public var subject: String {
        claims["sub"]?.stringValue ?? "\(orgID ?? "")/\(userID ?? "")"
    }
}
