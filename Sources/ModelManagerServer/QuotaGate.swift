public import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import Synchronization

/// How quotas count: calendar periods in `timeZone`; estimates; the cache of who has quotas.
public struct QuotaSettings: Sendable {
    public var timeZone: TimeZone = .gmt
    /// The completion tokens a call is assumed to use when it sets no maximum.
    public var defaultMaxTokens = 1024
    /// How long a subject's quotas are trusted before the database is asked again: a quota set
    /// on any instance applies everywhere within this time.
    public var cacheLifetime: Duration = .seconds(1)
    /// Subjects kept in that cache.
    public var cacheSize = 10_000
    /// How often in-process counters (the embedded SQLite default) are written to the database;
    /// a crash loses at most this much of their counts.
    public var counterFlushInterval: Duration = .seconds(1)
    /// Percentages of a limit whose crossing is alerted, once per window; empty: no alerts.
    public var alertThresholds = [80, 90, 100]

    public init() {}
}

/// Applies the quotas of a call's org, user and API key: before the upstream call it reserves one
/// call and an estimate of its tokens and cost in every window at once (or refuses the call
/// RESOURCE_EXHAUSTED, naming the limit, what is used and when it resets); after the call it
/// settles on the real usage. So concurrent calls overshoot a token or cost limit by at most
/// what the calls in flight underestimated, and never a call limit.
///
/// Which quotas a subject has is cached for `cacheLifetime`, bounded in subjects: a caller with
/// no quota costs no database work.
final class QuotaGate: Sendable {
    typealias Settings = QuotaSettings

    /// What one call counted; settled when it ends.
    struct Reservation: Sendable {
        var windows: [QuotaStore.Window]
        var reserved: QuotaAmounts
        /// The calling org, which a key's alerts are published under.
        var orgID: String
        /// OpenAI's `x-ratelimit-*` for the tightest per-minute request and token limits.
        var rateLimitHeaders: [(name: String, value: String)]
    }

    private let store: QuotaStore
    /// Where the windows count: `store` itself when the database is shared, else in memory.
    let counters: any QuotaCounters
    private let prices: PriceTable
    private let settings: Settings
    private let calendar: QuotaCalendar
    private let logger: Logger
    private let alerter: QuotaAlerter
    private let metrics: GatewayMetrics
    private let cache = Mutex<[QuotaSubject: (quotas: [Quota], fetched: ContinuousClock.Instant)]>([:])

    /// `alerts`: where crossed thresholds are recorded; `wakeRelay` then publishes them.
    init(
        store: QuotaStore, counters: any QuotaCounters, alerts: QuotaAlertLog, prices: PriceTable, settings: Settings,
        metrics: GatewayMetrics, logger: Logger,
        wakeRelay: @escaping @Sendable () -> Void
    ) {
        self.metrics = metrics
        self.store = store
        self.counters = counters
        self.prices = prices
        self.settings = settings
        let calendar = QuotaCalendar(timeZone: settings.timeZone)
        self.calendar = calendar
        self.logger = logger
        alerter = QuotaAlerter(
            log: alerts, thresholds: settings.alertThresholds, calendar: calendar,
            maximumRemembered: settings.cacheSize, logger: logger, wakeRelay: wakeRelay)
    }

    /// Counts the call against its quotas; nil when it has none.
    func reserve(_ request: ModelRequest, keyID: String?) async throws(ModelManagerError) -> Reservation? {
        var subjects: [QuotaSubject] = []
        if !request.orgID.isEmpty { subjects.append(QuotaSubject(kind: .org, id: request.orgID)) }
        if !request.userID.isEmpty { subjects.append(.user(org: request.orgID, user: request.userID)) }
        if let keyID { subjects.append(QuotaSubject(kind: .key, id: keyID)) }
        let model = request.model ?? ""
        let quotas = try await quotas(of: subjects).filter { $0.model.isEmpty || $0.model == model }
        guard !quotas.isEmpty else { return nil }
        let now = Date()
        var limits: [QuotaStore.Window: [Quota.Metric: Double]] = [:]
        for quota in quotas {
            let window = QuotaStore.Window(
                subject: quota.subject, period: quota.period,
                key: calendar.window(quota.period, model: quota.model, at: now), limits: [:])
            limits[window, default: [:]][quota.metric] = quota.amount
        }
        let windows = limits.map { window, limits in
            var window = window
            window.limits = limits
            return window
        }
        let reserved = estimate(request)
        let used: [QuotaAmounts]
        do {
            used = try await counters.reserve(reserved, in: windows)
        } catch let exceeded as QuotaStore.Exceeded {
            await alerter.refused(
                exceeded.window, metric: exceeded.metric, used: exceeded.used[exceeded.metric], orgID: request.orgID)
            throw refusal(exceeded, needs: reserved, now: now)
        } catch {
            throw ModelManagerError(.unavailable, "cannot check the call's quotas: the ledger database is unavailable")
        }
        await alerter.changed(windows, before: used.map { $0 - reserved }, after: used, orgID: request.orgID)
        return Reservation(
            windows: windows, reserved: reserved, orgID: request.orgID,
            rateLimitHeaders: Self.rateLimitHeaders(
                Array(zip(windows, used)), reset: calendar.reset(.minute, after: now), now: now))
    }

