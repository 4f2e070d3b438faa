import ArgumentParser
import Foundation
import ModelManagerAuth
import ModelManagerCore

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Mint an HS256 JWT for a secret, user and org.")

    @Option(help: "The secret (default: MODEL_MANAGER_SERVER_JWT_SECRET_KEY).")
    var secret: String?

    @Option(name: .customLong("user-id")) var userID = ""
    @Option(name: .customLong("org-id")) var orgID = ""
    @Option(help: "Role claim, e.g. admin.") var role: String?
    @Option(help: "Lifetime in seconds.") var ttl: Int = 3600

    func run() throws {
        guard let secret = secret ?? ProcessInfo.processInfo.environment["MODEL_MANAGER_SERVER_JWT_SECRET_KEY"], !secret.isEmpty else {
            throw ValidationError("no secret: pass --secret or set MODEL_MANAGER_SERVER_JWT_SECRET_KEY")
        }
        var claims: [String: JSONValue] = ["user_id": .string(userID), "org_id": .string(orgID)]
        if let role { claims["role"] = .string(role) }
        print(JWTMinter(secret: secret).mint(claims: claims, lifetime: .seconds(Int64(ttl))).token)
    }
}
