import CoreMetrics
public import ModelManagerCore
import ModelManagerProviders
import ModelManagerUsage
import Prometheus
import Synchronization

/// `metrics`: whether `/metrics` serves Prometheus text, who may read it, and how many distinct
/// model names get a label of their own (the rest are folded into `other`).
public struct MetricsSettings: Sendable, Hashable {
    public var enabled = true
    /// When set, a scrape must send `Authorization: Bearer <token>`.
    public var bearerToken: Secret?
    public var maximumModelLabels = 100

    public init() {}
}

/// The gateway's metrics, through swift-metrics handles made by a Prometheus factory over this
/// server's own registry (so that several servers in one process keep separate figures). Each
/// finished call is counted once, from its usage record; what is a level rather than an event
/// (queue depths, backlogs, cache size) is read when a scrape asks.
final class GatewayMetrics: Sendable, UpstreamObserver {
    let settings: MetricsSettings
    private let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let providers: Set<String>
    /// The model labels given so far and each call shape's handles: one lock per call.
    private let calls = Mutex(CallShapes())
    private let events = Mutex<[EventKey: CoreMetrics.Counter]>([:])
    private let streamsRunning = Atomic<Int>(0)
    let ledgerCommit: CoreMetrics.Timer

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    init(settings: MetricsSettings, providers: [Provider]) {
        self.settings = settings
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
        self.providers = Set(providers.map(\.rawValue))
        ledgerCommit = CoreMetrics.Timer(label: "model_manager_ledger_commit_duration_seconds", factory: factory)
        // Series that may stay at zero are there from the start, so dashboards and alerts see 0, not nothing.
        guard settings.enabled else { return }
        for reason in Refusal.allCases { _ = counter("model_manager_refusals_total", ["reason": reason.rawValue]) }
        for provider in self.providers {
            _ = counter("model_manager_upstream_cooldowns_total", ["provider": provider])
            _ = counter("model_manager_failovers_total", ["provider": provider])
        }
    }

    // MARK: calls

    /// A finished call, from its usage record (cache hits and failures too).
    func observe(_ record: UsageRecord, face: CallFace) {
        guard settings.enabled else { return }
        let provider = providers.contains(record.provider) ? record.provider : "other"
        let outcome = record.success ? "ok" : Self.outcome(of: record.error)
        let handles = calls.withLock { shapes in
            // Only a served model earns a label of its own (names in refused calls are the
            // caller's), and only the first `maximumModelLabels` of them: the rest are `other`.
            var model = record.model.isEmpty ? "none" : record.model
            if !record.model.isEmpty, !shapes.modelLabels.contains(model) {
                if record.success, shapes.modelLabels.count < settings.maximumModelLabels {
                    shapes.modelLabels.insert(model)
                } else {
                    model = "other"
                }
            }
            let key = CallKey(face: face, provider: provider, model: model, outcome: outcome)
            if let existing = shapes.handles[key] { return existing }
            let made = CallHandles(key, factory: factory)
            shapes.handles[key] = made
            return made
        }
        handles.calls.increment()
        handles.duration.recordMilliseconds(record.latencyMilliseconds)
        if record.stream, record.success, let first = record.timeToFirstTokenMilliseconds {
            handles.firstToken.recordMilliseconds(first)
        }
        if record.promptTokens > 0 { handles.promptTokens.increment(by: record.promptTokens) }
        if record.completionTokens > 0 { handles.completionTokens.increment(by: record.completionTokens) }
        if let cost = record.cost, cost > 0 { handles.cost.increment(by: cost) }
    }

    /// The error code the record names (`invalid argument: …` → `invalid_argument`).
    static func outcome(of error: String?) -> String {
        guard let error, let colon = error.firstIndex(of: ":"),
            let code = ModelManagerError.Code(description: String(error[..<colon]))
        else { return "error" }
        return code.identifier
    }

    /// A stream begins (its end is `streamEnded`).
    func streamStarted() { streamsRunning.add(1, ordering: .relaxed) }
    func streamEnded() { streamsRunning.subtract(1, ordering: .relaxed) }

    // MARK: refusals and upstream events

    enum Refusal: String, CaseIterable {
        case quota
        case rateLimit = "rate_limit"
        case permission
        case unauthenticated
    }

    func refused(_ reason: Refusal) {
        count("model_manager_refusals_total", ["reason": reason.rawValue])
    }

    func upstreamFailed(provider: Provider, code: ModelManagerError.Code, failingOver: Bool) {
        let provider = providers.contains(provider.rawValue) ? provider.rawValue : "other"
        count(
            "model_manager_upstream_errors_total",
            ["provider": provider, "code": code.identifier])
        if failingOver {
            count("model_manager_upstream_cooldowns_total", ["provider": provider])
            count("model_manager_failovers_total", ["provider": provider])
        }
    }

