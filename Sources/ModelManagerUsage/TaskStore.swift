public import Foundation
public import ModelManagerCore

/// An asynchronous task as callers see it (`GetTaskStatus`, `GET /v1/tasks/{id}`, callbacks).
public struct StoredTask: Sendable, Hashable {
    public enum Status: String, Sendable {
        case processing, completed, failed
    }

    public var id: String
    public var orgID: String
    public var provider: String
    public var channel: String
    public var invokeType: String
    public var model: String
    public var status: Status
    public var createdAt: Date
    public var completedAt: Date?
    /// A JSON object's text (content, raw response, usage with cost) once completed.
    public var resultData: String?
    public var errorMessage: String?
    public var callbackURL: String?

    /// The status as JSON: the HTTP face's answer and a callback's body.
    public var json: JSONValue {
        [
            "task_id": .string(id), "status": .string(status.rawValue), "provider": .string(provider),
            "channel": .string(channel), "invoke_type": .string(invokeType), "model": .string(model),
            "created_at": .string(createdAt.formatted(.iso8601)),
            "completed_at": completedAt.map { .string($0.formatted(.iso8601)) } ?? .null,
            "result_data": resultData.flatMap { try? JSONValue(parsing: $0) } ?? .null,
            "error_message": errorMessage.map { .string($0) } ?? .null,
        ]
    }
}

/// A task to store: the request as the HTTP face takes it, what else the call knew, its quota
/// reservation, and optionally an idempotency key and a callback.
public struct NewTask: Sendable {
    public var id: String
    public var orgID: String
    public var userID: String
    public var provider: String
    public var channel: String
    public var invokeType: String
    public var model: String
    public var request: JSONValue
    public var context: JSONValue
    public var reservation: JSONValue?
    public var idempotencyKey: String?
    public var callbackURL: String?
    public var createdAt: Date
    /// Set when the creator runs the task itself (a synchronous call with an idempotency key):
    /// no worker takes it while the lease holds.
    public var lease: (owner: String, until: Date)?

    public init(
        id: String, orgID: String, userID: String, provider: String, channel: String, invokeType: String,
        model: String, request: JSONValue, context: JSONValue, reservation: JSONValue?, idempotencyKey: String?,
        callbackURL: String?, createdAt: Date, lease: (owner: String, until: Date)? = nil
    ) {
        self.id = id
        self.orgID = orgID
        self.userID = userID
        self.provider = provider
        self.channel = channel
        self.invokeType = invokeType
        self.model = model
        self.request = request
        self.context = context
        self.reservation = reservation
        self.idempotencyKey = idempotencyKey
        self.callbackURL = callbackURL
        self.createdAt = createdAt
        self.lease = lease
    }
}

/// A task a worker holds the lease of, with what it needs to run it.
public struct ClaimedTask: Sendable {
    public var id: String
    public var request: JSONValue
    public var context: JSONValue
    public var reservation: JSONValue?
    /// How often it has been claimed, this time included.
    public var attempts: Int
}

/// Tasks in the ledger's database, so that they outlive the instance that took them: workers
/// claim a task with a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so instances on one database
/// share the work), renew it while the call runs, and a task whose holder died is claimed again
/// once the lease has expired. A task completes once: its status and its usage record (with the
/// record's outbox rows) are written in one transaction that only a still-processing task passes.
public struct TaskStore: Sendable {
    public let repository: UsageRepository
    public var database: any SQLDatabase { repository.database }

    public init(repository: UsageRepository) { self.repository = repository }

