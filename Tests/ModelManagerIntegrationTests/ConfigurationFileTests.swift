import Foundation
import ModelManagerServer
import Testing

@Suite struct ConfigurationFileTests {
    static func load(_ json: String) throws -> ServerConfiguration {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mm-config-\(UUID().uuidString).json")
            .path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ServerConfiguration.load(file: path, environment: [:])
    }

    @Test func outboxRetentionIsReadInHoursAndZeroKeepsEventsForEver() throws {
        #expect(try Self.load("{}").usage.outboxRetention == .seconds(7 * 86_400))
        #expect(try Self.load(#"{"usage": {"outbox_retention_hours": 24}}"#).usage.outboxRetention == .seconds(86_400))
        #expect(try Self.load(#"{"usage": {"outbox_retention_hours": 0}}"#).usage.outboxRetention == nil)
        #expect(throws: ServerConfiguration.Invalid.self) {
            try Self.load(#"{"usage": {"outbox_retention_hours": -1}}"#)
        }
        #expect(throws: ServerConfiguration.Invalid.self) {
            try Self.load(#"{"usage": {"outbox_retention_hours": "a week"}}"#)
        }
    }

    @Test func concurrentCommitsIsAPositiveCount() throws {
        #expect(try Self.load("{}").usage.concurrentCommits == 2)
        #expect(try Self.load(#"{"usage": {"concurrent_commits": 4}}"#).usage.concurrentCommits == 4)
        let error = #expect(throws: ServerConfiguration.Invalid.self) {
            try Self.load(#"{"usage": {"concurrent_commits": 0}}"#)
        }
        #expect("\(error!)".contains("usage.concurrent_commits must be a positive integer, got 0"))
    }
}
