package import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import ServiceLifecycle

/// Posts each finished task's status to its `callback_url`, signed (`SignedPost`, the secret
/// `tasks.callback_secret`, the task id as event id). A callback that fails is tried again with
/// a backoff of its own (1 s doubling to 5 min), so one dead receiver delays no other, until
/// `tasks.callback_retry_seconds` after the task finished; then it is given up and logged.
/// Instances on one database share the work as they share tasks. A Service.
package final class TaskCallbacks: Service {
    private let queue: TaskQueue
    private let ready: Milestone
    private let logger: Logger
    /// Callbacks taken and sent at once.
    static let batch = 16

    init(queue: TaskQueue, ready: Milestone, logger: Logger) {
        self.queue = queue
        self.ready = ready
        self.logger = logger
    }

    func run() async throws {
        guard let secret = queue.settings.callbackSecret else {
            // No callbacks are accepted without a secret: nothing to send, ever.
            try? await gracefulShutdown()
            return
        }
        try await ready.wait()
        let post = SignedPost(secret: secret, timeout: queue.settings.callbackTimeout)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let due = try await self.queue.store.claimCallbacks(
                        limit: Self.batch, lease: self.queue.settings.callbackTimeout * 2)
                    await withDiscardingTaskGroup { group in
                        for (task, attempts) in due {
                            group.addTask { await self.send(task, attempts: attempts, with: post) }
                        }
                    }
                    if due.count == Self.batch { continue }
                } catch {
                    if Task.isCancelled { return }
                    self.logger.warning(
                        "task callbacks could not be claimed; retrying", metadata: ["error": "\(error)"])
                }
                await self.queue.finished.wait(upTo: self.queue.settings.pollInterval)
            }
        }
    }

    private func send(_ task: StoredTask, attempts: Int, with post: SignedPost) async {
        guard let url = task.callbackURL else { return }
        var failure: String?
        if let host = URLComponents(string: url)?.host,
            let resolved = await queue.callbackPolicy.internalAddress(of: host)
        {
            failure = "\(host) resolves to \(resolved), an internal address this server does not call back"
        } else {
            do {
                try await post.send(to: url, eventID: task.id, subject: nil, body: task.json.jsonText)
            } catch {
                failure = error.description
            }
        }
        do {
            guard let failure else {
                try await queue.store.callbackDelivered(id: task.id)
                return
            }
            let retryAt = Self.retryAt(
                attempts: attempts + 1, finishedAt: task.completedAt ?? Date(), settings: queue.settings)
            try await queue.store.callbackFailed(id: task.id, error: failure, retryAt: retryAt)
            logger.warning(
                retryAt == nil ? "task callback given up" : "task callback failed; retrying",
                metadata: ["task_id": "\(task.id)", "host": "\(SignedPost.host(of: url))", "error": "\(failure)"])
        } catch {
            logger.warning("task callback state not saved", metadata: ["task_id": "\(task.id)", "error": "\(error)"])
        }
    }

    /// 1 s after the first failure, doubling to 5 min; nil once the retry time is over.
    package static func retryAt(attempts: Int, finishedAt: Date, settings: TaskSettings, now: Date = Date()) -> Date? {
        let delay = min(300, pow(2, Double(min(attempts, 20) - 1)))
        let next = now.addingTimeInterval(delay)
        return next.timeIntervalSince(finishedAt) <= settings.callbackRetryFor.milliseconds / 1000 ? next : nil
    }
}
