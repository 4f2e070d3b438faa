import ArgumentParser
import Foundation
import ModelManagerAuth
import ModelManagerCore
import ModelManagerServer
import ModelManagerUsage

/// `model-manager keys …`: API keys in the ledger database, which every server on it reads.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list, show, revoke and rotate API keys.",
        subcommands: [Create.self, List.self, Show.self, Revoke.self, Rotate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is printed once.")
        @OptionGroup var ledger: LedgerOptions
        @Option(name: .customLong("org-id"), help: "The org the key acts for.") var orgID: String
        @Option(name: .customLong("user-id"), help: "The one user it acts for (default: any of the org).")
        var userID: String?
        @Option(help: "A name to tell keys apart.") var name: String
        @Option(
            name: .customLong("scope"),
            help: "invoke, tasks, admin:read or admin:write; repeat for several (default: invoke).")
        var scopes: [String] = ["invoke"]
        @Option(name: .customLong("provider"), help: "A provider it may call; repeat for several (default: any).")
        var providers: [String] = []
        @Option(name: .customLong("model"), help: "A model it may call; repeat for several (default: any).")
        var models: [String] = []
        @Option(name: .customLong("expires-in-days"), help: "Days until it stops working (default: never).")
        var expiresInDays: Double?

        func run() async throws {
            let configuration = try ledger.configuration()
            let pepper = try KeysCommand.pepper(configuration)
            let scopes = try Set(
                scopes.map { text in
                    guard let scope = APIKeyRecord.Scope(rawValue: text) else {
                        throw ValidationError(
                            "unknown scope '\(text)': expected \(APIKeyRecord.Scope.allCases.map(\.rawValue).joined(separator: ", "))"
                        )
                    }
                    return scope
                })
            guard !orgID.isEmpty else { throw ValidationError("--org-id must not be empty") }
            if let expiresInDays, !(expiresInDays > 0) {
                throw ValidationError("--expires-in-days must be a positive number, got \(expiresInDays)")
            }
            let now = KeysCommand.now()
            let secret = APIKeySecret.generate()
            let record = APIKeyRecord(
                id: secret.id, keyHash: APIKeySecret.hash(secret.key.revealed, pepper: pepper), name: name,
                orgID: orgID, userID: userID, scopes: scopes, allowedProviders: Set(providers),
                allowedModels: Set(models), expiresAt: expiresInDays.map { now + Int64($0 * 86_400_000) },
                createdAt: now)
            try await ledger.withRepository(configuration: configuration) { repository in
                try await APIKeyStore(database: repository.database).create(record)
            }
            print(JSONValue.object(["key": .string(secret.key.revealed), "record": record.json]).jsonText)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys, newest first (never their secrets).")
        @OptionGroup var ledger: LedgerOptions
        @Option(name: .customLong("org-id"), help: "Only this org's keys.") var orgID: String?

        func run() async throws {
            let records = try await ledger.withRepository(configuration: try ledger.configuration()) { repository in
                try await APIKeyStore(database: repository.database).list(orgID: orgID)
            }
            print(JSONValue.array(records.map(\.json)).jsonText)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one key.")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The key's id (or its mmk_ prefix).") var id: String

        func run() async throws {
            let record = try await ledger.withRepository(configuration: try ledger.configuration()) { repository in
                try await APIKeyStore(database: repository.database).find(id: KeysCommand.bareID(id))
            }
            guard let record else { throw ValidationError("no API key \(id)") }
            print(record.json.jsonText)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key: every server refuses it within its key cache lifetime (1 s by default).")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The key's id (or its mmk_ prefix).") var id: String

        func run() async throws {
            let revoked = try await ledger.withRepository(configuration: try ledger.configuration()) { repository in
                try await APIKeyStore(database: repository.database).revoke(
                    id: KeysCommand.bareID(id), at: KeysCommand.now())
            }
            guard revoked else { throw ValidationError("no live API key \(id) (unknown or revoked already)") }
            print("revoked \(id)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a key a new secret, printed once; the old one stops working.")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The key's id (or its mmk_ prefix).") var id: String

        func run() async throws {
            let configuration = try ledger.configuration()
            let pepper = try KeysCommand.pepper(configuration)
            let secret = APIKeySecret.generate(id: KeysCommand.bareID(id))
            let rotated = try await ledger.withRepository(configuration: configuration) { repository in
                try await APIKeyStore(database: repository.database).rotate(
                    id: secret.id, keyHash: APIKeySecret.hash(secret.key.revealed, pepper: pepper),
                    at: KeysCommand.now())
            }
            guard rotated else { throw ValidationError("no live API key \(id) (unknown or revoked)") }
            print(JSONValue.object(["key": .string(secret.key.revealed), "id": .string(secret.id)]).jsonText)
        }
    }

    static func pepper(_ configuration: ServerConfiguration) throws -> Secret {
        guard let pepper = configuration.auth.apiKeyPepper else {
            throw ValidationError(
                "no API key pepper: set MODEL_MANAGER_API_KEY_PEPPER or auth.api_key_pepper (the servers must use the same)"
            )
        }
        return pepper
    }

    static func bareID(_ text: String) -> String {
        text.hasPrefix(APIKeySecret.scheme) ? String(text.dropFirst(APIKeySecret.scheme.count)) : text
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
