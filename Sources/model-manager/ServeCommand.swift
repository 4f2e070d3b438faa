import ArgumentParser
import Dispatch
import Foundation
import Logging
import ModelManagerClient
import ModelManagerProviders
import ModelManagerServer
import ProviderEmulator
import ServiceLifecycle
import Synchronization

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (gRPC on 50051 by default).")

    @Option(help: "JSON configuration file.")
    var config: String?

    @Option(name: .customLong("grpc-address"), help: "HOST:PORT to serve gRPC on (default 0.0.0.0:50051).")
    var grpcAddress: String?

    @Option(
        name: .customLong("http-address"),
        help: "HOST:PORT for the HTTP side: admin API, health (default 0.0.0.0:8080).")
    var httpAddress: String?

    @Option(help: "Usage ledger: a SQLite path (default model-manager.sqlite) or postgres://user:pass@host:port/db.")
    var database: String?

    @Option(
        name: .customLong("nats-url"), help: "Publish billing events to NATS JetStream, e.g. nats://127.0.0.1:4222.")
    var natsURL: String?

    @Option(
        name: .customLong("mqtt-url"),
        help: "Publish billing events over MQTT (QoS 1), e.g. mqtt://127.0.0.1:1883/billing/usage/recorded/.")
    var mqttURL: String?

    @Option(
        name: .customLong("ledger-mode"), help: "durable (default: the final answer waits for the commit) or buffered.")
    var ledgerMode: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; with --tls-key, serve TLS.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Flag(help: "Also start the provider emulator in-process and route every provider to it.")
    var demo = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        let logger = Logger(label: "model-manager")
        let environment = ProcessInfo.processInfo.environment
        let mallocTuning = try MallocTuning(environment: environment)

        var configuration = try ServerConfiguration.load(file: config, environment: environment)
        if let grpcAddress { configuration.grpc.address = grpcAddress }
        if let httpAddress { configuration.http.address = httpAddress }
        if let database { try configuration.setDatabase(database) }
        if let natsURL { configuration.usage.natsURL = natsURL }
        if let mqttURL { try configuration.setMQTT(mqttURL) }
        if let ledgerMode { try configuration.setLedgerMode(ledgerMode) }
        switch (tlsCertificate, tlsKey) {
        case (let certificate?, let key?):
            configuration.grpc.tls = try ServerConfiguration.loadTLS(certificate: certificate, privateKey: key)
        case (nil, nil): break
        default: throw ValidationError("--tls-cert and --tls-key go together")
        }

        var emulator: ProviderEmulator?
        if demo {
            let started = try await ProviderEmulator()
            configuration.routeAllProviders(
                toEmulatorAt: started.baseURL, apiKey: ProviderEmulator.defaultAPIKey,
                serviceAccount: try ServiceAccount(
                    json: started.serviceAccountJSON, source: "the emulator's service account"))
            logger.notice(
                "demo mode: every provider is routed to the in-process provider emulator; answers are canned, not from a real model",
                metadata: ["emulator_url": "\(started.openAIBaseURL)", "emulator_root": "\(started.baseURL)"])
            emulator = started
        }

        let signals = TerminationSignals(logger: logger)
        let server = try await ModelManagerServer.start(
            configuration: configuration, shutdownSignals: [.sigterm, .sigint], logger: logger)
        // The group hears signals only once it runs; one that came during start-up still stops it.
        if signals.received { await server.shutdown() }
        do {
            try await server.waitUntilStopped()
        } catch {
            await emulator?.stop()
            throw error
        }
        await emulator?.stop()
        withExtendedLifetime(mallocTuning) {}
    }
}

/// SIGTERM and SIGINT, installed before anything starts. The first ends `first()` (the server's
/// ServiceGroup hears it too and begins the graceful stop); a second one means "now": the process
/// exits at once (130).
final class TerminationSignals: Sendable {
    private let signals: AsyncStream<Int32>
    private let count: SignalCount
    /// Kept only to be cancelled; the sources run on their own queue.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    init(logger: Logger) {
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.signals = signals
        let count = SignalCount()
        self.count = count
        sources = [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let name = signalNumber == SIGTERM ? "SIGTERM" : "SIGINT"
                guard count.increment() == 1 else {
                    logger.warning("second signal during shutdown: exiting at once", metadata: ["signal": "\(name)"])
                    Foundation.exit(130)
                }
                logger.notice("received signal", metadata: ["signal": "\(name)"])
                continuation.yield(signalNumber)
                continuation.finish()
            }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    /// Whether a signal came.
    var received: Bool { count.value > 0 }

    /// Returns on the first signal.
    func first() async {
        for await _ in signals { break }
    }
}

/// Signals received so far (the handlers run on a concurrent queue).
private final class SignalCount: Sendable {
    private let count = Atomic<Int>(0)
    func increment() -> Int { count.add(1, ordering: .relaxed).newValue }
    var value: Int { count.load(ordering: .relaxed) }
}
