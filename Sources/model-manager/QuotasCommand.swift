import ArgumentParser
import ModelManagerCore
import ModelManagerServer
import ModelManagerUsage

/// `model-manager quotas …`: quotas in the ledger database, which every server on it enforces.
struct QuotasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quotas", abstract: "Set, list and delete quotas of orgs, users and API keys.",
        subcommands: [Set.self, List.self, Delete.self])

    struct Target: ParsableArguments {
        @Option(name: .customLong("org-id"), help: "The org (alone: the org's own quota).") var orgID: String?
        @Option(name: .customLong("user-id"), help: "A user of the org.") var userID: String?
        @Option(name: .customLong("key-id"), help: "An API key (its id or mmk_ prefix).") var keyID: String?
        @Option(help: "Only calls to this model (default: every model).") var model: String?
        @Option(
            help:
                "minute (a rate limit), daily, monthly or total (daily and monthly in quotas.time_zone, UTC by default)."
        )
        var period: String
        @Option(help: "calls, tokens or cost.") var metric: String
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set (or change) a quota.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var target: Target
        @Option(help: "The most that may be used in one period.") var limit: Double

        func run() async throws {
            let quota = try QuotaAdmin.quota(
                orgID: target.orgID, userID: target.userID, keyID: target.keyID, model: target.model,
                period: target.period,
                metric: target.metric, limit: limit)
            try await ledger.withRepository(configuration: try ledger.configuration()) { repository in
                try await QuotaStore(database: repository.database).set(quota, at: APIKeyIssuer.now())
                try await LedgerOptions.audit(
                    repository, "quota.set", on: "\(quota.subject)", org: quota.subject.orgID, quota.json)
            }
            print(quota.json.jsonText)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List quotas with what their current window has used.")
        @OptionGroup var ledger: LedgerOptions
        @Option(name: .customLong("org-id"), help: "Only this org's (its own, its users' and its keys').")
        var orgID: String?

        func run() async throws {
            let configuration = try ledger.configuration()
            let report = try await ledger.withRepository(configuration: configuration) { repository in
                try await QuotaAdmin(store: QuotaStore(database: repository.database), settings: configuration.quotas)
                    .report(orgID: orgID)
            }
            print(report.jsonText)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a quota.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var target: Target

        func run() async throws {
            let quota = try QuotaAdmin.quota(
                orgID: target.orgID, userID: target.userID, keyID: target.keyID, model: target.model,
                period: target.period,
                metric: target.metric, limit: nil)
            let deleted = try await ledger.withRepository(configuration: try ledger.configuration()) {
                repository -> Bool in
                guard try await QuotaStore(database: repository.database).delete(quota) else { return false }
                try await LedgerOptions.audit(
                    repository, "quota.deleted", on: "\(quota.subject)", org: quota.subject.orgID, quota.json)
                return true
            }
            guard deleted else {
                throw ValidationError("no \(quota.period.rawValue) \(quota.metric.rawValue) quota for \(quota.subject)")
            }
            print("deleted the \(quota.period.rawValue) \(quota.metric.rawValue) quota of \(quota.subject)")
        }
    }
}