    /// For requests and tokens, the per-minute window with the least left: its limit, what is
    /// left after this call, and the seconds until it resets (`12s`).
    static func rateLimitHeaders(_ windows: [(QuotaStore.Window, QuotaAmounts)], reset: Date?, now: Date)
        -> [(name: String, value: String)]
    {
        var headers: [(name: String, value: String)] = []
        let seconds = reset.map { Int(max(0, $0.timeIntervalSince(now)).rounded(.up)) } ?? 0
        for (metric, name) in [(Quota.Metric.calls, "requests"), (.tokens, "tokens")] {
            let tightest = windows.compactMap { window, used -> (limit: Double, left: Double)? in
                guard window.period == .minute, let limit = window.limits[metric] else { return nil }
                return (limit, limit - used[metric])
            }.min { $0.left < $1.left }
            guard let tightest else { continue }
            headers += [
                ("x-ratelimit-limit-\(name)", String(Int64(tightest.limit))),
                ("x-ratelimit-remaining-\(name)", String(Int64(max(0, tightest.left)))),
                ("x-ratelimit-reset-\(name)", "\(seconds)s"),
            ]
        }
        return headers
    }

    /// Replaces the reservation with what the call used: a failed call gives its call back.
    func settle(_ reservation: Reservation?, tokens: Int, cost: Double?, succeeded: Bool) async {
        guard let reservation else { return }
        let used = QuotaAmounts(calls: succeeded ? 1 : 0, tokens: Int64(tokens), cost: cost ?? 0)
        let delta = used - reservation.reserved
        do {
            let after = try await counters.settle(delta, in: reservation.windows)
            if !after.isEmpty {
                await alerter.changed(
                    reservation.windows, before: after.map { $0 - delta }, after: after, orgID: reservation.orgID)
            }
        } catch {
            // The reservation stays counted: the quota errs on the side of the budget.
            logger.warning("quota usage not settled", metadata: ["error": "\(error)"])
        }
    }

    private func quotas(of subjects: [QuotaSubject]) async throws(ModelManagerError) -> [Quota] {
        let now = ContinuousClock.now
        var found: [Quota] = []
        var missing: [QuotaSubject] = []
        cache.withLock { cache in
            for subject in subjects {
                if let cached = cache[subject], now - cached.fetched < settings.cacheLifetime {
                    found += cached.quotas
                } else {
                    missing.append(subject)
                }
            }
        }
        guard !missing.isEmpty else { return found }
        let fetched: [Quota]
        do {
            fetched = try await store.quotas(for: missing)
        } catch {
            throw ModelManagerError(.unavailable, "cannot read the call's quotas: the ledger database is unavailable")
        }
        cache.withLock { cache in
            if cache.count + missing.count > settings.cacheSize {
                cache = cache.filter { now - $0.value.fetched < settings.cacheLifetime }
                if cache.count + missing.count > settings.cacheSize { cache.removeAll() }
            }
            for subject in missing { cache[subject] = (fetched.filter { $0.subject == subject }, now) }
        }
        return found + fetched
    }

    /// One call; its prompt at about 4 bytes a token plus its maximum completion; their price.
    private func estimate(_ request: ModelRequest) -> QuotaAmounts {
        let promptBytes = ["messages", "input", "contents", "prompt", "system", "instructions"].reduce(0) {
            $0 + (request.extra[$1]?.jsonText.utf8.count ?? 0)
        }
        let maximum =
            ["max_tokens", "max_completion_tokens", "max_output_tokens"].lazy.compactMap {
                request.extra[$0]?.integerValue
            }.first ?? request.extra["generationConfig"]?["maxOutputTokens"]?.integerValue
            ?? Int64(settings.defaultMaxTokens)
        let prompt = (promptBytes + 3) / 4
        let usage = Usage(promptTokens: prompt, completionTokens: Int(maximum))
        return QuotaAmounts(
            calls: 1, tokens: Int64(usage.totalTokens), cost: prices.cost(of: usage, model: request.model ?? "") ?? 0)
    }

    private func refusal(_ exceeded: QuotaStore.Exceeded, needs: QuotaAmounts, now: Date) -> ModelManagerError {
        let window = exceeded.window
        metrics.refused(window.period == .minute ? .rateLimit : .quota)
        let limit = window.limits[exceeded.metric] ?? 0
        let show: (Double) -> String = { value in
            exceeded.metric == .cost ? String(format: "%.6f %@", value, self.prices.currency) : String(Int64(value))
        }
        let reset = calendar.reset(window.period, after: now)
        let when =
            reset.map { "it resets at \($0.formatted(.iso8601))" } ?? "a total quota does not reset"
        return ModelManagerError(
            .resourceExhausted,
            "quota exceeded: \(window.subject) \(window.period.rawValue) \(exceeded.metric.rawValue) limit "
                + "\(show(limit)), \(show(exceeded.used[exceeded.metric])) used, this call needs "
                + "\(show(needs[exceeded.metric])); \(when)",
            retryAfterSeconds: reset.map { max(1, $0.timeIntervalSince(now).rounded(.up)) })
    }
}
