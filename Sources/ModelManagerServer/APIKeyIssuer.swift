import Foundation
import ModelManagerAuth
public import ModelManagerCore
public import ModelManagerUsage

/// Makes and rotates API keys, for the CLI and the admin API alike: checks what is asked, draws
/// the secret, stores only its hash, and hands the key back once.
public struct APIKeyIssuer: Sendable {
    public let store: APIKeyStore
    let pepper: Secret

    public init(store: APIKeyStore, pepper: Secret) {
        self.store = store
        self.pepper = pepper
    }

    /// What a new key may do.
    public struct Order: Sendable {
        public var orgID: String
        public var userID: String?
        public var name: String
        public var scopes: [String]
        public var allowedProviders: [String]
        public var allowedModels: [String]
        public var expiresInDays: Double?

        public init(
            orgID: String, userID: String? = nil, name: String, scopes: [String] = ["invoke"],
            allowedProviders: [String] = [], allowedModels: [String] = [], expiresInDays: Double? = nil
        ) {
            self.orgID = orgID
            self.userID = userID
            self.name = name
            self.scopes = scopes
            self.allowedProviders = allowedProviders
            self.allowedModels = allowedModels
            self.expiresInDays = expiresInDays
        }
    }

    /// A new key and its record; INVALID_ARGUMENT naming a value that cannot be.
    public func create(_ order: Order) async throws -> (key: Secret, record: APIKeyRecord) {
        guard !order.orgID.isEmpty else { throw ModelManagerError(.invalidArgument, "org_id must not be empty") }
        guard !order.name.isEmpty else { throw ModelManagerError(.invalidArgument, "name must not be empty") }
        let scopes = try Set(
            order.scopes.map { text throws(ModelManagerError) in
                guard let scope = APIKeyRecord.Scope(rawValue: text) else {
                    throw ModelManagerError(
                        .invalidArgument,
                        "unknown scope '\(text)': expected "
                            + APIKeyRecord.Scope.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return scope
            })
        guard !scopes.isEmpty else { throw ModelManagerError(.invalidArgument, "a key needs at least one scope") }
        for list in [order.allowedProviders, order.allowedModels] {
            if let bad = list.first(where: { $0.isEmpty || $0.contains(",") }) {
                throw ModelManagerError(.invalidArgument, "'\(bad)' is not a provider or model name")
            }
        }
        if let days = order.expiresInDays, !(days > 0 && days <= 36_500) {
            throw ModelManagerError(.invalidArgument, "expires_in_days must be from 0 to 36500, got \(days)")
        }
        let now = Self.now()
        let secret = APIKeySecret.generate()
        let record = APIKeyRecord(
            id: secret.id, keyHash: APIKeySecret.hash(secret.key.revealed, pepper: pepper), name: order.name,
            orgID: order.orgID, userID: order.userID.flatMap { $0.isEmpty ? nil : $0 }, scopes: scopes,
            allowedProviders: Set(order.allowedProviders), allowedModels: Set(order.allowedModels),
            expiresAt: order.expiresInDays.map { now + Int64($0 * 86_400_000) }, createdAt: now)
        try await store.create(record)
        return (secret.key, record)
    }

    /// A new secret for a live key (the old one stops working); nil when there is no live key `id`.
    public func rotate(id: String) async throws -> Secret? {
        let secret = APIKeySecret.generate(id: Self.bareID(id))
        let rotated = try await store.rotate(
            id: secret.id, keyHash: APIKeySecret.hash(secret.key.revealed, pepper: pepper), at: Self.now())
        return rotated ? secret.key : nil
    }

    /// A key's id from its id or its visible `mmk_` prefix.
    public static func bareID(_ text: String) -> String {
        text.hasPrefix(APIKeySecret.scheme) ? String(text.dropFirst(APIKeySecret.scheme.count)) : text
    }

    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
