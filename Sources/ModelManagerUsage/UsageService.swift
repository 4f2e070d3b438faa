public import CoreMetrics
public import Logging
import ModelManagerCore
public import ServiceLifecycle

/// Everything usage accounting needs, built from configuration.
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
        /// How long a published billing event stays in the outbox (nil: for ever).
        public var outboxRetention: Duration? = .seconds(7 * 86_400)
        /// Ledger batches committed at once (each holds a database connection while it commits).
        public var concurrentCommits = 2

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
    /// The sinks quota alerts go to: the brokers' and those of the alert-only publishers.
    public let alertSinks: [String]
    /// The parts that run, in start order: the database's connection pool (PostgreSQL), the
    /// relay, the ledger. A ServiceGroup stops them in reverse: the ledger commits (or spills)
    /// what is pending, then the relay stops, then the pool closes.
    public let services: [any Service]

    /// Builds the parts; nothing touches the database until `services` run (the ledger migrates it
    /// first and then opens `ready`). `alertPublishers` (a webhook) get quota alerts only; the
    /// brokers get both alerts and usage events.
    /// `commitTimer` times each batch the ledger commits.
    public init(
        configuration: Configuration, commitTimer: CoreMetrics.Timer? = nil,
        alertPublishers: [any BillingPublisher] = [],
        logger: Logger
    ) throws {
        let database: any SQLDatabase =
            switch configuration.database {
            case .sqlite(let path):
                try SQLiteDatabase(path: path, synchronous: configuration.ledgerMode == .durable ? .full : .normal)
            case .postgres(let url): try PostgresDatabase(url: url, logger: logger)
            }
        var publishers: [any BillingPublisher] = []
        if let url = configuration.natsURL { publishers.append(NATSPublisher(url: url)) }
        if let mqtt = configuration.mqtt {
            publishers.append(MQTTPublisher(host: mqtt.host, port: mqtt.port, topicPrefix: mqtt.topicPrefix))
        }
        repository = UsageRepository(database: database, sinks: publishers.map(\.sink))
        publishers += alertPublishers
        alertSinks = publishers.map(\.sink)
        prices =
            try configuration.priceFile.map { try PriceTable.load(file: $0, logger: logger) }
            ?? PriceTable(logger: logger)
        let ready = Milestone()
        let relay = OutboxRelay(
            repository: repository, publishers: publishers, startsAfter: ready,
            retention: configuration.outboxRetention,
            logger: logger)
        self.relay = relay
        ledger = UsageLedger(
            repository: repository, mode: configuration.ledgerMode, spillFile: configuration.resolvedSpillFile,
            concurrentCommits: configuration.concurrentCommits, ready: ready, commitTimer: commitTimer, logger: logger
        ) { relay.wake() }
        services = database.services + [relay, ledger]
    }

    /// Opens once the ledger has prepared the database.
    public var ready: Milestone { ledger.ready }

    /// Closes the database, after `services` have stopped.
    public func close() async {
        await repository.database.close()
    }
}
