import ArgumentParser
import ModelManagerCore
import ModelManagerServer
import ModelManagerUsage

/// `model-manager audit`: the audit log, newest first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read the audit log (administrative acts and refused calls), newest first.")

    @OptionGroup var ledger: LedgerOptions
    @Option(name: .customLong("org-id")) var orgID: String?
    @Option(help: "key:<id>, admin:<subject>, jwt, cli …") var actor: String?
    @Option(
        help: "key.created, key.revoked, key.rotated, quota.set, quota.deleted, quota.alert, admin.query, call.denied …"
    )
    var action: String?
    @Option(name: .customLong("start-date"), help: "ISO 8601 date or time.") var startDate: String?
    @Option(name: .customLong("end-date"), help: "ISO 8601 date (whole day) or time.") var endDate: String?
    @Option(help: "Entries to print (at most 10000).") var limit = 100

    func run() async throws {
        guard (1...10_000).contains(limit) else {
            throw ValidationError("--limit must be from 1 to 10000, got \(limit)")
        }
        let filter = AuditLog.Filter(
            orgID: orgID, actor: actor, action: action,
            start: try startDate.map { try DateParameter.parse($0, name: "--start-date", endOfDay: false) },
            end: try endDate.map { try DateParameter.parse($0, name: "--end-date", endOfDay: true) })
        let (entries, total) = try await ledger.withRepository(configuration: try ledger.configuration()) {
            repository in
            try await AuditLog(database: repository.database).list(filter, page: 1, pageSize: limit)
        }
        print(JSONValue.object(["results": .array(entries.map(\.json)), "total": .integer(Int64(total))]).jsonText)
    }
}
