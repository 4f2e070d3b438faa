import Foundation
import ModelManagerCore
import ModelManagerUsage
import Testing

@Suite struct QuotaAlertTests {
    @Test func aThresholdIsCrossedByTheChangeThatReachesItOnly() {
        let thresholds = [80, 90, 100]
        #expect(QuotaAlert.crossed(thresholds, from: 79, to: 80, limit: 100) == [80])
        #expect(QuotaAlert.crossed(thresholds, from: 80, to: 81, limit: 100) == [])
        #expect(QuotaAlert.crossed(thresholds, from: 10, to: 100, limit: 100) == [80, 90, 100])
        #expect(QuotaAlert.crossed(thresholds, from: 95, to: 130, limit: 100) == [100])
        // Settling a call that used less than it reserved lowers the counter: no alert.
        #expect(QuotaAlert.crossed(thresholds, from: 99, to: 85, limit: 100) == [])
        #expect(QuotaAlert.crossed(thresholds, from: 0, to: 5, limit: 0) == [])
        #expect(QuotaAlert.crossed(thresholds, from: 0.0079, to: 0.0081, limit: 0.01) == [80])
    }

    @Test(arguments: Backend.allCases)
    func anAlertIsRecordedOnceWithItsOutboxRowsAndAuditEntry(_ backend: Backend) async throws {
        let repository = try await backend.repository(sinks: ["nats"])
        let log = QuotaAlertLog(database: repository.database, sinks: ["nats", "webhook"])
        let window = QuotaStore.Window(
            subject: QuotaSubject(kind: .key, id: "k1"), period: .monthly, key: "month:2026-12",
            limits: [.tokens: 1000])
        let alert = QuotaAlert(
            window: window, orgID: "acme.eu", metric: .tokens, threshold: 90, used: 912, resetsAt: nil,
            at: date("2026-12-03T10:00:00Z"))
        #expect(try await log.record(alert))
        #expect(try await !log.record(alert), "a second instance that saw the same crossing records nothing")
        var next = alert
        next.threshold = 100
        next.at = date("2026-12-03T10:05:00Z")
        #expect(try await log.record(next))

        let nats = try await repository.pending(sink: "nats", limit: 10)
        #expect(nats.map(\.recordID) == [alert.id, next.id])
        #expect(nats.first?.subject == "billing.quota.alert.acme_eu")
        let event = try JSONValue(parsing: try #require(nats.first?.payload))
        #expect(event["threshold_percent"] == 90 && event["used"] == 912 && event["limit"] == 1000)
        #expect(event["subject_kind"] == "key" && event["org_id"] == "acme.eu" && event["resets_at"] == .null)
        #expect(try await repository.pending(sink: "webhook", limit: 10).count == 2)
        let (entries, total) = try await AuditLog(database: repository.database).list(
            AuditLog.Filter(action: "quota.alert"), page: 1, pageSize: 10)
        #expect(total == 2)
        #expect(entries.allSatisfy { $0.actor == "quota" && $0.target == "key 'k1'" && $0.orgID == "acme.eu" })
        await repository.database.close()
    }
}