    private func count(_ name: String, _ labels: [String: String]) {
        guard settings.enabled else { return }
        counter(name, labels).increment()
    }

    private func counter(_ name: String, _ labels: [String: String]) -> CoreMetrics.Counter {
        let key = EventKey(name: name, labels: labels)
        return events.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = CoreMetrics.Counter(label: name, dimensions: labels.sorted { $0.key < $1.key }, factory: factory)
            counters[key] = made
            return made
        }
    }

    // MARK: scrape

    /// Levels read now, besides the registry's events.
    struct Levels {
        var callsRunning: Int
        var ledgerPending: Int
        var ledgerCommitted: Int
        var outboxBacklog: [String: Int64]
        var cache: ResponseCache.Counters
    }

    /// Prometheus text format 0.0.4.
    func exposition(_ levels: Levels) -> [UInt8] {
        var text = registry.emitToBuffer()
        func sample(_ name: String, _ type: String, _ values: [(labels: String, value: Int64)]) {
            text.append(contentsOf: "# TYPE \(name) \(type)\n".utf8)
            for (labels, value) in values { text.append(contentsOf: "\(name)\(labels) \(value)\n".utf8) }
        }
        sample("model_manager_calls_in_flight", "gauge", [("", Int64(levels.callsRunning))])
        sample("model_manager_streams_in_flight", "gauge", [("", Int64(streamsRunning.load(ordering: .relaxed)))])
        sample("model_manager_ledger_queue_depth", "gauge", [("", Int64(levels.ledgerPending))])
        sample("model_manager_ledger_records_committed_total", "counter", [("", Int64(levels.ledgerCommitted))])
        sample(
            "model_manager_outbox_backlog", "gauge",
            levels.outboxBacklog.sorted { $0.key < $1.key }.map { ("{sink=\"\(Self.escaped($0.key))\"}", $0.value) })
        sample(
            "model_manager_cache_hits_total", "counter",
            [("{tier=\"exact\"}", Int64(levels.cache.hits)), ("{tier=\"semantic\"}", Int64(levels.cache.semanticHits))])
        sample("model_manager_cache_misses_total", "counter", [("", Int64(levels.cache.misses))])
        sample("model_manager_cache_evictions_total", "counter", [("", Int64(levels.cache.evicted))])
        sample("model_manager_cache_entries", "gauge", [("", Int64(levels.cache.entries))])
        sample("model_manager_cache_bytes", "gauge", [("", Int64(levels.cache.bytes))])
        return text
    }

    private static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

private struct CallKey: Hashable {
    let face: CallFace
    let provider: String
    let model: String
    let outcome: String
}

private struct EventKey: Hashable {
    let name: String
    let labels: [String: String]
}

/// One call shape's handles, made once.
private final class CallHandles: Sendable {
    let calls: CoreMetrics.Counter
    let duration: CoreMetrics.Timer
    let firstToken: CoreMetrics.Timer
    let promptTokens: CoreMetrics.Counter
    let completionTokens: CoreMetrics.Counter
    let cost: FloatingPointCounter

    init(_ key: CallKey, factory: any MetricsFactory) {
        let route = [("face", key.face.rawValue), ("provider", key.provider), ("model", key.model)]
        let model = [("provider", key.provider), ("model", key.model)]
        calls = CoreMetrics.Counter(
            label: "model_manager_calls_total", dimensions: route + [("outcome", key.outcome)], factory: factory)
        duration = CoreMetrics.Timer(label: "model_manager_call_duration_seconds", dimensions: route, factory: factory)
        firstToken = CoreMetrics.Timer(
            label: "model_manager_time_to_first_token_seconds", dimensions: model, factory: factory)
        promptTokens = CoreMetrics.Counter(
            label: "model_manager_tokens_total", dimensions: model + [("type", "prompt")], factory: factory)
        completionTokens = CoreMetrics.Counter(
            label: "model_manager_tokens_total", dimensions: model + [("type", "completion")], factory: factory)
        cost = FloatingPointCounter(label: "model_manager_cost_total", dimensions: model, factory: factory)
    }
}

private struct CallShapes {
    var modelLabels: Set<String> = []
    var handles: [CallKey: CallHandles] = [:]
}

extension CoreMetrics.Timer {
    fileprivate func recordMilliseconds(_ milliseconds: Int) { recordNanoseconds(Int64(milliseconds) * 1_000_000) }
}
