import Foundation
import Logging
import ModelManagerCore
import ModelManagerGRPC
import ModelManagerWire
import Tracing

/// What every call shares: the channel, tokens, ids, the retry and fallback policies and the
/// circuit breaker. One `perform` runs every unary call (invoke, batch, task status) over gRPC
/// with retries, falling back to HTTP where the policies say so.
final class ClientCore: Sendable {
    let configuration: ClientConfiguration
    let channel: GRPCChannel
    let tokens: TokenSource
    let breaker: CircuitBreaker?
    let fallback: HTTPFallback?
    let logger: Logger

    enum Method: String {
        case invoke = "/model_service.ModelService/Invoke"
        case batchInvoke = "/model_service.ModelService/BatchInvoke"
        case getTaskStatus = "/model_service.ModelService/GetTaskStatus"
        case batchGetTaskStatus = "/model_service.ModelService/BatchGetTaskStatus"
    }

    init(configuration: ClientConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        tokens = TokenSource(configuration: configuration)
        channel = GRPCChannel(
            configuration: .init(
                target: configuration.serverAddress, tls: configuration.useTLS ? configuration.tls : nil,
                arguments: configuration.channelArguments))
        let resilience = configuration.resilience
        if resilience.isActive, let url = resilience.httpFallbackURL {
            fallback = HTTPFallback(baseURL: url)
            breaker = CircuitBreaker(
                threshold: resilience.circuitBreakerThreshold, timeout: resilience.circuitBreakerTimeout,
                fallbackURL: url)
        } else {
            fallback = nil
            breaker = nil
        }
    }

    /// The ids of one logical call: ours (the caller's, or new) and its origin.
    struct IDs: Sendable {
        var requestID: String
        var originRequestID: String?

        init(caller: String?) {
            requestID = caller ?? UUIDText.random()
            originRequestID = caller ?? ModelManagerRequestContext.originRequestID
        }
    }

    /// The identity a token is minted for.
    struct Caller: Sendable {
        var orgID = ""
        var userID = ""
    }

    func metadata(_ ids: IDs, caller: Caller, freshToken: Bool) -> Metadata {
        var metadata = Metadata()
        metadata.append("x-request-id", ids.requestID)
        if let origin = ids.originRequestID { metadata.append("x-origin-request-id", origin) }
        if let key = configuration.apiKey {
            metadata.append("api-key", key.revealed)
        } else if let authorization = tokens.authorization(
            orgID: caller.orgID, userID: caller.userID, fresh: freshToken)
        {
            metadata.append("authorization", authorization)
        }
        for (name, value) in Self.traceContext() { metadata.append(name, value) }
        return metadata
    }

