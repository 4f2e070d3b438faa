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
            let order = APIKeyIssuer.Order(
                orgID: orgID, userID: userID, name: name, scopes: scopes, allowedProviders: providers,
                allowedModels: models, expiresInDays: expiresInDays)
            let (key, record) = try await ledger.withRepository(configuration: configuration) { repository in
                let made = try await APIKeyIssuer(store: APIKeyStore(database: repository.database), pepper: pepper)
                    .create(order)
                try await LedgerOptions.audit(
                    repository, "key.created", on: "mmk_\(made.record.id)", org: made.record.orgID, made.record.json)
                return made
            }
            print(JSONValue.object(["key": .string(key.revealed), "record": record.json]).jsonText)
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
                try await APIKeyStore(database: repository.database).find(id: APIKeyIssuer.bareID(id))
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
            let revoked = try await ledger.withRepository(configuration: try ledger.configuration()) {
                repository -> Bool in
                let store = APIKeyStore(database: repository.database)
                guard let record = try await store.find(id: APIKeyIssuer.bareID(id)),
                    try await store.revoke(id: record.id, at: APIKeyIssuer.now())
                else { return false }
                try await LedgerOptions.audit(repository, "key.revoked", on: "mmk_\(record.id)", org: record.orgID)
                return true
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
            let key = try await ledger.withRepository(configuration: configuration) { repository -> Secret? in
                let store = APIKeyStore(database: repository.database)
                guard let key = try await APIKeyIssuer(store: store, pepper: pepper).rotate(id: id) else { return nil }
                let record = try await store.find(id: APIKeyIssuer.bareID(id))
                try await LedgerOptions.audit(
                    repository, "key.rotated", on: "mmk_\(APIKeyIssuer.bareID(id))", org: record?.orgID)
                return key
            }
            guard let key else { throw ValidationError("no live API key \(id) (unknown or revoked)") }
            print(JSONValue.object(["key": .string(key.revealed), "id": .string(APIKeyIssuer.bareID(id))]).jsonText)
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
}
