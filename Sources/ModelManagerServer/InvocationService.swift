public import Logging
public import ModelManagerCore
public import ModelManagerProviders
public import ModelManagerUsage

/// Routes a request to its adapter and runs it: the part of a call that no transport knows.
/// The gRPC handlers (and later the HTTP face) all call this one piece.
public struct InvocationService: Sendable {
    public let invoker: Invoker
    public let usage: UsageService
    let logger: Logger

    public init(router: Router, usage: UsageService, logger: Logger) {
        invoker = Invoker(router: router)
        self.usage = usage
        self.logger = logger
    }

    public var router: Router { invoker.router }

    /// Runs `request`; chunks go to `emit` as they arrive, except the final one, which is sent
    /// only once the call's usage record is committed. A failed call is recorded too.
    /// Throws only `ModelManagerError`.
    public func invoke(_ request: ModelRequest, context: InvocationContext, emit: ChunkSink) async throws(ModelManagerError) {
        let started = ContinuousClock.now
        var logger = logger
        logger[metadataKey: "request_id"] = "\(context.requestID)"
        if let origin = context.originRequestID { logger[metadataKey: "origin_request_id"] = "\(origin)" }
        logger[metadataKey: "provider"] = "\(request.provider)"
        logger[metadataKey: "model"] = "\(request.model ?? "")"
        logger[metadataKey: "stream"] = "\(request.stream)"
        let progress = CallProgress()
        do {
            try await invoker.invoke(request, context: context) { chunk in
                progress.sawChunk()
                guard !chunk.isFinal else {
                    progress.hold(chunk)
                    return
                }
                try await emit(chunk)
            }
        } catch {
            let failure = Self.normalize(error)
            await usage.ledger.record(record(request, context: context, final: nil, progress: progress, started: started, failure: failure))
            logger.warning(
                "invoke failed",
                metadata: ["code": "\(failure.code)", "error": "\(failure.message)", "latency_ms": "\(Self.milliseconds(since: started))"])
            throw failure
        }
        var final = progress.held ?? ResponseChunk(isFinal: true)
        final.currency = usage.prices.currency
        final.cost = final.usage.flatMap { usage.prices.cost(of: $0, model: final.servedBy?.model ?? request.model ?? "") }
        await usage.ledger.record(record(request, context: context, final: final, progress: progress, started: started, failure: nil))
        logger.info("invoke ok", metadata: ["latency_ms": "\(Self.milliseconds(since: started))"])
        do {
            try await emit(final)
        } catch {
            throw Self.normalize(error)
        }
    }

    private func record(
        _ request: ModelRequest, context: InvocationContext, final: ResponseChunk?, progress: CallProgress, started: ContinuousClock.Instant,
        failure: ModelManagerError?
    ) -> UsageRecord {
        let served = final?.servedBy
        return UsageRecord(
            requestID: context.requestID, originRequestID: context.originRequestID, orgID: request.orgID, userID: request.userID,
            clientType: request.clientType, provider: (served?.provider ?? request.provider).rawValue,
            channel: (served?.channel ?? request.channel).rawValue, invokeType: request.invokeType.rawValue,
            model: served?.model ?? request.model ?? "", usage: final?.usage, cost: final?.cost, currency: usage.prices.currency,
            latencyMilliseconds: Int(Self.milliseconds(since: started)),
            timeToFirstTokenMilliseconds: progress.firstChunkAt.map { Int(Self.milliseconds(from: started, to: $0)) },
            stream: request.stream, success: failure == nil, error: failure.map { "\($0.code): \($0.message)" },
            metadata: context.metadata.mapValues { .string($0) })
    }

    /// Collects a non-stream answer: exactly one chunk.
    public func invokeOnce(_ request: ModelRequest, context: InvocationContext) async throws(ModelManagerError) -> ResponseChunk {
        var single = request
        single.stream = false
        let collector = ChunkCollector()
        try await invoke(single, context: context) { chunk in collector.append(chunk) }
        return collector.merged
    }

    /// Batch items, run concurrently, answered in request order; each fails on its own.
    public func invokeBatch(_ requests: [ModelRequest], context: InvocationContext) async -> [Result<ResponseChunk, ModelManagerError>] {
        await withTaskGroup(of: (Int, Result<ResponseChunk, ModelManagerError>).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask {
                    do throws(ModelManagerError) {
                        return (index, .success(try await invokeOnce(request, context: context)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var ordered = [Result<ResponseChunk, ModelManagerError>?](repeating: nil, count: requests.count)
            for await (index, result) in group { ordered[index] = result }
            return ordered.map { $0! }
        }
    }

    static func normalize(_ error: any Error) -> ModelManagerError {
        switch error {
        case let error as ModelManagerError: error
        case is CancellationError: ModelManagerError(.cancelled, "the call was cancelled")
        default: ModelManagerError(.internalError, "unexpected failure: \(type(of: error))", cause: error)
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        milliseconds(from: start, to: .now)
    }

    static func milliseconds(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> Int64 {
        let elapsed = end - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}

import Synchronization

/// What a running call has produced so far: when its first chunk came, and its held final chunk.
final class CallProgress: Sendable {
    private let state = Mutex<(first: ContinuousClock.Instant?, held: ResponseChunk?)>((nil, nil))

    func sawChunk() {
        state.withLock { if $0.first == nil { $0.first = .now } }
    }

    func hold(_ chunk: ResponseChunk) { state.withLock { $0.held = chunk } }

    var firstChunkAt: ContinuousClock.Instant? { state.withLock { $0.first } }
    var held: ResponseChunk? { state.withLock { $0.held } }
}

/// Joins the chunks of an answer into one: text concatenated, the last usage and raw response kept.
final class ChunkCollector: Sendable {
    private let chunks = Mutex(ResponseChunk())

    func append(_ chunk: ResponseChunk) {
        chunks.withLock { merged in
            merged.content += chunk.content
            if let usage = chunk.usage { merged.usage = usage }
            if let raw = chunk.rawResponse { merged.rawResponse = raw }
            if let servedBy = chunk.servedBy { merged.servedBy = servedBy }
            if chunk.isFinal {
                merged.isFinal = true
                merged.cost = chunk.cost
                merged.currency = chunk.currency
            }
        }
    }

    var merged: ResponseChunk { chunks.withLock { $0 } }
}
