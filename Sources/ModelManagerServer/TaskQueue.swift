import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage

/// Asynchronous tasks: a call with `extra.enable_async_task: true` is stored (durably, in the
/// ledger database) and answered at once with its task id; the workers (`TaskWorkers`) run it,
/// on this instance or any other on the same database. The task's status is read with
/// `GetTaskStatus`, `BatchGetTaskStatus` or `GET /v1/tasks/{id}`; its callback, if it asked for
/// one, is sent by `TaskCallbacks`.
final class TaskQueue: Sendable {
    /// The keys that ask for the task path; never sent upstream.
    static let taskKeys = ["enable_async_task", "callback_url", "idempotency_key"]

    let store: TaskStore
    let settings: TaskSettings
    /// This instance, as the holder of the leases it takes.
    let owner = "instance-" + UUIDText.random()
    /// Fired when a task is created here (the workers) or finished with a callback (the sender).
    let created = Signal()
    let finished = Signal()
    let callbackPolicy: CallbackURLPolicy
    private let logger: Logger

    init(store: TaskStore, settings: TaskSettings, logger: Logger) {
        self.store = store
        self.settings = settings
        callbackPolicy = CallbackURLPolicy(allowsPrivateAddresses: settings.callbackAllowPrivate)
        self.logger = logger
    }

    static func isTask(_ request: ModelRequest) -> Bool { request.extra["enable_async_task"]?.boolValue == true }

    /// Stores the task and returns the one item its caller gets: `raw_response` `{"task_id",
    /// "status": "processing"}`, no content, no usage. `created` is false when an idempotency
    /// key named an existing task (whose id is returned; nothing new will run).
    func create(_ request: ModelRequest, reservation: QuotaGate.Reservation?, context: InvocationContext)
        async throws(ModelManagerError) -> (answer: ResponseChunk, created: Bool)
    {
        let stored = try await register(request, reservation: reservation, context: context, runHere: false)
        return (
            ResponseChunk(rawResponse: RawJSON(["task_id": .string(stored.id), "status": "processing"])), stored.created
        )
    }

    /// Stores the call as a task, or finds the one its idempotency key names. `runHere`: this
    /// instance runs it now (a synchronous call), holding its lease from the start.
    func register(
        _ request: ModelRequest, reservation: QuotaGate.Reservation?, context: InvocationContext, runHere: Bool
    ) async throws(ModelManagerError) -> (id: String, created: Bool) {
        var stripped = request
        for key in Self.taskKeys { stripped.extra[key] = nil }
        stripped.stream = false
        let idempotencyKey = try Self.text(request, "idempotency_key", maximumBytes: 256)
        let callbackURL = try Self.text(request, "callback_url", maximumBytes: 2048)
        if let callbackURL {
            guard settings.callbackSecret != nil else {
                throw ModelManagerError(
                    .invalidArgument,
                    "callback_url is not accepted: this server has no callback signing secret (tasks.callback_secret)")
            }
            try callbackPolicy.check(callbackURL)
        }
        let processing: Int
        do {
            processing = try await store.processing(orgID: request.orgID)
        } catch {
            throw ModelManagerError(.unavailable, "cannot create the task: the ledger database is unavailable")
        }
        guard processing < settings.maximumProcessingPerOrg else {
            throw ModelManagerError(
                .resourceExhausted,
                "org '\(request.orgID)' has \(processing) tasks processing, the most this server queues per org "
                    + "(tasks.max_processing_per_org); retry once some have finished",
                retryAfterSeconds: 10)
        }
        let task = NewTask(
            id: "task-" + UUIDText.random(), orgID: request.orgID, userID: request.userID,
            provider: request.provider.rawValue, channel: request.channel.rawValue,
            invokeType: request.invokeType.rawValue, model: request.model ?? "",
            request: .object(HTTPRequestMapper.body(of: stripped)), context: Self.json(context),
            reservation: reservation?.json, idempotencyKey: idempotencyKey, callbackURL: callbackURL, createdAt: Date(),
            lease: runHere ? (owner, Date().addingTimeInterval(settings.lease.milliseconds / 1000)) : nil)
        let stored: (id: String, created: Bool)
        do {
            stored = try await store.create(task, idempotencyWindow: settings.idempotencyWindow)
        } catch {
            throw ModelManagerError(.unavailable, "cannot create the task: the ledger database is unavailable")
        }
        if stored.created, !runHere { created.fire() }
        logger.info(
            "task created",
            metadata: [
                "task_id": "\(stored.id)", "request_id": "\(context.requestID)", "new": "\(stored.created)",
            ])
        return stored
    }

