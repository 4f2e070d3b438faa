import ModelManagerCore
package import NIOCore
package import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The gateway's connections to its upstreams: HTTP/1.1 with keep-alive, pooled per origin.
///
/// Built for the call path: a request costs one hand-over to its connection's event loop, and the
/// answer's head one back; timers are set and cancelled on the loop itself, so no call wakes a loop
/// for bookkeeping.
package final class UpstreamConnections: Sendable {
    package struct Settings: Sendable {
        /// Connections open at once to one origin; a call past it fails as UNAVAILABLE.
        package var maximumPerOrigin: Int
        package var connectTimeout: Duration = .seconds(5)
        /// An unused connection is closed after this long.
        package var idleTimeout: Duration
        /// PEM certificates trusted besides the system's.
        package var extraTrustRootsFile: String?

        package init(maximumPerOrigin: Int, idleTimeout: Duration = .seconds(60), extraTrustRootsFile: String? = nil) {
            self.maximumPerOrigin = maximumPerOrigin
            self.idleTimeout = idleTimeout
            self.extraTrustRootsFile = extraTrustRootsFile
        }
    }

    private struct Origins: ~Copyable {
        var idle: [UpstreamAddress.Origin: [UpstreamConnection]] = [:]
        var open: [UpstreamAddress.Origin: Set<ObjectIdentifier>] = [:]
        var closed = false
    }

    private let group: any EventLoopGroup
    private let settings: Settings
    private let tls: NIOSSLContext
    private let origins = Mutex(Origins())
    let idleTimeout: TimeAmount

    package init(settings: Settings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.group = group
        self.settings = settings
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["http/1.1"]
        if let file = settings.extraTrustRootsFile {
            do {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(file))]
            } catch {
                throw ModelManagerError(
                    .invalidArgument,
                    "upstream_tls.ca_file '\(file)' holds no PEM certificate that can be read (\(error))")
            }
        }
        tls = try NIOSSLContext(configuration: configuration)
        idleTimeout = .nanoseconds(Int64(settings.idleTimeout.wholeNanoseconds))
    }

    /// Sends one request and returns once the answer's head is in; the body follows in the response.
    package func send(
        to address: UpstreamAddress, head: HTTPRequestHead, body: ByteBuffer, deadline: NIODeadline
    ) async throws -> UpstreamResponse {
        let connection = try await connection(to: address.origin)
        let exchange = UpstreamExchange()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                connection.eventLoop.execute {
                    connection.start(exchange, head: head, body: body, deadline: deadline, continuation: continuation)
                }
            }
        } onCancel: {
            connection.eventLoop.execute { connection.cancel(exchange) }
        }
    }

    /// Closes the idle connections; busy ones close when their exchange ends.
    package func shutdown() {
        let idle = origins.withLock { origins in
            origins.closed = true
            defer { origins.idle = [:] }
            return origins.idle.values.flatMap { $0 }
        }
        for connection in idle {
            connection.eventLoop.execute { connection.closeIfIdle() }
        }
    }

    private func connection(to origin: UpstreamAddress.Origin) async throws -> UpstreamConnection {
        let reused = try origins.withLock { origins throws -> UpstreamConnection? in
            if origins.closed { throw UpstreamTransportError.closedBeforeAnswer }
            if let connection = origins.idle[origin]?.popLast() { return connection }
            let open = origins.open[origin, default: []].count
            guard open < settings.maximumPerOrigin else {
                throw UpstreamTransportError.tooManyConnections(
                    host: origin.hostHeader, limit: settings.maximumPerOrigin)
            }
            return nil
        }
        if let reused { return reused }
        return try await connect(to: origin)
    }

    private func connect(to origin: UpstreamAddress.Origin) async throws -> UpstreamConnection {
        let eventLoop = group.next()
        let connection = UpstreamConnection(eventLoop: eventLoop, origin: origin, pool: self)
        // Counted before the connect, so that a burst of calls cannot open past the limit.
        _ = origins.withLock { $0.open[origin, default: []].insert(ObjectIdentifier(connection)) }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(settings.connectTimeout.wholeNanoseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [tls] channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if origin.secure {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: origin.serverName))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(connection)
                }
            }
        do {
            _ = try await bootstrap.connect(host: origin.host, port: origin.port).get()
        } catch {
            forget(connection)
            throw error
        }
        return connection
    }

    /// A connection whose exchange ended with the connection still good.
    func release(_ connection: UpstreamConnection) {
        let kept = origins.withLock { origins in
            guard !origins.closed else { return false }
            origins.idle[connection.origin, default: []].append(connection)
            return true
        }
        if !kept { connection.closeIfIdle() }
    }

    /// Takes `connection` out of the idle list; false when a caller took it first.
    func takeIfIdle(_ connection: UpstreamConnection) -> Bool {
        origins.withLock { origins in
            guard let index = origins.idle[connection.origin]?.firstIndex(where: { $0 === connection }) else {
                return false
            }
            origins.idle[connection.origin]!.remove(at: index)
            return true
        }
    }

    /// A connection that closed: it no longer counts against its origin's limit.
    func forget(_ connection: UpstreamConnection) {
        origins.withLock { origins in
            origins.open[connection.origin]?.remove(ObjectIdentifier(connection))
            origins.idle[connection.origin]?.removeAll { $0 === connection }
        }
    }
}
