import Foundation
import Logging
import ModelManagerUsage
import Synchronization

/// Turns the quota counters' changes into alerts: when a window's use passes a threshold (80, 90
/// and 100 % by default) of one of its limits, or a call is refused for a limit (the quota is used
/// up), the alert is recorded once in the database (with its outbox rows and audit entry) and the
/// relay is woken to publish it. The database decides "once" across instances; the ids recorded
/// here only spare it the repeats this instance has already seen (a refused caller retrying).
final class QuotaAlerter: Sendable {
    private let log: QuotaAlertLog
    private let thresholds: [Int]
    private let calendar: QuotaCalendar
    private let wakeRelay: @Sendable () -> Void
    private let logger: Logger
    private let maximumRemembered: Int
    private let recorded = Mutex(Set<String>())

    init(
        log: QuotaAlertLog, thresholds: [Int], calendar: QuotaCalendar, maximumRemembered: Int, logger: Logger,
        wakeRelay: @escaping @Sendable () -> Void
    ) {
        self.log = log
        self.thresholds = thresholds.sorted()
        self.calendar = calendar
        self.maximumRemembered = maximumRemembered
        self.logger = logger
        self.wakeRelay = wakeRelay
    }

    /// The counters of these windows went from `before` to `after`.
    func changed(_ windows: [QuotaStore.Window], before: [QuotaAmounts], after: [QuotaAmounts], orgID: String) async {
        guard !thresholds.isEmpty else { return }
        let now = Date()
        var alerts: [QuotaAlert] = []
        for (window, (before, after)) in zip(windows, zip(before, after)) {
            for (metric, limit) in window.limits.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                for threshold in QuotaAlert.crossed(thresholds, from: before[metric], to: after[metric], limit: limit) {
                    alerts.append(
                        alert(window, orgID: orgID, metric: metric, threshold: threshold, used: after[metric], now))
                }
            }
        }
        await record(alerts)
    }

    /// A call was refused for `metric` in `window`: the quota is used up for it.
    func refused(_ window: QuotaStore.Window, metric: Quota.Metric, used: Double, orgID: String) async {
        guard let top = thresholds.last, top >= 100 else { return }
        await record([alert(window, orgID: orgID, metric: metric, threshold: top, used: used, Date())])
    }

    private func alert(
        _ window: QuotaStore.Window, orgID: String, metric: Quota.Metric, threshold: Int, used: Double, _ now: Date
    ) -> QuotaAlert {
        QuotaAlert(
            window: window, orgID: window.subject.orgID ?? orgID, metric: metric, threshold: threshold, used: used,
            resetsAt: calendar.reset(window.period, after: now), at: now)
    }

    private func record(_ alerts: [QuotaAlert]) async {
        var published = false
        for alert in alerts where !recorded.withLock({ $0.contains(alert.id) }) {
            do {
                if try await log.record(alert) {
                    published = true
                    logger.notice(
                        "quota alert",
                        metadata: [
                            "subject": "\(alert.subject)", "window": "\(alert.window.key)",
                            "metric": "\(alert.metric.rawValue)", "threshold_percent": "\(alert.threshold)",
                        ])
                }
                recorded.withLock { ids in
                    if ids.count >= maximumRemembered { ids.removeAll() }
                    ids.insert(alert.id)
                }
            } catch {
                logger.error(
                    "quota alert not recorded: the ledger database refused it",
                    metadata: ["alert": "\(alert.id)", "error": "\(error)"])
            }
        }
        if published { wakeRelay() }
    }
}
