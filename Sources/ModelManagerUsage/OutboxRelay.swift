import Foundation
public import Logging
import ModelManagerCore
public import ServiceLifecycle
import Synchronization

/// Publishes each outbox row to its broker and marks it sent only after the broker acknowledged
/// it. A broker that is down delays events (retried with backoff) and never touches an invoke.
/// A Service: it publishes from `run` until the group shuts down.
public final class OutboxRelay: Service, Sendable {
    private let repository: UsageRepository
    private let publishers: [any BillingPublisher]
    private let logger: Logger
    private let pollInterval: Duration
    private let retention: Duration?
    private let pruneInterval: Duration
    private let startsAfter: Milestone?
    private let signal = Signal()
    private let lastBacklog = Mutex<[String: Int64]>([:])

    /// `startsAfter`: the ledger's `ready`, when the relay runs in its group (the outbox table
    /// exists only once the ledger has migrated the database). `retention`: how long a published
    /// row is kept (nil: for ever); every `pruneInterval` older ones are deleted.
    public init(
        repository: UsageRepository, publishers: [any BillingPublisher], startsAfter: Milestone? = nil,
        retention: Duration? = .seconds(7 * 86_400), logger: Logger, pollInterval: Duration = .seconds(1),
        pruneInterval: Duration = .seconds(600)
    ) {
        self.repository = repository
        self.publishers = publishers
        self.startsAfter = startsAfter
        self.logger = logger
        self.pollInterval = pollInterval
        self.retention = retention
        self.pruneInterval = pruneInterval
    }

    /// Publishes until graceful shutdown (a publish in progress is abandoned: its row stays
    /// unsent, to be published by the next start or by another instance), then closes the publishers.
    public func run() async {
        do {
            try await startsAfter?.wait()
            if publishers.isEmpty {
                try await gracefulShutdown()
            } else {
                await cancelWhenGracefulShutdown {
                    await withDiscardingTaskGroup { group in
                        for publisher in self.publishers { group.addTask { await self.run(publisher) } }
                        if let retention = self.retention { group.addTask { await self.prune(keeping: retention) } }
                    }
                }
            }
        } catch {
            // Cancelled before the ledger was ready, or while waiting with nothing to publish.
        }
        for publisher in publishers { await publisher.close() }
    }

    /// New rows were committed: publish them now rather than at the next poll.
    public func wake() { signal.fire() }

    /// The unsent rows per sink, as last counted.
    public var backlog: [String: Int64] { lastBacklog.withLock { $0 } }

    public func refreshBacklog() async -> [String: Int64] {
        let counts = (try? await repository.backlog()) ?? backlog
        lastBacklog.withLock { $0 = counts }
        return counts
    }

    /// Rows deleted per statement, so a large backlog of old rows never holds the database long.
    static let pruneBatch = 1000

    /// Deletes published rows older than `retention`, every `pruneInterval`, a batch at a time.
    private func prune(keeping retention: Duration) async {
        while !Task.isCancelled {
            var deleted = 0
            do {
                let cutoff = Date().addingTimeInterval(-retention.milliseconds / 1000)
                while !Task.isCancelled {
                    let batch = try await repository.pruneSentOutbox(before: cutoff, limit: Self.pruneBatch)
                    deleted += batch
                    if batch < Self.pruneBatch { break }
                }
                if deleted > 0 {
                    logger.info("published billing events past retention deleted", metadata: ["rows": "\(deleted)"])
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("outbox retention: delete failed; retrying later", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: pruneInterval)
        }
    }

    /// Failed publishes after which a row the broker refuses for good is set aside.
    public static let permanentFailuresBeforeSettingAside = 3
    /// How long a claimed row is this relay's alone; a relay that dies leaves it to expire.
    static let claimLease: Duration = .seconds(30)

    private func run(_ publisher: any BillingPublisher) async {
        var backoff = RelayBackoff()
        var failing = false
        while !Task.isCancelled {
            do {
                let rows = try await repository.claim(sink: publisher.sink, limit: 200, lease: Self.claimLease)
                guard !rows.isEmpty else {
                    if failing {
                        logger.notice("billing events flowing again", metadata: ["sink": "\(publisher.sink)"])
                        failing = false
                    }
                    await signal.wait(upTo: pollInterval)
                    continue
                }
                var sent: [String] = []
                do {
                    for row in rows {
                        // Shutdown does not wait for a whole batch against a stalled broker.
                        try Task.checkCancellation()
                        do {
                            try await publisher.publish(
                                recordID: row.recordID, subject: row.subject, payload: row.payload)
                            sent.append(row.recordID)
                        } catch let error as PublishError where error.isPermanent {
                            // This row alone is refused: it is counted (and set aside), the others go on.
                            try await setAside(row, error: error, sink: publisher.sink)
                        }
                    }
                } catch {
                    try await repository.markSent(sink: publisher.sink, recordIDs: sent)
                    // The broker is down: the row that failed is counted, and the claims are
                    // released so that the backlog drains as soon as it is back.
                    let unsent = rows.map(\.recordID).filter { !sent.contains($0) }
                    if let first = unsent.first {
                        try? await repository.markFailed(
                            sink: publisher.sink, recordID: first, error: "\(error)", permanent: false,
                            setAsideAfter: .max)
                    }
                    try? await repository.releaseClaims(sink: publisher.sink, recordIDs: Array(unsent.dropFirst()))
                    throw error
                }
                try await repository.markSent(sink: publisher.sink, recordIDs: sent)
                backoff.succeeded()
            } catch {
                if Task.isCancelled { break }
                let delay = backoff.failed()
                failing = true
                let pending = await refreshBacklog()[publisher.sink] ?? 0
                logger.warning(
                    "billing events delayed: broker unavailable; retrying",
                    metadata: [
                        "sink": "\(publisher.sink)", "backlog": "\(pending)", "retry_ms": "\(delay.wholeMilliseconds)",
                        "error": "\(error)",
                    ])
                try? await Task.sleep(for: delay)
            }
        }
    }

    private func setAside(_ row: UsageRepository.OutboxRow, error: PublishError, sink: String) async throws {
        let limit = Self.permanentFailuresBeforeSettingAside
        try await repository.markFailed(
            sink: sink, recordID: row.recordID, error: error.description, permanent: true, setAsideAfter: limit)
        if row.attempts + 1 >= limit {
            logger.critical(
                "billing event refused by the broker for good; set aside in the outbox (failed_at)",
                metadata: [
                    "sink": "\(sink)", "record_id": "\(row.recordID)", "subject": "\(row.subject)", "error": "\(error)",
                ])
        } else {
            logger.error(
                "billing event refused by the broker",
                metadata: ["sink": "\(sink)", "record_id": "\(row.recordID)", "error": "\(error)"])
        }
    }
}
