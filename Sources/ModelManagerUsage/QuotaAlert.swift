public import Foundation
public import ModelManagerCore

/// A quota's use crossed one of the alert thresholds (a percentage of its limit) in one window:
/// published once per threshold and window on every alert sink and kept in the audit log.
public struct QuotaAlert: Sendable, Hashable {
    public var subject: QuotaSubject
    /// The org the alert is published under: the subject's, or for a key the calling org (its own).
    public var orgID: String
    public var window: QuotaStore.Window
    public var metric: Quota.Metric
    /// Percent of the limit: 80, 90, 100.
    public var threshold: Int
    public var limit: Double
    public var used: Double
    /// When the window ends; nil for a total quota.
    public var resetsAt: Date?
    public var at: Date

    public init(
        window: QuotaStore.Window, orgID: String, metric: Quota.Metric, threshold: Int, used: Double,
        resetsAt: Date?, at: Date = Date()
    ) {
        subject = window.subject
        self.orgID = orgID
        self.window = window
        self.metric = metric
        self.threshold = threshold
        limit = window.limits[metric] ?? 0
        self.used = used
        self.resetsAt = resetsAt
        self.at = at
    }

    /// The same for every instance that sees the crossing, so brokers and receivers can drop a
    /// repeat (it is the JetStream `Nats-Msg-Id` and the webhook's event id).
    public var id: String {
        "quota-alert:\(subject.kind.rawValue):\(subject.id):\(window.key):\(metric.rawValue):\(threshold)"
    }

    /// `billing.quota.alert.{org_id}`.
    public var brokerSubject: String { "billing.quota.alert.\(UsageRecord.subjectToken(orgID))" }

    public var event: JSONValue {
        [
            "type": "quota.alert", "alert_id": .string(id), "org_id": .string(orgID),
            "subject_kind": .string(subject.kind.rawValue), "subject_id": .string(subject.id),
            "period": .string(window.period.rawValue), "window": .string(window.key),
            "metric": .string(metric.rawValue), "threshold_percent": .integer(Int64(threshold)),
            "limit": Self.amount(limit, metric), "used": Self.amount(used, metric),
            "resets_at": resetsAt.map { .string($0.formatted(.iso8601)) } ?? .null,
            "timestamp": .string(at.formatted(.iso8601)),
        ]
    }

    /// The thresholds (percentages, ascending) a window's use passed on its way from `before` to
    /// `after` of `limit`: each is crossed by exactly one change of the counter, as the database
    /// applies them one at a time.
    public static func crossed(_ thresholds: [Int], from before: Double, to after: Double, limit: Double) -> [Int] {
        guard limit > 0, after > before else { return [] }
        return thresholds.filter { threshold in
            let level = limit * Double(threshold) / 100
            return before < level && after >= level
        }
    }

    private static func amount(_ value: Double, _ metric: Quota.Metric) -> JSONValue {
        metric == .cost ? .double(value) : .integer(Int64(value))
    }
}

/// Records each alert once: a row per (window, metric, threshold), its outbox rows for every
/// alert sink and its audit entry in one transaction; a second instance that saw the same
/// crossing finds the row and records nothing.
public struct QuotaAlertLog: Sendable {
    public let database: any SQLDatabase
    /// The sinks alerts are published to (the brokers' and the webhook's).
    public let sinks: [String]

    public init(database: any SQLDatabase, sinks: [String]) {
        self.database = database
        self.sinks = sinks
    }

    /// False when this alert was already recorded.
    public func record(_ alert: QuotaAlert) async throws -> Bool {
        let payload = SQLValue.text(alert.event.jsonText)
        let at = SQLValue.integer(Int64(alert.at.timeIntervalSince1970 * 1000))
        var statements = [
            SQLStatement(
                """
                INSERT INTO quota_alerts (subject_kind, subject_id, window_key, metric, threshold, org_id, used, limit_amount, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subject_kind, subject_id, window_key, metric, threshold) DO NOTHING
                RETURNING threshold
                """,
                [
                    .text(alert.subject.kind.rawValue), .text(alert.subject.id), .text(alert.window.key),
                    .text(alert.metric.rawValue), .integer(Int64(alert.threshold)), .text(alert.orgID),
                    .double(alert.used), .double(alert.limit), at,
                ],
                requiresRows: true)
        ]
        statements += sinks.map { sink in
            SQLStatement(
                "INSERT INTO outbox (record_id, sink, subject, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(alert.id), .text(sink), .text(alert.brokerSubject), payload, at])
        }
        statements.append(
            AuditLog.insert(
                AuditEntry(
                    actor: "quota", action: "quota.alert", target: alert.subject.description, orgID: alert.orgID,
                    details: alert.event, at: alert.at)))
        do {
            try await database.write(statements)
            return true
        } catch is SQLRowsRequired {
            return false
        }
    }
}
