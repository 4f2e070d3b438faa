public import Logging
public import ModelManagerCore
public import ModelManagerProviders
public import ModelManagerUsage
public import ServiceLifecycle
import Synchronization

/// Routes a request to its adapter and runs it: the part of a call that no transport knows.
/// The gRPC handlers (and later the HTTP face) all call this one piece.
public struct InvocationService: Sendable {
    public let invoker: Invoker
    public let usage: UsageService
    public let limits: InvocationLimits
    private let slots: CallSlots
    let logger: Logger

    let quotas: QuotaGate

    let auditor: Auditor

    let tasks: TaskQueue

    let cache: ResponseCache

    let metrics: GatewayMetrics

    /// Nil when tracing is off.
    let tracer: CallTracer?

    /// The response cache's hits, misses, evictions and size.
    public var cacheCounters: ResponseCache.Counters { cache.counters }

    /// What must run beside the faces: the in-process quota counters' write-behind, if any.
    public let services: [any Service]

    /// The quota counters calls reserve in (for reports of what a window has used).
    public var quotaCounters: any QuotaCounters { quotas.counters }

    init(
        router: Router, usage: UsageService, limits: InvocationLimits = InvocationLimits(),
        quotas: QuotaSettings = QuotaSettings(), tasks: TaskSettings = TaskSettings(),
        cache: CacheSettings = CacheSettings(), metrics: GatewayMetrics, tracer: CallTracer? = nil, auditor: Auditor,
        logger: Logger
    ) {
        self.metrics = metrics
        self.tracer = tracer
        self.cache = ResponseCache(
            settings: cache, shared: cache.shared ? SharedCacheStore(database: usage.repository.database) : nil)
        self.tasks = TaskQueue(store: TaskStore(repository: usage.repository), settings: tasks, logger: logger)
        self.auditor = auditor
        invoker = Invoker(router: router, observer: metrics)
        self.usage = usage
        self.limits = limits
        let relay = usage.relay
        let store = QuotaStore(database: usage.repository.database)
        // One process owns an SQLite ledger: its counters can live in memory. PostgreSQL may be
        // shared by several instances, which must count in it.
        let inProcess =
            usage.repository.database is SQLiteDatabase
            ? InProcessQuotaCounters(store: store, flushInterval: quotas.counterFlushInterval, logger: logger) : nil
        services = inProcess.map { [$0] } ?? []
        self.quotas = QuotaGate(
            store: store, counters: inProcess ?? store,
            alerts: QuotaAlertLog(database: usage.repository.database, sinks: usage.alertSinks), prices: usage.prices,
            settings: quotas, metrics: metrics, logger: logger
        ) { relay.wake() }
        slots = CallSlots(capacity: limits.maximumConcurrentCalls)
        self.logger = logger
    }

    /// Calls running now.
    public var runningCalls: Int { slots.inUse }

    public var router: Router { invoker.router }

    /// Runs `request`: deltas go to `emit` as they arrive; the completion, priced, is returned
    /// once the call's usage record is committed, for the face to send last (with the end of the
    /// call, in one write where it can). A failed call is recorded too. Throws only
    /// `ModelManagerError`.
    public func invoke(_ request: ModelRequest, context: InvocationContext, emit: ChunkSink)
        async throws(ModelManagerError) -> ResponseChunk
    {
        try await invoke(admitted: try await admit(request, context: context), context: context, emit: emit)
    }

    /// A request its credential may send, its quotas and rate limits reserved; the faces show
    /// its rate limits (HTTP `x-ratelimit-*` headers, the same gRPC trailers).
    public struct Admission: Sendable {
        public let request: ModelRequest
        let reservation: QuotaGate.Reservation?

        public var rateLimitHeaders: [(name: String, value: String)] { reservation?.rateLimitHeaders ?? [] }
    }