    private var locking: String { database.dialect.kind == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    static let statusColumns =
        "id, org_id, provider, channel, invoke_type, model, status, created_at, completed_at, result_data, error_message, callback_url"

    /// Stores `task`; with an idempotency key the org used within `idempotencyWindow`, stores
    /// nothing and returns that task's id instead (`created` false).
    public func create(_ task: NewTask, idempotencyWindow: Duration) async throws -> (id: String, created: Bool) {
        var statements: [SQLStatement] = []
        if let key = task.idempotencyKey {
            // An older task keeps its row, not its key: the key may be used again.
            let cutoff = task.createdAt.addingTimeInterval(-idempotencyWindow.milliseconds / 1000)
            statements.append(
                SQLStatement(
                    "UPDATE tasks SET idempotency_key = NULL WHERE org_id = ? AND idempotency_key = ? AND created_at < ?",
                    [.text(task.orgID), .text(key), .integer(Self.milliseconds(cutoff))]))
        }
        statements.append(
            SQLStatement(
                """
                INSERT INTO tasks (id, org_id, user_id, provider, channel, invoke_type, model, request, context,
                    reservation, idempotency_key, callback_url, status, created_at, lease_owner, lease_until, attempts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'processing', ?, ?, ?, ?)
                ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id
                """,
                [
                    .text(task.id), .text(task.orgID), .text(task.userID), .text(task.provider), .text(task.channel),
                    .text(task.invokeType), .text(task.model), .text(task.request.jsonText),
                    .text(task.context.jsonText), task.reservation.map { .text($0.jsonText) } ?? .null,
                    task.idempotencyKey.map { .text($0) } ?? .null, task.callbackURL.map { .text($0) } ?? .null,
                    .integer(Self.milliseconds(task.createdAt)), task.lease.map { .text($0.owner) } ?? .null,
                    task.lease.map { .integer(Self.milliseconds($0.until)) } ?? .null,
                    .integer(task.lease == nil ? 0 : 1),
                ],
                requiresRows: true))
        do {
            try await database.write(statements)
            return (task.id, true)
        } catch is SQLRowsRequired {
            let existing = try await database.read(
                SQLStatement(
                    "SELECT id FROM tasks WHERE org_id = ? AND idempotency_key = ?",
                    [.text(task.orgID), .text(task.idempotencyKey ?? "")]))
            guard let id = existing.first?[0].text else { throw SQLRowsRequired(index: statements.count - 1) }
            return (id, false)
        }
    }

    /// The org's tasks still processing, to bound what one org can queue.
    public func processing(orgID: String) async throws -> Int {
        let rows = try await database.read(
            SQLStatement(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM tasks WHERE org_id = ? AND status = 'processing'",
                [.text(orgID)]))
        return Int(rows.first?[0].integer ?? 0)
    }

    /// Takes the oldest task nobody holds (never claimed, or its lease expired) that has been
    /// tried fewer than `maximumAttempts` times, for `lease`.
    public func claim(owner: String, lease: Duration, maximumAttempts: Int, now: Date = Date()) async throws
        -> ClaimedTask?
    {
        try await database.writeReturning(
            SQLStatement(
                """
                UPDATE tasks SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
                WHERE id IN (SELECT id FROM tasks WHERE status = 'processing' AND attempts < ?
                    AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at, id LIMIT 1\(locking))
                RETURNING id, request, context, reservation, attempts
                """,
                [
                    .text(owner), .integer(Self.milliseconds(now) + lease.wholeMilliseconds),
                    .integer(Int64(maximumAttempts)), .integer(Self.milliseconds(now)),
                ])
        ).first.map(Self.claimed)
    }

    /// Extends the lease of a task `owner` holds; false when it no longer does (another
    /// instance took it over, or it is finished).
    public func renew(id: String, owner: String, lease: Duration, now: Date = Date()) async throws -> Bool {
        try await !database.writeReturning(
            SQLStatement(
                "UPDATE tasks SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'processing' RETURNING id",
                [.integer(Self.milliseconds(now) + lease.wholeMilliseconds), .text(id), .text(owner)])
        ).isEmpty
    }

    /// Gives a task back at once (its run was interrupted, not finished), for any worker to take.
    public func release(id: String, owner: String) async throws {
        try await database.write([
            SQLStatement(
                "UPDATE tasks SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                [.text(id), .text(owner)])
        ])
    }

    /// Finishes a task with its usage record and the record's outbox rows, all or nothing;
    /// false (and nothing written) when the task was already finished, by another instance
    /// that ran it too.
    /// `releasingIdempotencyKey`: the key no longer names the task (a failed synchronous call,
    /// which a retry with the same key should run again).
    public func complete(
        id: String, status: StoredTask.Status, resultData: JSONValue?, errorMessage: String?, record: UsageRecord,
        releasingIdempotencyKey: Bool = false, at date: Date = Date()
    ) async throws -> Bool {
        let encoded = repository.encode(record)
        var statements = [
            SQLStatement(
                """
                UPDATE tasks SET status = ?, completed_at = ?, result_data = ?, error_message = ?, record_id = ?,
                    lease_owner = NULL, lease_until = NULL,
                    callback_state = CASE WHEN callback_url IS NULL THEN NULL ELSE 'pending' END, callback_next_at = ?
                    \(releasingIdempotencyKey ? ", idempotency_key = NULL" : "")
                WHERE id = ? AND status = 'processing' RETURNING id
                """,
                [
                    .text(status.rawValue), .integer(Self.milliseconds(date)),
                    resultData.map { .text($0.jsonText) } ?? .null, errorMessage.map { .text($0) } ?? .null,
                    .text(record.id), .integer(Self.milliseconds(date)), .text(id),
                ],
                requiresRows: true)
        ]
        statements += repository.insertStatements([encoded])
        do {
            try await database.write(statements)
            return true
        } catch is SQLRowsRequired {
            return false
        }
    }

    /// Fails the tasks whose every attempt ended with their holder gone (their lease expired
    /// `maximumAttempts` times): a task that kills its instance is not run for ever.
    public func abandonExhausted(maximumAttempts: Int, now: Date = Date()) async throws -> [String] {
        try await database.writeReturning(
            SQLStatement(
                """
                UPDATE tasks SET status = 'failed', completed_at = ?, lease_owner = NULL, lease_until = NULL,
                    error_message = 'internal: the task was abandoned after ' || CAST(attempts AS TEXT) || ' attempts that did not finish',
                    callback_state = CASE WHEN callback_url IS NULL THEN NULL ELSE 'pending' END, callback_next_at = ?
                WHERE status = 'processing' AND attempts >= ? AND lease_until < ? RETURNING id
                """,
                [
                    .integer(Self.milliseconds(now)), .integer(Self.milliseconds(now)),
                    .integer(Int64(maximumAttempts)),
                    .integer(Self.milliseconds(now)),
                ])
        ).compactMap { $0[0].text }
    }

    /// The tasks with these ids that exist, in no particular order.
    public func tasks(ids: [String]) async throws -> [StoredTask] {
        guard !ids.isEmpty else { return [] }
        return try await database.read(
            SQLStatement(
                "SELECT \(Self.statusColumns) FROM tasks WHERE id IN ("
                    + Array(repeating: "?", count: ids.count).joined(separator: ", ") + ")",
                ids.map { .text($0) })
        ).map(Self.stored)
    }

    /// Deletes up to `limit` finished tasks older than `cutoff` whose callback is done with.
    public func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await database.writeReturning(
            SQLStatement(
                """
                DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE status <> 'processing' AND completed_at < ?
                    AND (callback_state IS NULL OR callback_state IN ('sent', 'failed')) LIMIT ?) RETURNING id
                """,
                [.integer(Self.milliseconds(cutoff)), .integer(Int64(limit))])
        ).count
    }

    // MARK: callbacks

    /// Takes up to `limit` finished tasks whose callback is due, for `lease`, with how often each
    /// callback has been tried.
    public func claimCallbacks(limit: Int, lease: Duration, now: Date = Date()) async throws
        -> [(task: StoredTask, attempts: Int)]
    {
        try await database.writeReturning(
            SQLStatement(
                """
                UPDATE tasks SET callback_next_at = ? WHERE id IN (SELECT id FROM tasks
                    WHERE callback_state = 'pending' AND callback_next_at <= ? ORDER BY callback_next_at, id LIMIT ?\(locking))
                RETURNING \(Self.statusColumns), callback_attempts
                """,
                [
                    .integer(Self.milliseconds(now) + lease.wholeMilliseconds), .integer(Self.milliseconds(now)),
                    .integer(Int64(limit)),
                ])
        ).map { row in (Self.stored(row), Int(row[12].integer)) }
    }

    /// The callback was acknowledged.
    public func callbackDelivered(id: String) async throws {
        try await database.write([
            SQLStatement(
                "UPDATE tasks SET callback_state = 'sent', callback_attempts = callback_attempts + 1, callback_error = NULL WHERE id = ?",
                [.text(id)])
        ])
    }

    /// The callback failed: tried again at `retryAt`, or given up (nil).
    public func callbackFailed(id: String, error: String, retryAt: Date?) async throws {
        try await database.write([
            SQLStatement(
                """
                UPDATE tasks SET callback_attempts = callback_attempts + 1, callback_error = ?,
                    callback_state = ?, callback_next_at = ? WHERE id = ?
                """,
                [
                    .text(error), .text(retryAt == nil ? "failed" : "pending"),
                    retryAt.map { .integer(Self.milliseconds($0)) } ?? .null, .text(id),
                ])
        ])
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    private static func date(_ value: SQLValue) -> Date? {
        guard case .integer(let milliseconds) = value else { return nil }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private static func claimed(_ row: [SQLValue]) -> ClaimedTask {
        ClaimedTask(
            id: row[0].text ?? "", request: (try? JSONValue(parsing: row[1].text ?? "{}")) ?? [:],
            context: (try? JSONValue(parsing: row[2].text ?? "{}")) ?? [:],
            reservation: row[3].text.flatMap { try? JSONValue(parsing: $0) }, attempts: Int(row[4].integer))
    }

    private static func stored(_ row: [SQLValue]) -> StoredTask {
        StoredTask(
            id: row[0].text ?? "", orgID: row[1].text ?? "", provider: row[2].text ?? "", channel: row[3].text ?? "",
            invokeType: row[4].text ?? "", model: row[5].text ?? "",
            status: row[6].text.flatMap(StoredTask.Status.init(rawValue:)) ?? .failed,
            createdAt: date(row[7]) ?? Date(timeIntervalSince1970: 0), completedAt: date(row[8]),
            resultData: row[9].text, errorMessage: row[10].text, callbackURL: row[11].text)
    }
}
