import AsyncHTTPClient
import ModelManagerCore
import ModelManagerGRPC
import ModelManagerWire
import NIOCore
import Synchronization

/// The chunks of a streamed answer.
public struct ModelResponseStream: AsyncSequence, Sendable {
    public typealias Element = ModelResponse
    let session: StreamSession

    public func makeAsyncIterator() -> Iterator { Iterator(session: session) }

    public struct Iterator: AsyncIteratorProtocol {
        let session: StreamSession

        public mutating func next() async throws(ModelManagerClientError) -> ModelResponse? {
            try await session.next()
        }
    }
}

/// One streamed call: gRPC, or the HTTP fallback's SSE while the circuit is open (or when fast
/// fallback applies). Until the first chunk reaches the caller, a failure is retried (or falls
/// back) like a unary call; after it, never: a stream is not silently replayed.
final class StreamSession: @unchecked Sendable {
    private enum State {
        case idle
        case grpc(ClientCall)
        case http(HTTPClientResponse.Body.AsyncIterator, SSEParser, [SSEParser.Event])
        case done
    }

    private let core: ClientCore
    private let request: ModelRequest
    private let ids: ClientCore.IDs
    private let deadline: ContinuousClock.Instant
    private var state = State.idle
    private var yielded = false
    private var attempt = 0
    private var refreshed = false

    init(core: ClientCore, request: ModelRequest, ids: ClientCore.IDs, timeout: Duration?) {
        self.core = core
        self.request = request
        self.ids = ids
        deadline = .now + (timeout ?? core.configuration.timeout)
    }

    deinit {
        if case .grpc(let call) = state { call.cancel() }
    }

    func next() async throws(ModelManagerClientError) -> ModelResponse? {
        while true {
            switch state {
            case .done:
                return nil
            case .idle:
                try await start()
            case .grpc(let call):
                if let chunk = try await nextGRPC(call) { return chunk }
            case .http(var body, var parser, var pending):
                if !pending.isEmpty {
                    let event = pending.removeFirst()
                    state = .http(body, parser, pending)
                    if event.data == "[DONE]" {
                        state = .done
                        return nil
                    }
                    guard let json = try? JSONValue(parsing: event.data) else { continue }
                    yielded = true
                    return ModelResponse(json: json)
                }
                let buffer: ByteBuffer?
                do {
                    buffer = try await body.next()
                } catch {
                    state = .done
                    throw HTTPFallback.error(
                        .unavailable, "the HTTP fallback stream failed: \(type(of: error))",
                        core.httpHeaders(ids, caller: caller))
                }
                guard let buffer else {
                    state = .done
                    return nil
                }
                do {
                    pending = try parser.feed(buffer.readableBytesView)
                } catch {
                    state = .done
                    throw HTTPFallback.error(
                        .unavailable, "the HTTP fallback stream failed: \(error)", core.httpHeaders(ids, caller: caller)
                    )
                }
                state = .http(body, parser, pending)
            }
        }
    }

    private var caller: ClientCore.Caller { ClientCore.Caller(orgID: request.orgID, userID: request.userID) }

    private func start() async throws(ModelManagerClientError) {
        if let fallback = core.fallback, let breaker = core.breaker, !breaker.allowsGRPC() {
            try await startHTTP(fallback)
            return
        }
        let call = try core.makeCall(.invoke, timeout: max(.milliseconds(1), deadline - .now), ids: ids)
        let metadata = core.metadata(ids, caller: caller, freshToken: refreshed)
        state = .grpc(call)
        _ = await call.start(metadata: metadata, message: OutgoingMessage(ModelServiceCodec.encodeRequestItem(request)))
    }

    private func startHTTP(_ fallback: HTTPFallback) async throws(ModelManagerClientError) {
        let response = try await fallback.stream(
            request, headers: core.httpHeaders(ids, caller: caller), timeout: max(.milliseconds(1), deadline - .now))
        state = .http(response.body.makeAsyncIterator(), SSEParser(), [])
    }

    /// The next chunk of the gRPC stream; nil after a failure that was retried or sent to HTTP.
    private func nextGRPC(_ call: ClientCall) async throws(ModelManagerClientError) -> ModelResponse? {
        let chunkTimeout = core.configuration.streamChunkTimeout
        let watchdogFired = Flag()
        let watchdog = Task {
            try await Task.sleep(for: chunkTimeout)
            watchdogFired.value.store(true, ordering: .relaxed)
            call.cancel()
        }
        let message = await withTaskCancellationHandler {
            await call.receiveMessage()
        } onCancel: {
            call.cancel()
        }
        watchdog.cancel()
        let timedOut = watchdogFired.value.load(ordering: .relaxed)
        if let message {
            if !yielded { core.breaker?.recordSuccess() }
            yielded = true
            return try ClientCore.decode(ids) { () throws(ModelManagerError) in
                ModelResponse(
                    try message.withUnsafeBytes { buffer throws(ModelManagerError) in
                        try ModelServiceCodec.decodeResponseItem(buffer)
                    })
            }
        }
        let (status, trailers) = await call.receiveStatus()
        state = .done
        if Task.isCancelled { throw .cancelledByCaller(requestID: ids.requestID, originRequestID: ids.originRequestID) }
        guard !status.isOK else { return nil }
        var error = ClientCore.error(status, trailers: trailers, ids: ids)
        if timedOut {
            error = ModelManagerClientError(
                status: .deadlineExceeded, message: "no stream chunk within \(chunkTimeout)", requestID: ids.requestID)
        }
        try await recover(from: error)
        return nil
    }

    /// Before the first chunk: fall back, refresh the token, or retry, as a unary call would.
    private func recover(from error: ModelManagerClientError) async throws(ModelManagerClientError) {
        guard !yielded else { throw error }
        let resilience = core.configuration.resilience
        let isNetworkFailure = [.unavailable, .cancelled].contains(error.status)
        if let fallback = core.fallback, resilience.fastFallback,
            resilience.fallback.shouldFallBack(status: error.status, attempt: attempt)
        {
            if isNetworkFailure { core.breaker?.recordFailure() }
            do {
                try await startHTTP(fallback)
                return
            } catch {
                throw error
            }
        }
        let decision = core.configuration.retry.decide(
            status: error.status, attempt: attempt, remaining: deadline - .now, retryAfter: error.retryAfter,
            canRefreshToken: core.tokens.canRefresh,
            alreadyRefreshed: refreshed, streamYieldedChunks: yielded, random: Double.random(in: 0...1))
        switch decision {
        case .refreshTokenAndRetry:
            refreshed = true
            state = .idle
        case .retry(let delay):
            attempt += 1
            try? await Task.sleep(for: delay)
            state = .idle
        case .fail:
            if isNetworkFailure { core.breaker?.recordFailure() }
            throw error
        }
    }
}

/// A flag one task sets and another reads.
final class Flag: Sendable {
    let value = Atomic(false)
}
