import ArgumentParser
import Foundation
import Logging
import ModelManagerCore
import ModelManagerServer
import ModelManagerUsage
import ServiceLifecycle

/// `model-manager usage …`: the admin API's queries, straight from the ledger.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Query the usage ledger.",
        subcommands: [Summary.self, ByModel.self, Series.self, List.self])

    struct Options: ParsableArguments {
        @OptionGroup var ledger: LedgerOptions
        @Option(name: .customLong("start-date"), help: "ISO 8601 date or time.") var startDate: String?
        @Option(name: .customLong("end-date"), help: "ISO 8601 date (whole day) or time.") var endDate: String?
        @Option(name: .customLong("user-id")) var userID: String?
        @Option(name: .customLong("org-id")) var orgID: String?
        @Flag(help: "Print JSON.") var json = false

        func withRepository<Value>(_ body: (UsageRepository) async throws -> Value) async throws -> Value {
            try await ledger.withRepository(configuration: try ledger.configuration()) { repository in
                try await body(repository)
            }
        }

        func filter(model: String? = nil, success: Bool? = nil) throws -> UsageFilter {
            UsageFilter(
                start: try startDate.map { try DateParameter.parse($0, name: "--start-date", endOfDay: false) },
                end: try endDate.map { try DateParameter.parse($0, name: "--end-date", endOfDay: true) },
                userID: userID, orgID: orgID, model: model, success: success)
        }
    }

    static func table(_ groups: [UsageGroup], key: String) -> String {
        var lines = [
            "\(key.padding(toLength: 28, withPad: " ", startingAt: 0)) calls   prompt  completion     total        cost"
        ]
        for group in groups {
            let t = group.totals
            lines.append(
                group.key.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + String(
                        format: " %5lld %8lld %11lld %9lld %11.6f", t.calls, t.promptTokens, t.completionTokens,
                        t.totalTokens, t.cost))
        }
        return lines.joined(separator: "\n")
    }

    struct Summary: AsyncParsableCommand {
        @OptionGroup var options: Options
        func run() async throws {
            let totals = try await options.withRepository { repository in
                try await repository.summary(try options.filter())
            }
            if options.json {
                print(totals.summaryJSON.jsonText)
            } else {
                print(
                    "calls \(totals.calls) (ok \(totals.successfulCalls), failed \(totals.failedCalls)); tokens prompt \(totals.promptTokens), completion \(totals.completionTokens), total \(totals.totalTokens), cached \(totals.cachedTokens), reasoning \(totals.reasoningTokens); cost \(String(format: "%.6f", totals.cost))"
                )
            }
        }
    }

    struct ByModel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "by-model")
        @OptionGroup var options: Options
        func run() async throws {
            let groups = try await options.withRepository { repository in
                try await repository.breakdown(by: .model, try options.filter())
            }
            print(
                options.json
                    ? JSONValue.array(groups.map { $0.totals.groupJSON("model", $0.key) }).jsonText
                    : UsageCommand.table(groups, key: "model"))
        }
    }

    struct Series: AsyncParsableCommand {
        @OptionGroup var options: Options
        @Option(help: "day (hourly buckets), month (daily) or year (monthly).") var granularity = "day"
        func run() async throws {
            let unit = try Granularity(parsing: granularity)
            let groups = try await options.withRepository { repository in
                try await repository.series(unit, try options.filter())
            }
            print(
                options.json
                    ? JSONValue.array(groups.map { $0.totals.groupJSON("bucket", $0.key) }).jsonText
                    : UsageCommand.table(groups, key: "bucket"))
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: Options
        @Option var page = 1
        @Option(name: .customLong("page-size")) var pageSize = 20
        @Option(help: "Model name substring.") var model: String?
        @Option(help: "true or false.") var success: Bool?
        func run() async throws {
            guard page >= 1, (1...500).contains(pageSize) else {
                throw ValidationError("--page must be ≥ 1 and --page-size from 1 to 500")
            }
            let result = try await options.withRepository { repository in
                try await repository.list(
                    try options.filter(model: model, success: success), page: page, pageSize: pageSize)
            }
            if options.json {
                print(result.json.jsonText)
                return
            }
            print(
                "page \(result.page) of \(max(1, (result.total + Int64(pageSize) - 1) / Int64(pageSize))) (\(result.total) records)"
            )
            for record in result.records {
                print(
                    "\(record.createdAt.formatted(.iso8601))  \(record.success ? "ok  " : "FAIL")  \(record.provider)/\(record.model)  user=\(record.userID)  tokens=\(record.totalTokens)  cost=\(record.cost.map { String(format: "%.6f", $0) } ?? "null")  \(record.requestID)"
                )
            }
        }
    }
}
