import Foundation
import ModelManagerAuth
import ModelManagerCore
import ModelManagerGRPC
import ModelManagerUsage
import ModelManagerWire

/// The `model_service.ModelService` methods over libgrpc (PROTOCOL.md §5–§6).
struct ModelServiceHandlers: Sendable {
    let invocation: InvocationService
    let authenticator: CallerAuthenticator
    let wireLimits: WireLimits
    let recordedHeaders: RecordedHeaders

    static let service = "model_service.ModelService"

    var methods: [String: ServerMethodHandler] {
        [
            "/\(Self.service)/Invoke": invoke,
            "/\(Self.service)/BatchInvoke": batchInvoke,
            "/\(Self.service)/GetTaskStatus": getTaskStatus,
            "/\(Self.service)/BatchGetTaskStatus": batchGetTaskStatus,
        ]
    }

    // MARK: Invoke

    @Sendable func invoke(_ call: ServerCall) async {
        guard let (bytes, context) = await accept(call) else { return }
        let request: ModelRequest
        do {
            request = try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
                try ModelServiceCodec.decodeRequestItem(buffer, limits: wireLimits)
            }
        } catch {
            await call.finish(failing: error)
            return
        }
        if request.stream {
            await invokeStreaming(request, call: call, context: context)
        } else {
            await invokeOnce(request, call: call, context: context)
        }
    }

    private func invokeOnce(_ request: ModelRequest, call: ServerCall, context: InvocationContext) async {
        do {
            let admitted = try await invocation.admit(request, context: context)
            let chunk = try await invocation.invoke(admitted: admitted, context: context) { _ in }
            let item = WireResponseItem(chunk: chunk, customID: request.customID, requestID: context.requestID)
            await call.finish(
                sending: OutgoingMessage(ModelServiceCodec.encodeResponseItem(item)),
                trailers: Metadata(admitted.rateLimitHeaders.map { ($0.name, $0.value) }))
        } catch {
            await call.finish(failing: error)
        }
    }

    /// Deltas as they arrive; the completion, with the usage, is the last item, sent with the
    /// status in one batch. A failure after the call started is an in-band `error` item followed
    /// by OK (the sync Python client loses non-OK stream statuses).
    private func invokeStreaming(_ request: ModelRequest, call: ServerCall, context: InvocationContext) async {
        do {
            let admitted = try await invocation.admit(request, context: context)
            let final = try await invocation.invoke(admitted: admitted, context: context) { deltas in
                for delta in deltas {
                    let item = WireResponseItem(chunk: delta, customID: request.customID, requestID: context.requestID)
                    guard await call.send(OutgoingMessage(ModelServiceCodec.encodeResponseItem(item))) else {
                        throw CancellationError()
                    }
                }
            }
            let item = WireResponseItem(chunk: final, customID: request.customID, requestID: context.requestID)
            await call.finish(
                sending: OutgoingMessage(ModelServiceCodec.encodeResponseItem(item)),
                trailers: Metadata(admitted.rateLimitHeaders.map { ($0.name, $0.value) }))
        } catch {
            guard !call.isCancelled else {
                await call.finish(GRPCStatus(code: .cancelled, message: "cancelled by the client"))
                return
            }
            let item = WireResponseItem(error: error.message, customID: request.customID, requestID: context.requestID)
            await call.finish(sending: OutgoingMessage(ModelServiceCodec.encodeResponseItem(item)))
        }
    }

    // MARK: BatchInvoke

    /// Items run concurrently and come back in request order, each failing on its own.
    @Sendable func batchInvoke(_ call: ServerCall) async {
        guard let (bytes, context) = await accept(call) else { return }
        let requests: [ModelRequest]
        do {
            requests = try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
                try ModelServiceCodec.decodeBatchRequest(buffer, limits: wireLimits)
            }
        } catch {
            await call.finish(failing: error)
            return
        }
        let results: [Result<ResponseChunk, ModelManagerError>]
        do {
            results = try await invocation.invokeBatch(requests, context: context)
        } catch {
            await call.finish(failing: error)
            return
        }
        let items = zip(requests, results).map { request, result in
            switch result {
            case .success(let chunk):
                WireResponseItem(chunk: chunk, customID: request.customID, requestID: context.requestID)
            case .failure(let error):
                WireResponseItem(error: error.message, customID: request.customID, requestID: context.requestID)
            }
        }
        await call.finish(
            sending: OutgoingMessage(ModelServiceCodec.encodeBatchResponse(requestID: context.requestID, items: items)))
    }

    // MARK: Tasks

    /// A task's status; NOT_FOUND for an unknown id and for another org's.
    @Sendable func getTaskStatus(_ call: ServerCall) async {
        guard let (bytes, context) = await accept(call) else { return }
        do throws(ModelManagerError) {
            let taskID = try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
                try TaskStatusCodec.decodeRequest(buffer)
            }
            let task = try await invocation.tasks.status(taskID, for: context.grant)
            await call.finish(sending: OutgoingMessage(TaskStatusCodec.encodeResponse(WireTaskStatus(task))))
        } catch {
            await call.finish(failing: error)
        }
    }

    /// The tasks' statuses in request order; an unknown id (or another org's) gets an entry
    /// whose status is `failed` and whose error says it was not found.
    @Sendable func batchGetTaskStatus(_ call: ServerCall) async {
        guard let (bytes, context) = await accept(call) else { return }
        do throws(ModelManagerError) {
            let taskIDs = try bytes.withUnsafeBytes { buffer throws(ModelManagerError) in
                try TaskStatusCodec.decodeBatchRequest(buffer)
            }
            guard taskIDs.count <= invocation.limits.maximumBatchItems else {
                throw ModelManagerError(
                    .invalidArgument,
                    "\(taskIDs.count) task ids asked for; at most \(invocation.limits.maximumBatchItems) are answered at once"
                )
            }
            let found = try await invocation.tasks.statuses(taskIDs, for: context.grant)
            let statuses = zip(taskIDs, found).map { id, task in
                task.map(WireTaskStatus.init) ?? WireTaskStatus(notFound: id)
            }
            await call.finish(sending: OutgoingMessage(TaskStatusCodec.encodeBatchResponse(statuses)))
        } catch {
            await call.finish(failing: error)
        }
    }

    // MARK: shared steps

    /// Authenticates the call and reads its request; on failure the call is already finished.
    private func accept(_ call: ServerCall) async -> (ReceivedMessage, InvocationContext)? {
        let caller: CallerAuthenticator.Caller
        do {
            caller = try await authenticator.authenticate(
                authorization: call.metadata["authorization"],
                apiKey: call.metadata["api-key"] ?? call.metadata["apikey"], address: call.peerAddress)
        } catch {
            await call.finish(failing: error)
            return nil
        }
        guard let message = await call.receiveMessage() else {
            await call.finish(ModelManagerError(.invalidArgument, "the call carried no request message").grpcStatus)
            return nil
        }
        let requestID =
            call.metadata["x-request-id"].flatMap { $0.isEmpty ? nil : $0 } ?? UUIDText.random()
        let origin = call.metadata["x-origin-request-id"].flatMap { $0.isEmpty ? nil : $0 }
        let metadata = recordedHeaders.metadata(from: call.metadata.lazy.map { (name: $0.key, value: $0.value) })
        var context = InvocationContext(
            requestID: requestID, originRequestID: origin, deadline: call.deadline, metadata: metadata,
            tokenSubject: caller.subject, grant: caller.grant, peerAddress: { [call] in call.peerAddress })
        context.traceHeaders = CallTrace.headers(
            traceparent: call.metadata["traceparent"], tracestate: call.metadata["tracestate"])
        return (message, context)
    }
}

