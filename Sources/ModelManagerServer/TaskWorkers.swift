import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import ServiceLifecycle

/// Runs stored tasks: `tasks.workers` loops each claim the oldest task nobody holds, run it as
/// a non-stream call and finish it with its result and usage record (once, whichever run gets
/// there first); a lease renewed while the call runs keeps other instances off it. A task whose
/// instance died is claimed again when its lease has expired, so the upstream may be called more
/// than once for a task (at least once), while its record and billing event exist once.
/// Housekeeping fails tasks that were abandoned `tasks.max_attempts` times and deletes finished
/// ones past `tasks.retention_hours`. A Service: it runs until the group shuts down; a task
/// still running then is given back for the next instance.
final class TaskWorkers: Service {
    private let invocation: InvocationService
    private let queue: TaskQueue
    private let ready: Milestone
    private let logger: Logger

    init(invocation: InvocationService, ready: Milestone, logger: Logger) {
        self.invocation = invocation
        queue = invocation.tasks
        self.ready = ready
        self.logger = logger
    }

    private var settings: TaskSettings { queue.settings }

    func run() async throws {
        try await ready.wait()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for _ in 0..<self.settings.workers { group.addTask { await self.work() } }
                group.addTask { await self.keepHouse() }
            }
        }
    }

    private func work() async {
        while !Task.isCancelled {
            do {
                if let task = try await queue.store.claim(
                    owner: queue.owner, lease: settings.lease, maximumAttempts: settings.maximumAttempts)
                {
                    await run(task)
                    continue
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("tasks could not be claimed; retrying", metadata: ["error": "\(error)"])
            }
            await queue.created.wait(upTo: settings.pollInterval)
        }
    }

    /// Runs one task while renewing its lease.
    private func run(_ task: ClaimedTask) async {
        let context = TaskQueue.context(from: task.context)
        let admission: InvocationService.Admission
        do {
            guard let body = task.request.objectValue else {
                throw ModelManagerError(.internalError, "the stored request is not a JSON object")
            }
            admission = InvocationService.Admission(
                request: try HTTPRequestMapper.request(from: body),
                reservation: task.reservation.flatMap(QuotaGate.Reservation.init(json:)))
        } catch {
            logger.error("task request unreadable", metadata: ["task_id": "\(task.id)", "error": "\(error)"])
            return
        }
        logger.info("task started", metadata: ["task_id": "\(task.id)", "attempt": "\(task.attempts)"])
        _ = await queue.holdingLease(task.id) {
            try? await self.invocation.traced(admission.request, context: context) {
                context throws(ModelManagerError) in
                try await self.invocation.perform(
                    admission, context: context, emit: { _ in }, recording: .task(id: task.id, synchronous: false))
            }
        }
    }

    /// Finished tasks deleted per statement, so that pruning never holds the database long.
    static let pruneBatch = 1000

    private func keepHouse() async {
        while !Task.isCancelled {
            do {
                let abandoned = try await queue.store.abandonExhausted(maximumAttempts: settings.maximumAttempts)
                if !abandoned.isEmpty {
                    queue.finished.fire()
                    logger.error(
                        "tasks failed: abandoned by every run",
                        metadata: ["task_ids": "\(abandoned.joined(separator: ","))"])
                }
                let cutoff = Date().addingTimeInterval(-settings.retention.milliseconds / 1000)
                while try await queue.store.prune(finishedBefore: cutoff, limit: Self.pruneBatch) == Self.pruneBatch {}
            } catch {
                if Task.isCancelled { return }
                logger.warning("task housekeeping failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: settings.lease)
        }
    }
}