    /// Checks the request against its credential's grant and reserves its quotas.
    public func admit(_ request: ModelRequest, context: InvocationContext) async throws(ModelManagerError) -> Admission
    {
        var request = request
        do {
            try context.grant?.admit(&request)
            return Admission(
                request: request, reservation: try await quotas.reserve(request, keyID: context.grant?.keyID))
        } catch {
            if error.code == .permissionDenied { metrics.refused(.permission) }
            if [.permissionDenied, .resourceExhausted].contains(error.code) {
                auditor.denied(
                    credential: context.grant?.keyID.map { "key:\($0)" } ?? "jwt:\(context.tokenSubject ?? "")",
                    orgID: request.orgID, error: error, address: context.peerAddress())
            }
            throw error
        }
    }

    /// Runs an admitted request, as `invoke(_:context:emit:)` does. A task
    /// (`extra.enable_async_task`) is stored and answered with its id at once; a request the
    /// response cache serves is answered from it when it can be.
    public func invoke(admitted admission: Admission, context: InvocationContext, emit: ChunkSink)
        async throws(ModelManagerError) -> ResponseChunk
    {
        try await traced(admission.request, context: context) { context throws(ModelManagerError) in
            try await route(admission, context: context, emit: emit)
        }
    }

    /// Runs `body` under the call's own span when tracing is on (and the call has none yet).
    func traced(
        _ request: ModelRequest, context: InvocationContext,
        _ body: (InvocationContext) async throws(ModelManagerError) -> ResponseChunk
    ) async throws(ModelManagerError) -> ResponseChunk {
        guard let tracer, context.trace == nil else { return try await body(context) }
        var context = context
        let trace = tracer.start(request, context: context)
        context.trace = trace
        do {
            let final = try await body(context)
            CallTracer.finish(trace, .success(final))
            return final
        } catch {
            CallTracer.finish(trace, .failure(error))
            throw error
        }
    }

    private func route(_ admission: Admission, context: InvocationContext, emit: ChunkSink)
        async throws(ModelManagerError) -> ResponseChunk
    {
        if TaskQueue.isTask(admission.request) { return try await createTask(admission, context: context) }
        let policy: ResponseCache.Policy?
        do {
            policy = try cache.policy(for: admission.request)
        } catch {
            await quotas.settle(admission.reservation, tokens: 0, cost: nil, succeeded: false)
            throw error
        }
        guard let policy else { return try await invokeUncached(admission, context: context, emit: emit) }
        return try await invokeCaching(admission, policy: policy, context: context, emit: emit)
    }

    private func createTask(_ admission: Admission, context: InvocationContext) async throws(ModelManagerError)
        -> ResponseChunk
    {
        do {
            let (answer, created) = try await tasks.create(
                admission.request, reservation: admission.reservation, context: context)
            // A repeated idempotency key runs nothing: its reservation is given back.
            if !created { await quotas.settle(admission.reservation, tokens: 0, cost: nil, succeeded: false) }
            return answer
        } catch {
            await quotas.settle(admission.reservation, tokens: 0, cost: nil, succeeded: false)
            throw error
        }
    }

    /// Looks in this instance's cache, the shared tier and (asked for) the semantic cache, in
    /// that order; a miss is answered upstream and its answer cached.
    private func invokeCaching(
        _ admission: Admission, policy: ResponseCache.Policy, context: InvocationContext, emit: ChunkSink
    ) async throws(ModelManagerError) -> ResponseChunk {
        if let cached = cache.lookup(policy.key) {
            return try await answer(admission, from: cached, hit: "exact", context: context, emit: emit)
        }
        if cache.settings.shared {
            do {
                if let cached = try await cache.lookupShared(policy.key) {
                    return try await answer(admission, from: cached, hit: "exact", context: context, emit: emit)
                }
            } catch let error as ModelManagerError {
                throw error
            } catch {
                logger.warning("shared response cache unreadable; answering upstream", metadata: ["error": "\(error)"])
            }
        }
        var vector: [Float]?
        if let semantic = policy.semantic, let settings = cache.settings.semantic {
            vector = await embed(semantic.text, for: admission.request, settings: settings, context: context)
            if let vector, let near = cache.nearest(vector, in: semantic.bucket, threshold: settings.threshold) {
                return try await answer(admission, from: near.answer, hit: "semantic", context: context, emit: emit)
            }
        }
        cache.missed()
        let deltas = Mutex<[String]>([])
        let final = try await invokeUncached(admission, context: context) { chunks in
            deltas.withLock { $0 += chunks.map(\.content) }
            try await emit(chunks)
        }
        let fresh = ResponseCache.Answer(deltas: deltas.withLock { $0 }, completion: final)
        cache.store(fresh, policy: policy, vector: vector)
        if cache.settings.shared {
            do {
                try await cache.storeShared(fresh, policy: policy, orgID: admission.request.orgID)
            } catch {
                logger.warning("shared response cache not written", metadata: ["error": "\(error)"])
            }
        }
        return final
    }