extension WireTaskStatus {
    init(_ task: StoredTask) {
        self.init(taskID: task.id)
        provider = task.provider
        channel = task.channel
        invokeType = task.invokeType
        model = task.model
        status = task.status.rawValue
        createdAt = task.createdAt.formatted(.iso8601)
        completedAt = task.completedAt?.formatted(.iso8601) ?? ""
        resultData = task.resultData ?? ""
        errorMessage = task.errorMessage ?? ""
    }

    init(notFound id: String) {
        self.init(taskID: id)
        status = StoredTask.Status.failed.rawValue
        errorMessage = "not found: no task '\(id)' for this caller"
    }
}

extension WireResponseItem {
    init(chunk: ResponseChunk, customID: String?, requestID: String) {
        self.init(
            content: chunk.content,
            usage: chunk.usageJSON?.jsonText ?? "",
            rawResponse: chunk.rawResponse?.text ?? "",
            error: chunk.error ?? "",
            customID: customID,
            requestID: requestID
        )
    }
}

extension ModelManagerError {
    var grpcStatus: GRPCStatus { GRPCStatus(code: code.grpcStatus, message: message) }

    /// Whole seconds after which a retry can succeed (a quota's reset), when known.
    var retryAfterHeader: String? { retryAfterSeconds.map { String(Int64(max(0, $0).rounded(.up))) } }
}

extension ServerCall {
    /// Ends the call with the error's status, and `retry-after` in the trailers when it says.
    func finish(failing error: ModelManagerError) async {
        await finish(error.grpcStatus, trailers: Metadata(error.retryAfterHeader.map { [("retry-after", $0)] } ?? []))
    }
}
