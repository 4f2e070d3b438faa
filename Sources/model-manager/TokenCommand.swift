import ArgumentParser
import Foundation
import ModelManagerAuth
import ModelManagerCore

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Mint an HS256 JWT for a secret, user and org.")

    @Option(
        help:
            "The secret (default: MODEL_MANAGER_SERVER_JWT_SECRET_KEY, or with --admin MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY)."
    )
    var secret: String?

    @Option(name: .customLong("user-id")) var userID = ""
    @Option(name: .customLong("org-id")) var orgID = ""
    @Flag(help: "An admin token (role admin), signed with the admin secret: the clients' secret cannot grant admin.")
    var admin = false
    @Option(help: "Lifetime in seconds.") var ttl: Int = 3600

    func run() throws {
        let variable = admin ? "MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY" : "MODEL_MANAGER_SERVER_JWT_SECRET_KEY"
        guard let secret = secret ?? ProcessInfo.processInfo.environment[variable], !secret.isEmpty else {
            throw ValidationError("no secret: pass --secret or set \(variable)")
        }
        guard ttl > 0, ttl <= 366 * 86_400 else {
            throw ValidationError("--ttl must be from 1 to \(366 * 86_400) seconds, got \(ttl)")
        }
        var claims: [String: JSONValue] = ["user_id": .string(userID), "org_id": .string(orgID)]
        if admin { claims["role"] = "admin" }
        print(JWTMinter(secret: secret).mint(claims: claims, lifetime: .seconds(Int64(ttl))).token)
    }
}