    /// The caller's trace (its task's ServiceContext), as the W3C headers its tracing system
    /// writes (swift-otel's `traceparent`, `tracestate`): the gateway's spans join it. Nothing
    /// when the program traces nothing.
    static func traceContext() -> [(String, String)] {
        guard let context = ServiceContext.current else { return [] }
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: TraceHeaderInjector())
        return headers.sorted { $0.key < $1.key }
    }

    func httpHeaders(_ ids: IDs, caller: Caller) -> [(String, String)] {
        var headers = [("X-Request-ID", ids.requestID)]
        if let origin = ids.originRequestID { headers.append(("X-Origin-Request-ID", origin)) }
        headers += Self.traceContext()
        if let authorization = configuration.apiKey.map({ "Bearer \($0.revealed)" })
            ?? tokens.authorization(orgID: caller.orgID, userID: caller.userID)
        {
            headers.append(("Authorization", authorization))
        }
        return headers
    }

    // MARK: the resilient unary call

    /// Runs a call: straight to HTTP while the circuit is open; otherwise gRPC with retries by
    /// status, one token refresh on UNAUTHENTICATED, and HTTP fallback where the policy allows;
    /// all within the call's deadline.
    func perform<Value: Sendable>(
        _ ids: IDs, caller: Caller, timeout: Duration?,
        grpc: (Metadata, Duration) async throws(ModelManagerClientError) -> Value,
        http: ((Duration) async throws(ModelManagerClientError) -> Value)?
    ) async throws(ModelManagerClientError) -> Value {
        let deadline = ContinuousClock.now + (timeout ?? configuration.timeout)
        let http = fallback == nil ? nil : http
        if let http, let breaker, !breaker.allowsGRPC() {
            logger.debug("circuit open: calling the HTTP fallback", metadata: ["request_id": "\(ids.requestID)"])
            return try await http(deadline - .now)
        }
        var attempt = 0
        var refreshed = false
        while true {
            if Task.isCancelled {
                throw .cancelledByCaller(requestID: ids.requestID, originRequestID: ids.originRequestID)
            }
            do {
                let value = try await grpc(
                    metadata(ids, caller: caller, freshToken: refreshed), max(.milliseconds(1), deadline - .now))
                breaker?.recordSuccess()
                return value
            } catch {
                if Task.isCancelled {
                    throw .cancelledByCaller(requestID: ids.requestID, originRequestID: ids.originRequestID)
                }
                let isNetworkFailure = [.unavailable, .cancelled].contains(error.status)
                // A refusal that lasts past the deadline (a quota's reset) is final: the HTTP face
                // would refuse the same, and waiting cannot help.
                let outlastsDeadline = error.retryAfter.map { $0 >= deadline - .now } ?? false
                if let http, !outlastsDeadline, configuration.resilience.fastFallback,
                    configuration.resilience.fallback.shouldFallBack(status: error.status, attempt: attempt)
                {
                    if isNetworkFailure { breaker?.recordFailure() }
                    logger.warning(
                        "gRPC failed; trying the HTTP fallback",
                        metadata: ["request_id": "\(ids.requestID)", "status": "\(error.status)"])
                    do {
                        return try await http(max(.milliseconds(1), deadline - .now))
                    } catch let fallbackError {
                        logger.warning(
                            "fallback to HTTP failed",
                            metadata: ["request_id": "\(ids.requestID)", "error": "\(fallbackError.message)"])
                        throw error
                    }
                }
                let decision = configuration.retry.decide(
                    status: error.status, attempt: attempt, remaining: deadline - .now, retryAfter: error.retryAfter,
                    canRefreshToken: tokens.canRefresh,
                    alreadyRefreshed: refreshed, streamYieldedChunks: false, random: Double.random(in: 0...1))
                switch decision {
                case .refreshTokenAndRetry:
                    logger.info(
                        "token rejected; retrying once with a fresh one", metadata: ["request_id": "\(ids.requestID)"])
                    refreshed = true
                case .retry(let delay):
                    logger.info(
                        "retrying",
                        metadata: [
                            "request_id": "\(ids.requestID)", "status": "\(error.status)", "attempt": "\(attempt + 1)",
                            "delay_ms": "\(delay.wholeMilliseconds)",
                        ])
                    attempt += 1
                    do {
                        try await Task.sleep(for: delay)
                    } catch {
                        throw .cancelledByCaller(requestID: ids.requestID, originRequestID: ids.originRequestID)
                    }
                case .fail:
                    if isNetworkFailure { breaker?.recordFailure() }
                    throw error
                }
            }
        }
    }

    /// One gRPC call that answers one message (Invoke non-stream, the unary methods).
    func unary(_ method: Method, _ message: EncodedMessage, metadata: Metadata, timeout: Duration, ids: IDs)
        async throws(ModelManagerClientError) -> ReceivedMessage
    {
        let call = try makeCall(method, timeout: timeout, ids: ids)
        let (reply, status) = await withTaskCancellationHandler {
            _ = await call.start(metadata: metadata, message: OutgoingMessage(message))
            let reply = await call.receiveMessage()
            let (status, trailers) = await call.receiveStatus()
            return (reply, (status, trailers))
        } onCancel: {
            call.cancel()
        }
        guard status.0.isOK else { throw Self.error(status.0, trailers: status.1, ids: ids) }
        guard let reply else {
            throw ModelManagerClientError(
                status: .internalError, message: "the server ended the call without an answer", requestID: ids.requestID
            )
        }
        return reply
    }

    func makeCall(_ method: Method, timeout: Duration, ids: IDs) throws(ModelManagerClientError) -> ClientCall {
        guard let call = channel.makeCall(path: method.rawValue, timeout: timeout) else {
            throw ModelManagerClientError(
                status: .failedPrecondition, message: "the client is closed", requestID: ids.requestID)
        }
        return call
    }

    static func error(_ status: GRPCStatus, trailers: Metadata, ids: IDs) -> ModelManagerClientError {
        var error = ModelManagerClientError(
            status: ModelManagerError.Code(grpcStatus: status.code),
            message: status.message.isEmpty ? status.code.name : status.message,
            requestID: ids.requestID, originRequestID: ids.originRequestID)
        error.retryAfter = trailers["retry-after"].flatMap(Double.init).flatMap { Duration.clampedSeconds($0) }
        return error
    }

    static func decode<Value>(_ ids: IDs, _ body: () throws(ModelManagerError) -> Value) throws(ModelManagerClientError)
        -> Value
    {
        do {
            return try body()
        } catch {
            throw ModelManagerClientError(
                status: .internalError, message: "the server's answer does not decode: \(error.message)",
                requestID: ids.requestID)
        }
    }
}

private struct TraceHeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key.lowercased()] = value
    }
}
