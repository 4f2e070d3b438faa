public import Logging
public import ModelManagerCore
public import ModelManagerProviders

/// Routes a request to its adapter and runs it: the part of a call that no transport knows.
/// The gRPC handlers (and later the HTTP face) all call this one piece.
public struct InvocationService: Sendable {
    public let invoker: Invoker
    let logger: Logger

    public init(router: Router, logger: Logger) {
        invoker = Invoker(router: router)
        self.logger = logger
    }

    public var router: Router { invoker.router }

    /// Runs `request`; chunks go to `emit` as they arrive. Throws only `ModelManagerError`.
    public func invoke(_ request: ModelRequest, context: InvocationContext, emit: ChunkSink) async throws(ModelManagerError) {
        let started = ContinuousClock.now
        var logger = logger
        logger[metadataKey: "request_id"] = "\(context.requestID)"
        if let origin = context.originRequestID { logger[metadataKey: "origin_request_id"] = "\(origin)" }
        logger[metadataKey: "provider"] = "\(request.provider)"
        logger[metadataKey: "model"] = "\(request.model ?? "")"
        logger[metadataKey: "stream"] = "\(request.stream)"
        do {
            try await invoker.invoke(request, context: context, emit: emit)
            logger.info("invoke ok", metadata: ["latency_ms": "\(Self.milliseconds(since: started))"])
        } catch {
            let failure = Self.normalize(error)
            logger.warning(
                "invoke failed",
                metadata: [
                    "code": "\(failure.code)", "error": "\(failure.message)",
                    "latency_ms": "\(Self.milliseconds(since: started))",
                ])
            throw failure
        }
    }

    /// Collects a non-stream answer: exactly one chunk.
    public func invokeOnce(_ request: ModelRequest, context: InvocationContext) async throws(ModelManagerError) -> ResponseChunk {
        var single = request
        single.stream = false
        let collector = ChunkCollector()
        try await invoke(single, context: context) { chunk in collector.append(chunk) }
        return collector.merged
    }

    static func normalize(_ error: any Error) -> ModelManagerError {
        switch error {
        case let error as ModelManagerError: error
        case is CancellationError: ModelManagerError(.cancelled, "the call was cancelled")
        default: ModelManagerError(.internalError, "unexpected failure: \(type(of: error))", cause: error)
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}

import Synchronization

/// Joins the chunks of an answer into one: text concatenated, the last usage and raw response kept.
final class ChunkCollector: Sendable {
    private let chunks = Mutex(ResponseChunk())

    func append(_ chunk: ResponseChunk) {
        chunks.withLock { merged in
            merged.content += chunk.content
            if let usage = chunk.usage { merged.usage = usage }
            if let raw = chunk.rawResponse { merged.rawResponse = raw }
            if let servedBy = chunk.servedBy { merged.servedBy = servedBy }
        }
    }

    var merged: ResponseChunk { chunks.withLock { $0 } }
}