    private func invokeUncached(_ admission: Admission, context: InvocationContext, emit: ChunkSink)
        async throws(ModelManagerError) -> ResponseChunk
    {
        if let key = admission.request.extra["idempotency_key"]?.stringValue, !key.isEmpty {
            return try await invokeOnce(admission, key: key, context: context, emit: emit)
        }
        return try await perform(admission, context: context, emit: emit, recording: .ledger)
    }

    /// Answers from the cache: a stream gets the deltas the answer first came in (or the whole
    /// answer as one item), a non-stream call the whole text. The call is recorded as a hit: no
    /// upstream tokens, no cost, and what the answer cost when it was paid for as saved.
    private func answer(
        _ admission: Admission, from cached: ResponseCache.Answer, hit kind: String, context: InvocationContext,
        emit: ChunkSink
    ) async throws(ModelManagerError) -> ResponseChunk {
        let started = ContinuousClock.now
        let request = admission.request
        var final = cached.completion
        if request.stream, !cached.deltas.isEmpty {
            try await Self.deliver(cached.deltas.map { ResponseChunk(content: $0) }, to: emit)
        } else if final.content.isEmpty {
            final.content = cached.deltas.joined()
        }
        let saved = final.cost
        final.cost = 0
        final.cacheHit = kind
        final.savedCost = saved
        var hit = record(
            request, context: context, final: nil, progress: CallProgress(), started: started, failure: nil)
        hit.provider = (final.servedBy?.provider ?? request.provider).rawValue
        hit.channel = (final.servedBy?.channel ?? request.channel).rawValue
        hit.model = final.servedBy?.model ?? request.model ?? ""
        hit.cost = 0
        hit.cacheHit = kind
        hit.savedCost = saved
        metrics.observe(hit, face: context.face)
        let committed = await usage.ledger.record(hit, deadline: context.deadline)
        await quotas.settle(admission.reservation, tokens: 0, cost: 0, succeeded: true)
        guard committed else {
            throw Self.withheld
        }
        return final
    }

    /// The prompt's unit vector from the semantic cache's embeddings route, called (and
    /// recorded, under the call's request id) for the caller's org; nil when it failed, and the
    /// call then goes on without a semantic lookup.
    private func embed(
        _ text: String, for request: ModelRequest, settings: SemanticCacheSettings, context: InvocationContext
    ) async -> [Float]? {
        var extra: [String: JSONValue] = ["model": .string(settings.model), "input": .string(text)]
        if let dimensions = settings.dimensions { extra["dimensions"] = .integer(Int64(dimensions)) }
        let embedding = ModelRequest(
            provider: settings.provider, channel: settings.channel, invokeType: .embeddings, orgID: request.orgID,
            userID: request.userID, clientType: request.clientType, extra: extra)
        do {
            let answer = try await perform(
                Admission(request: embedding, reservation: nil), context: context, emit: { _ in }, recording: .ledger)
            // OpenAI: data[0].embedding; Gemini: embedding.values.
            let raw = answer.rawResponse?.value
            let values =
                raw?["data"]?.arrayValue?.first?["embedding"]?.arrayValue ?? raw?["embedding"]?["values"]?.arrayValue
                ?? []
            return ResponseCache.unit(values.compactMap(\.doubleValue))
        } catch {
            logger.warning(
                "semantic cache: the prompt could not be embedded; the call goes on without a lookup",
                metadata: ["request_id": "\(context.requestID)", "error": "\(error.message)"])
            return nil
        }
    }