    /// Runs `body` while renewing the task's lease, so that no other run takes it meanwhile.
    func holdingLease<Value: Sendable>(_ id: String, _ body: () async -> Value) async -> Value {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.renew(id) }
            let value = await body()
            group.cancelAll()
            return value
        }
    }

    /// Renews the lease every third of its length until cancelled (the run ended) or lost.
    private func renew(_ id: String) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.lease / 3)
            guard !Task.isCancelled else { return }
            do {
                guard try await store.renew(id: id, owner: owner, lease: settings.lease) else { return }
            } catch {
                logger.warning("task lease not renewed", metadata: ["task_id": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// The answer of a task another call with the same idempotency key runs (or ran): its
    /// completion rebuilt from the stored result, or its failure. ABORTED (retry can help) if
    /// it is still running at `deadline` (or after a lease's length, without one).
    func outcome(of id: String, key: String, until deadline: ContinuousClock.Instant?) async throws(ModelManagerError)
        -> ResponseChunk
    {
        let limit = deadline ?? .now + settings.lease
        while true {
            let task: StoredTask?
            do {
                task = try await store.tasks(ids: [id]).first
            } catch {
                throw ModelManagerError(
                    .unavailable, "cannot read the call's earlier run: the ledger database is unavailable")
            }
            guard let task else {
                throw ModelManagerError(.aborted, "the earlier call with idempotency key '\(key)' is gone; retry")
            }
            switch task.status {
            case .completed:
                return Self.completion(task.resultData.flatMap { try? JSONValue(parsing: $0) } ?? [:])
            case .failed:
                let stored = task.errorMessage ?? ""
                let parts = stored.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                throw ModelManagerError(
                    parts.count == 2 ? ModelManagerError.Code(description: parts[0]) ?? .internalError : .internalError,
                    parts.count == 2 ? parts[1] : stored)
            case .processing:
                guard ContinuousClock.now < limit else {
                    throw ModelManagerError(
                        .aborted, "a call with idempotency key '\(key)' is still running; retry for its answer",
                        retryAfterSeconds: 1)
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// A completion as a task's `result_data` (and the shared cache) keeps it: `content`,
    /// `raw_response`, `usage` with cost.
    static func result(_ chunk: ResponseChunk) -> JSONValue {
        [
            "content": .string(chunk.content), "raw_response": chunk.rawResponse?.value ?? .null,
            "usage": chunk.usageJSON ?? .null,
        ]
    }

    /// The inverse of `result(_:)`.
    static func completion(_ result: JSONValue) -> ResponseChunk {
        let usage = result["usage"] ?? .null
        var chunk = ResponseChunk(
            content: result["content"]?.stringValue ?? "", usage: Usage(json: usage),
            rawResponse: result["raw_response"].flatMap { $0.isNull ? nil : RawJSON($0) })
        if let served = usage["served_by"], let provider = served["provider"]?.stringValue,
            let channel = served["channel"]?.stringValue
        {
            chunk.servedBy = ServedBy(
                provider: Provider(provider), channel: Channel(channel), model: served["model"]?.stringValue ?? "")
        }
        chunk.cost = usage["total_cost"]?.doubleValue
        chunk.currency = usage["currency"]?.stringValue
        return chunk
    }

    /// Finishes a task with its outcome and usage record; false when another run finished it first.
    func complete(
        _ id: String, outcome: Result<ResponseChunk, ModelManagerError>, record: UsageRecord,
        releasingKeyOnFailure: Bool
    ) async throws -> Bool {
        let finishedNow: Bool
        switch outcome {
        case .success(let chunk):
            finishedNow = try await store.complete(
                id: id, status: .completed, resultData: Self.result(chunk), errorMessage: nil, record: record)
        case .failure(let error):
            finishedNow = try await store.complete(
                id: id, status: .failed, resultData: nil, errorMessage: "\(error.code): \(error.message)",
                record: record, releasingIdempotencyKey: releasingKeyOnFailure)
        }
        if finishedNow { finished.fire() }
        return finishedNow
    }

    /// One task for a caller with `grant` (nil: any org's); NOT_FOUND for an unknown id and for
    /// another org's.
    func status(_ id: String, for grant: CallerGrant?) async throws(ModelManagerError) -> StoredTask {
        guard let task = try await statuses([id], for: grant).first ?? nil else {
            throw ModelManagerError(.notFound, "task '\(id)' not found")
        }
        return task
    }

    /// The tasks asked for, in request order: nil for an unknown id and for another org's. A
    /// key needs the `tasks` scope.
    func statuses(_ ids: [String], for grant: CallerGrant?) async throws(ModelManagerError) -> [StoredTask?] {
        try grant?.admitTasks()
        let orgIDs = grant?.orgIDs
        let found: [StoredTask]
        do {
            found = try await store.tasks(ids: Array(Set(ids)))
        } catch {
            throw ModelManagerError(.unavailable, "cannot read tasks: the ledger database is unavailable")
        }
        let byID = Dictionary(found.map { ($0.id, $0) }) { first, _ in first }
        return ids.map { id in
            guard let task = byID[id], orgIDs?.contains(task.orgID) ?? true else { return nil }
            return task
        }
    }

    /// What a worker needs of the call's context, kept with the task.
    static func json(_ context: InvocationContext) -> JSONValue {
        [
            "request_id": .string(context.requestID),
            "origin_request_id": context.originRequestID.map { .string($0) } ?? .null,
            "metadata": .object(context.metadata.mapValues { .string($0) }),
            "token_subject": context.tokenSubject.map { .string($0) } ?? .null,
        ]
    }

    static func context(from json: JSONValue) -> InvocationContext {
        var context = InvocationContext(
            requestID: json["request_id"]?.stringValue ?? "", originRequestID: json["origin_request_id"]?.stringValue,
            metadata: (json["metadata"]?.objectValue ?? [:]).compactMapValues(\.stringValue),
            tokenSubject: json["token_subject"]?.stringValue)
        context.face = .task
        return context
    }

    private static func text(_ request: ModelRequest, _ key: String, maximumBytes: Int) throws(ModelManagerError)
        -> String?
    {
        guard let value = request.extra[key], !value.isNull else { return nil }
        guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= maximumBytes else {
            throw ModelManagerError(
                .invalidArgument,
                "\(key) must be a non-empty string of at most \(maximumBytes) bytes, got \(value.jsonText.prefix(100))")
        }
        return text
    }
}
