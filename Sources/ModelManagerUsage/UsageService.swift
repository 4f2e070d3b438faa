public import Logging
public import ModelManagerCore

/// Everything usage accounting needs, built from configuration and shut down in order:
/// the ledger is flushed first, then the relay stops.
public final class UsageService: Sendable {
    public struct Configuration: Sendable {
        public enum Database: Sendable, Hashable {
            case sqlite(path: String)
            case postgres(url: String)
        }

        public var database: Database = .sqlite(path: "model-manager.sqlite")
        public var ledgerMode: UsageLedger.Mode = .durable
        public var natsURL: String?
        public var mqtt: (host: String, port: Int, topicPrefix: String)?
        public var priceFile: String?
        /// Where records still uncommitted at shutdown go (replayed at start). Default: beside
        /// the SQLite file, or `model-manager.spill.jsonl` for PostgreSQL.
        public var spillFile: String?

        var resolvedSpillFile: String {
            if let spillFile { return spillFile }
            if case .sqlite(let path) = database { return path + ".spill.jsonl" }
            return "model-manager.spill.jsonl"
        }

        public init() {}
    }

    public let repository: UsageRepository
    public let ledger: UsageLedger
    public let relay: OutboxRelay
    public let prices: PriceTable

    public init(configuration: Configuration, logger: Logger) async throws {
        let database: any SQLDatabase =
            switch configuration.database {
            case .sqlite(let path): try SQLiteDatabase(path: path, synchronous: configuration.ledgerMode == .durable ? .full : .normal)
            case .postgres(let url): try PostgresDatabase(url: url, logger: logger)
            }
        var publishers: [any BillingPublisher] = []
        if let url = configuration.natsURL { publishers.append(NATSPublisher(url: url)) }
        if let mqtt = configuration.mqtt { publishers.append(MQTTPublisher(host: mqtt.host, port: mqtt.port, topicPrefix: mqtt.topicPrefix)) }
        repository = UsageRepository(database: database, sinks: publishers.map(\.sink))
        try await repository.migrate()
        try await UsageLedger.replaySpill(configuration.resolvedSpillFile, into: repository, logger: logger)
        prices = try configuration.priceFile.map { try PriceTable.load(file: $0, logger: logger) } ?? PriceTable(logger: logger)
        let relay = OutboxRelay(repository: repository, publishers: publishers, logger: logger)
        self.relay = relay
        ledger = UsageLedger(repository: repository, mode: configuration.ledgerMode, spillFile: configuration.resolvedSpillFile, logger: logger) {
            relay.wake()
        }
        relay.start()
    }

    public func shutdown() async {
        await ledger.shutdown()
        await relay.shutdown()
        await repository.database.close()
    }
}
