import NIOCore
import NIOHTTP1
import Synchronization

/// One exchange on a connection: who waits for the head, and whether its body was read to the end.
final class UpstreamExchange: Sendable {
    let bodyEnded = Atomic<Bool>(false)
}

/// Why an upstream exchange failed below HTTP.
package enum UpstreamTransportError: Error, CustomStringConvertible {
    /// The call's time ran out while the upstream was still answering.
    case timedOut
    /// The connection closed before the answer was complete.
    case closedBeforeAnswer
    /// `limits.upstream_connections_per_host` connections to this host are busy.
    case tooManyConnections(host: String, limit: Int)

    package var description: String {
        switch self {
        case .timedOut: "the upstream did not answer in time"
        case .closedBeforeAnswer: "the upstream closed the connection before the answer was complete"
        case .tooManyConnections(let host, let limit): "all \(limit) connections to \(host) are busy"
        }
    }
}

/// A keep-alive HTTP/1.1 connection to an upstream, and the handler at the end of its pipeline.
/// Everything but `eventLoop` and `channel` is touched on the connection's event loop only: a
/// request is handed over with one `execute`, its answer comes back from the loop's own reads.
final class UpstreamConnection: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case idle
        case awaitingHead(UpstreamExchange, CheckedContinuation<UpstreamResponse, any Error>, keepAlive: Bool)
        case body(UpstreamExchange, UpstreamBody.Producer.Source, keepAlive: Bool)
        case closed
    }

    let eventLoop: any EventLoop
    let origin: UpstreamAddress.Origin
    private let pool: UpstreamConnections
    private var context: ChannelHandlerContext?
    private var state = State.idle
    private var deadline: Scheduled<Void>?
    /// The reader holds as many buffers as it may: reads wait until it asks for more.
    private var readerFull = false
    private var readWaiting = false
    private var idleSince = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(eventLoop: any EventLoop, origin: UpstreamAddress.Origin, pool: UpstreamConnections) {
        self.eventLoop = eventLoop
        self.origin = origin
        self.pool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Sends the request; `continuation` gets the answer's head, or the failure.
    func start(
        _ exchange: UpstreamExchange, head: HTTPRequestHead, body: ByteBuffer, deadline: NIODeadline,
        continuation: CheckedContinuation<UpstreamResponse, any Error>
    ) {
        guard case .idle = state, let context, context.channel.isActive else {
            continuation.resume(throwing: UpstreamTransportError.closedBeforeAnswer)
            return
        }
        state = .awaitingHead(exchange, continuation, keepAlive: true)
        self.deadline = eventLoop.scheduleTask(deadline: deadline) { [self] in fail(UpstreamTransportError.timedOut) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The caller's task was cancelled.
    func cancel(_ exchange: UpstreamExchange) {
        guard isCurrent(exchange) else { return }
        fail(CancellationError())
    }

    /// The body's reader stopped before its end (it was cancelled, or read all it needed): the
    /// rest of the answer is not waited for, and the connection is not reused.
    func readerLeft(_ exchange: UpstreamExchange) {
        guard isCurrent(exchange) else { return }
        fail(CancellationError())
    }

    /// Closes the connection unless an exchange is on it (which closes or returns it when done).
    func closeIfIdle() {
        if case .idle = state { fail(UpstreamTransportError.closedBeforeAnswer) }
    }

    /// The current exchange's reader has room again.
    func resumeReading(_ exchange: UpstreamExchange) {
        guard isCurrent(exchange) else { return }
        resumeReading()
    }

    private func resumeReading() {
        readerFull = false
        if readWaiting, let context {
            readWaiting = false
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead(let exchange, let continuation, _)):
            // 1xx answers are interim (101 is never asked for): the real head follows.
            if head.status.code < 200 { return }
            let body = UpstreamBody.Producer.makeSequence(
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16), finishOnDeinit: false,
                delegate: UpstreamBodyDemand(connection: self, exchange: exchange))
            state = .body(exchange, body.source, keepAlive: head.isKeepAlive)
            continuation.resume(
                returning: UpstreamResponse(
                    status: Int(head.status.code), headers: head.headers, body: UpstreamBody(producer: body.sequence)))
        case (.body(let part), .body(_, let source, _)):
            if source.yield(part) == .stopProducing { readerFull = true }
        case (.end, .body(let exchange, let source, let keepAlive)):
            exchange.bodyEnded.store(true, ordering: .releasing)
            deadline?.cancel()
            deadline = nil
            state = .idle
            source.finish()
            // What arrives next belongs to no reader yet: the connection reads again (and so
            // notices when the upstream closes it while it sits idle).
            resumeReading()
            if keepAlive {
                idleSince = .now()
                pool.release(self)
                scheduleIdleCheck()
            } else {
                context.close(promise: nil)
            }
        case (_, .closed):
            break
        default:
            // Bytes with no exchange waiting for them: the connection cannot be trusted again.
            fail(UpstreamTransportError.closedBeforeAnswer)
        }
    }

    func read(context: ChannelHandlerContext) {
        if readerFull {
            readWaiting = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(UpstreamTransportError.closedBeforeAnswer)
        context.fireChannelInactive()
    }

    /// Ends the exchange in progress with `error`, closes the connection and leaves the pool.
    private func fail(_ error: any Error) {
        let previous = state
        state = .closed
        deadline?.cancel()
        deadline = nil
        idleCheck?.cancel()
        idleCheck = nil
        switch previous {
        case .awaitingHead(_, let continuation, _): continuation.resume(throwing: error)
        case .body(_, let source, _): source.finish(error)
        case .idle: break
        case .closed: return
        }
        pool.forget(self)
        context?.close(promise: nil)
    }

    private func isCurrent(_ exchange: UpstreamExchange) -> Bool {
        switch state {
        case .awaitingHead(let current, _, _), .body(let current, _, _): current === exchange
        case .idle, .closed: false
        }
    }

    /// Closes the connection once it has sat unused for the pool's idle time. The check runs on
    /// the loop and never needs cancelling from a caller's thread: a connection taken in the
    /// meantime is simply not found idle.
    private func scheduleIdleCheck() {
        guard idleCheck == nil else { return }
        idleCheck = eventLoop.scheduleTask(deadline: idleSince + pool.idleTimeout) { [self] in
            idleCheck = nil
            guard case .idle = state else { return }
            if idleSince + pool.idleTimeout <= .now() {
                if pool.takeIfIdle(self) { fail(UpstreamTransportError.closedBeforeAnswer) }
            } else {
                scheduleIdleCheck()
            }
        }
    }
}

/// Tells the connection when its reader wants more, and when it has gone.
struct UpstreamBodyDemand: NIOAsyncSequenceProducerDelegate {
    let connection: UpstreamConnection
    let exchange: UpstreamExchange

    func produceMore() {
        connection.eventLoop.execute { [connection, exchange] in connection.resumeReading(exchange) }
    }

    func didTerminate() {
        // After a body read to its end there is nothing to do, and no reason to wake the loop.
        guard !exchange.bodyEnded.load(ordering: .acquiring) else { return }
        connection.eventLoop.execute { [connection, exchange] in connection.readerLeft(exchange) }
    }
}