    /// A synchronous call with an idempotency key: the first with the key (per org, within
    /// `tasks.idempotency_hours`) runs, as a task this instance holds, and keeps its answer;
    /// the others get that answer (a stream: as one item) without calling upstream again. A
    /// failed call lets its key go, so that a retry with it runs again.
    private func invokeOnce(_ admission: Admission, key: String, context: InvocationContext, emit: ChunkSink)
        async throws(ModelManagerError) -> ResponseChunk
    {
        let registered: (id: String, created: Bool)
        do {
            registered = try await tasks.register(
                admission.request, reservation: admission.reservation, context: context, runHere: true)
        } catch {
            await quotas.settle(admission.reservation, tokens: 0, cost: nil, succeeded: false)
            throw error
        }
        guard registered.created else {
            await quotas.settle(admission.reservation, tokens: 0, cost: nil, succeeded: false)
            return try await tasks.outcome(of: registered.id, key: key, until: context.deadline)
        }
        let result = await tasks.holdingLease(registered.id) { () async -> Result<ResponseChunk, ModelManagerError> in
            do throws(ModelManagerError) {
                return .success(
                    try await perform(
                        admission, context: context, emit: emit,
                        recording: .task(id: registered.id, synchronous: true)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// No answer leaves without its record.
    static let withheld = ModelManagerError(
        .unavailable,
        "the answer was withheld because its usage record could not be committed in time (the usage ledger is slow or down); retry"
    )

    /// Where a call's usage record goes: the ledger (a caller waits for the answer), or a
    /// task's completion, written with the task's result in one transaction (`synchronous`: a
    /// call with an idempotency key, whose failure lets the key go).
    enum UsageDestination: Sendable {
        case ledger
        case task(id: String, synchronous: Bool)
    }

    /// What became of a call's record.
    private enum Recorded {
        case committed
        /// Not committed in time (the ledger is slow or down).
        case late
        /// Left to another run: the task was finished elsewhere, or this run was interrupted and
        /// the task given back. The reservation is settled there, not here.
        case elsewhere
    }

    /// Runs an admitted call upstream and records it at `recording`.
    func perform(_ admission: Admission, context: InvocationContext, emit: ChunkSink, recording: UsageDestination)
        async throws(ModelManagerError) -> ResponseChunk
    {
        var request = admission.request
        // The cache's instructions never go upstream (a task's stored request may carry them).
        if request.extra["cache"] != nil { request.extra["cache"] = nil }
        let reservation = admission.reservation
        do {
            try slots.acquire()
        } catch {
            await quotas.settle(reservation, tokens: 0, cost: nil, succeeded: false)
            throw error
        }
        defer { slots.release() }
        if request.stream { metrics.streamStarted() }
        defer { if request.stream { metrics.streamEnded() } }
        let started = ContinuousClock.now
        let progress = CallProgress()
        var final: ResponseChunk
        do {
            final = try await invoker.invoke(request, context: context) { deltas in
                progress.sawChunk()
                try await Self.deliver(deltas, to: emit)
            }
            progress.sawChunk()
        } catch {
            let failure = Self.normalize(error)
            let failed = record(
                request, context: context, final: nil, progress: progress, started: started, failure: failure)
            metrics.observe(failed, face: context.face)
            if await commit(failed, .failure(failure), to: recording, deadline: context.deadline, trace: context.trace)
                != .elsewhere
            {
                await quotas.settle(reservation, tokens: failed.totalTokens, cost: failed.cost, succeeded: false)
            }
            logger.warning(
                "invoke failed",
                metadata: Self.metadata(
                    request, context,
                    [
                        "code": "\(failure.code)", "error": "\(failure.message)",
                        "latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
                    ]))
            throw failure
        }
        final.currency = usage.prices.currency
        final.cost = final.usage.flatMap {
            usage.prices.cost(of: $0, model: final.servedBy?.model ?? request.model ?? "")
        }
        let succeeded = record(
            request, context: context, final: final, progress: progress, started: started, failure: nil)
        metrics.observe(succeeded, face: context.face)
        let recorded = await commit(
            succeeded, .success(final), to: recording, deadline: context.deadline, trace: context.trace)
        if recorded != .elsewhere {
            await quotas.settle(reservation, tokens: final.usage?.totalTokens ?? 0, cost: final.cost, succeeded: true)
        }
        guard recorded == .committed else {
            // No answer leaves without its record: the caller is told, and the record says so.
            logger.error(
                "answer withheld: its usage record was not committed in time",
                metadata: Self.metadata(
                    request, context, ["latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)"]))
            throw Self.withheld
        }
        logger.info(
            "invoke ok",
            metadata: Self.metadata(
                request, context, ["latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)"]))
        return final
    }

    private func commit(
        _ record: UsageRecord, _ outcome: Result<ResponseChunk, ModelManagerError>, to destination: UsageDestination,
        deadline: ContinuousClock.Instant?, trace: CallTrace?
    ) async -> Recorded {
        switch destination {
        case .ledger:
            let span = trace?.child("ledger commit", kind: .local)
            defer { span?.end() }
            return await usage.ledger.record(record, deadline: deadline) ? .committed : .late
        case .task(let id, let synchronous):
            if case .failure(let error) = outcome, error.code == .cancelled {
                // The run was stopped (the instance is shutting down): the task is given back
                // for another run, not failed.
                try? await tasks.store.release(id: id, owner: tasks.owner)
                return .elsewhere
            }
            do {
                return try await tasks.complete(
                    id, outcome: outcome, record: record, releasingKeyOnFailure: synchronous) ? .committed : .elsewhere
            } catch {
                // Its lease runs out and the task runs again: nothing is recorded twice.
                logger.error(
                    "task not finished: the ledger database refused its result",
                    metadata: ["task_id": "\(id)", "error": "\(error)"])
                return .elsewhere
            }
        }
    }

    /// What every line about a call says, beside `line`'s own. Built only for a line the
    /// configured level lets through (swift-log takes metadata as an autoclosure).
    private static func metadata(_ request: ModelRequest, _ context: InvocationContext, _ line: Logger.Metadata)
        -> Logger.Metadata
    {
        var metadata = line
        metadata["request_id"] = "\(context.requestID)"
        if let traceID = context.trace?.traceID { metadata["trace_id"] = "\(traceID)" }
        if let origin = context.originRequestID { metadata["origin_request_id"] = "\(origin)" }
        metadata["provider"] = "\(request.provider)"
        metadata["model"] = "\(request.model ?? "")"
        metadata["stream"] = "\(request.stream)"
        return metadata
    }

    /// Hands `deltas` to the caller's face. A face fails only when its caller went away (gRPC,
    /// HTTP and SSE alike): that is the caller's cancellation, never an upstream failure.
    private static func deliver(_ deltas: [ResponseChunk], to emit: ChunkSink) async throws(ModelManagerError) {
        do {
            try await emit(deltas)
        } catch {
            throw ModelManagerError(.cancelled, "the caller went away before the answer was complete", cause: error)
        }
    }

    private func record(
        _ request: ModelRequest, context: InvocationContext, final: ResponseChunk?, progress: CallProgress,
        started: ContinuousClock.Instant,
        failure: ModelManagerError?
    ) -> UsageRecord {
        let served = final?.servedBy
        return UsageRecord(
            requestID: context.requestID, originRequestID: context.originRequestID, orgID: request.orgID,
            userID: request.userID,
            clientType: request.clientType, provider: (served?.provider ?? request.provider).rawValue,
            channel: (served?.channel ?? request.channel).rawValue, invokeType: request.invokeType.rawValue,
            model: served?.model ?? request.model ?? "", usage: final?.usage ?? failure?.reportedUsage,
            cost: final?.cost
                ?? failure?.reportedUsage.flatMap { usage.prices.cost(of: $0, model: request.model ?? "") },
            currency: usage.prices.currency,
            latencyMilliseconds: Int((ContinuousClock.now - started).wholeMilliseconds),
            timeToFirstTokenMilliseconds: progress.firstChunkAt.map { Int(($0 - started).wholeMilliseconds) },
            stream: request.stream, success: failure == nil, error: failure.map { "\($0.code): \($0.message)" },
            metadata: context.metadata.mapValues { .string($0) }, tokenSubject: context.tokenSubject)
    }

    /// A non-stream answer: its completion, the one item.
    public func invokeOnce(_ request: ModelRequest, context: InvocationContext) async throws(ModelManagerError)
        -> ResponseChunk
    {
        var single = request
        single.stream = false
        return try await invoke(single, context: context) { _ in }
    }

    /// Batch items, at most `limits.batchConcurrency` at a time, answered in request order;
    /// each fails on its own. An empty batch or one over `limits.maximumBatchItems` is refused whole.
    public func invokeBatch(_ requests: [ModelRequest], context: InvocationContext) async throws(ModelManagerError)
        -> [Result<ResponseChunk, ModelManagerError>]
    {
        guard !requests.isEmpty else { throw ModelManagerError(.invalidArgument, "batch request has no items") }
        guard requests.count <= limits.maximumBatchItems else {
            throw ModelManagerError(
                .invalidArgument,
                "batch request has \(requests.count) items; at most \(limits.maximumBatchItems) are accepted")
        }
        var results = [Result<ResponseChunk, ModelManagerError>](
            repeating: .failure(ModelManagerError(.internalError, "batch item did not run")), count: requests.count)
        // Swift 6.3.1 -O miscompiled a `do throws(E) { return (index, .success(try await …)) }`
        // child task (every index came back 0): each child returns a BatchItemOutcome built by
        // one plain function instead.
        await withTaskGroup(of: BatchItemOutcome.self) { group in
            var next = 0
            while next < min(limits.batchConcurrency, requests.count) {
                let index = next
                group.addTask { await runBatchItem(index, requests[index], context: context) }
                next += 1
            }
            for await outcome in group {
                results[outcome.index] = outcome.result
                guard next < requests.count else { continue }
                let index = next
                group.addTask { await runBatchItem(index, requests[index], context: context) }
                next += 1
            }
        }
        return results
    }

    private func runBatchItem(_ index: Int, _ request: ModelRequest, context: InvocationContext) async
        -> BatchItemOutcome
    {
        let result: Result<ResponseChunk, ModelManagerError>
        do {
            result = .success(try await invokeOnce(request, context: context))
        } catch {
            result = .failure(error)
        }
        return BatchItemOutcome(index: index, result: result)
    }

    static func normalize(_ error: any Error) -> ModelManagerError {
        switch error {
        case let error as ModelManagerError: error
        case is CancellationError: ModelManagerError(.cancelled, "the call was cancelled")
        default: ModelManagerError(.internalError, "unexpected failure: \(type(of: error))", cause: error)
        }
    }
}

/// One finished batch item and its place in the request.
struct BatchItemOutcome: Sendable {
    var index: Int
    var result: Result<ResponseChunk, ModelManagerError>
}

/// When a running call's first item came from the upstream (its time to first token).
final class CallProgress: Sendable {
    private let first = Mutex<ContinuousClock.Instant?>(nil)

    func sawChunk() {
        first.withLock { if $0 == nil { $0 = .now } }
    }

    var firstChunkAt: ContinuousClock.Instant? { first.withLock { $0 } }
}
