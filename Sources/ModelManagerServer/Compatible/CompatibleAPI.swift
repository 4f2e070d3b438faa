import Foundation
import HTTPTypes
import Hummingbird
import ModelManagerCore
import ModelManagerProviders
import NIOCore

/// The OpenAI- and Anthropic-compatible routes: `/v1/chat/completions`, `/v1/messages`,
/// `/v1/responses`, `/v1/embeddings` and `/v1/models`. A request names any served model; it is
/// translated for that model's API and runs as every call does (the caller's credential, quotas,
/// rate limits, cache, usage record and billing event), and the answer is translated back.
struct CompatibleAPI: Sendable {
    let invoke: HTTPInvokeAPI
    private var invocation: InvocationService { invoke.invocation }

    init(invoke: HTTPInvokeAPI) { self.invoke = invoke }

    /// Whose error shapes and credential header a route uses.
    enum Dialect {
        case openAI
        case anthropic

        func error(_ error: ModelManagerError, requestID: String?) -> Response {
            let body = self == .openAI ? ChatCompletionsFormat.error(error) : MessagesFormat.error(error)
            var response = HTTPJSON.response(error.code.httpStatus, body)
            if let seconds = error.retryAfterHeader { response.headers[.retryAfter] = seconds }
            if let requestID { response.headers[CompatibleAPI.requestIDHeader] = requestID }
            return response
        }
    }

    static let requestIDHeader = HTTPField.Name("x-request-id")!
    static let anthropicKeyHeader = HTTPField.Name("x-api-key")!
    static let orgHeader = HTTPField.Name("X-Org-ID")!
    static let userHeader = HTTPField.Name("X-User-ID")!

    /// A request read, named and admitted. A refusal (a quota, a rate limit, a permission) is an
    /// HTTP error before any stream starts, as the SDKs expect one (`RateLimitError` on 429).
    struct Accepted: Sendable {
        let context: InvocationContext
        let call: ModelRequest
        let target: CompatibleTarget
        let body: [String: JSONValue]
        let admission: InvocationService.Admission
    }

    // MARK: routes

    func chatCompletions(_ request: Request, _ face: FaceContext) async -> Response {
        let accepted: Accepted
        do throws(CompatibleRefusal) {
            accepted = try await accept(request, face, dialect: .openAI) { body, target throws(ModelManagerError) in
                (
                    Self.chatInvokeType(target.family),
                    try ChatRequestTranslation.extra(body, model: target.model, for: target.family)
                )
            }
        } catch {
            return Dialect.openAI.error(error.error, requestID: error.requestID)
        }
        let format = ChatCompletionsFormat(
            requestID: accepted.context.requestID, model: accepted.body["model"]?.stringValue ?? "")
        let family = accepted.target.family
        guard accepted.call.stream else {
            return await answer(accepted, dialect: .openAI) { final in
                if family == .openAI, let raw = final.rawResponse { return .raw(raw) }
                return .value(format.completion(AssistantTurn(completion: final, family: family)))
            }
        }
        // An OpenAI-family upstream's own chunks are relayed as they came.
        let writer = ChatChunkWriter(
            format: format, includeUsage: accepted.body["stream_options"]?["include_usage"]?.boolValue == true,
            relayed: family == .openAI)
        return stream(
            accepted, dialect: .openAI, writer: writer, relaysRaw: family == .openAI,
            reader: TurnDeltaReader(family: family))
    }

    func messages(_ request: Request, _ face: FaceContext) async -> Response {
        let accepted: Accepted
        do throws(CompatibleRefusal) {
            accepted = try await accept(request, face, dialect: .anthropic) { body, target throws(ModelManagerError) in
                guard target.family != .anthropic else {
                    return (.messages, ChatRequestTranslation.native(body, model: target.model))
                }
                let chat = try MessagesFormat.chatBody(body)
                return (
                    Self.chatInvokeType(target.family),
                    try ChatRequestTranslation.extra(chat, model: target.model, for: target.family)
                )
            }
        } catch {
            return Dialect.anthropic.error(error.error, requestID: error.requestID)
        }
        let format = MessagesFormat(
            requestID: accepted.context.requestID, model: accepted.body["model"]?.stringValue ?? "")
        let family = accepted.target.family
        guard accepted.call.stream else {
            return await answer(accepted, dialect: .anthropic) { final in
                if family == .anthropic, let raw = final.rawResponse { return .raw(raw) }
                return .value(format.message(AssistantTurn(completion: final, family: family)))
            }
        }
        return stream(
            accepted, dialect: .anthropic, writer: MessagesEventWriter(format: format), relaysRaw: false,
            reader: TurnDeltaReader(family: family))
    }

    /// `/v1/responses`: OpenAI's own models get the request as it is and their answers and
    /// stream events relayed; other models get it as a chat and answer with a `response` object
    /// (streamed as the Responses API's events).
    func responses(_ request: Request, _ face: FaceContext) async -> Response {
        let accepted: Accepted
        do throws(CompatibleRefusal) {
            accepted = try await accept(request, face, dialect: .openAI) { body, target throws(ModelManagerError) in
                guard target.family != .openAI else {
                    return (.responses, ChatRequestTranslation.native(body, model: target.model))
                }
                let chat = try ResponsesFormat.chatBody(body)
                return (
                    Self.chatInvokeType(target.family),
                    try ChatRequestTranslation.extra(chat, model: target.model, for: target.family)
                )
            }
        } catch {
            return Dialect.openAI.error(error.error, requestID: error.requestID)
        }
        let family = accepted.target.family
        let format = ResponsesFormat(
            requestID: accepted.context.requestID, model: accepted.body["model"]?.stringValue ?? "")
        guard accepted.call.stream else {
            return await answer(accepted, dialect: .openAI) { final in
                if family == .openAI, let raw = final.rawResponse { return .raw(raw) }
                return .value(format.response(AssistantTurn(completion: final, family: family)))
            }
        }
        // OpenAI's own events are read and stated again (the stream it relays to gRPC carries only
        // the deltas), closing with its own completed response.
        let writer = ResponsesEventWriter(format: format, relayed: family == .openAI)
        return stream(
            accepted, dialect: .openAI, writer: writer, relaysRaw: false,
            reader: TurnDeltaReader(family: family, responsesEvents: family == .openAI))
    }

    func embeddings(_ request: Request, _ face: FaceContext) async -> Response {
        let accepted: Accepted
        do throws(CompatibleRefusal) {
            accepted = try await accept(request, face, dialect: .openAI) { body, target throws(ModelManagerError) in
                switch target.family {
                case .openAI:
                    return (.embeddings, ChatRequestTranslation.native(body, model: target.model))
                case .gemini:
                    var extra = try EmbeddingsFormat.geminiExtra(body)
                    extra["model"] = .string(target.model)
                    return (.embeddings, extra)
                case .anthropic:
                    throw ModelManagerError(
                        .invalidArgument,
                        "model '\(body["model"]?.stringValue ?? "")': Anthropic's API has no embeddings")
                }
            }
        } catch {
            return Dialect.openAI.error(error.error, requestID: error.requestID)
        }
        let family = accepted.target.family
        let model = accepted.body["model"]?.stringValue ?? ""
        let encoding = accepted.body["encoding_format"]?.stringValue
        return await answer(accepted, dialect: .openAI) { final in
            if family == .openAI, let raw = final.rawResponse { return .raw(raw) }
            return .value(EmbeddingsFormat.list(fromGemini: final, model: model, encoding: encoding))
        }
    }

    /// `GET /v1/models`: every model a provider lists, as `provider/model`, and every alias.
    func models(_ request: Request, _ face: FaceContext) async -> Response {
        do throws(ModelManagerError) {
            _ = try await invoke.authenticate(request, face, apiKey: request.headers[Self.anthropicKeyHeader])
        } catch {
            return Dialect.openAI.error(error, requestID: nil)
        }
        var entries: [JSONValue] = []
        for (provider, models) in invocation.router.listedModels {
            for model in (models ?? []).sorted() {
                entries.append(Self.modelEntry("\(provider.rawValue)/\(model)", owner: provider.rawValue))
            }
        }
        for alias in invocation.router.allAliases {
            entries.append(Self.modelEntry(alias.name, owner: "model-manager"))
        }
        return HTTPJSON.response(200, ["object": "list", "data": .array(entries)])
    }

    private static func modelEntry(_ id: String, owner: String) -> JSONValue {
        ["id": .string(id), "object": "model", "created": 0, "owned_by": .string(owner)]
    }

    // MARK: shared steps

    static func chatInvokeType(_ family: WireFamily) -> InvokeType {
        switch family {
        case .openAI: .chatCompletions
        case .anthropic: .messages
        case .gemini: .generation
        }
    }

    struct CompatibleRefusal: Error {
        let error: ModelManagerError
        let requestID: String?
    }

    /// Authenticates, reads the body, names the model, translates the request and admits it.
    func accept(
        _ request: Request, _ face: FaceContext, dialect: Dialect,
        translate: ([String: JSONValue], CompatibleTarget) throws(ModelManagerError) -> (
            InvokeType, [String: JSONValue]
        )
    ) async throws(CompatibleRefusal) -> Accepted {
        var requestID = request.headers[HTTPInvokeAPI.requestIDHeader]
        do {
            let apiKey = dialect == .anthropic ? request.headers[Self.anthropicKeyHeader] : nil
            let (context, caller) = try await invoke.authenticate(
                request, face, apiKey: apiKey, callFace: dialect == .openAI ? .openAICompatible : .anthropicCompatible)
            requestID = context.requestID
            let body = try await invoke.body(request)
            guard let name = body["model"]?.stringValue else {
                throw ModelManagerError(.invalidArgument, "missing required parameter 'model' (a string)")
            }
            let target = try CompatibleTarget.resolve(name, router: invocation.router)
            let (invokeType, extra) = try translate(body, target)
            let call = ModelRequest(
                provider: target.provider, invokeType: invokeType, stream: body["stream"]?.boolValue == true,
                orgID: request.headers[Self.orgHeader] ?? caller.orgID ?? "",
                userID: request.headers[Self.userHeader] ?? caller.userID ?? "",
                clientType: dialect == .openAI ? "openai-compatible" : "anthropic-compatible", extra: extra)
            let admission = try await invocation.admit(call, context: context)
            return Accepted(context: context, call: call, target: target, body: body, admission: admission)
        } catch {
            throw CompatibleRefusal(error: HTTPInvokeAPI.normalize(error), requestID: requestID)
        }
    }

    enum JSON {
        case raw(RawJSON)
        case value(JSONValue)
    }

    /// A non-stream answer: `render` states the completion in the route's JSON.
    private func answer(_ accepted: Accepted, dialect: Dialect, render: @escaping (ResponseChunk) -> JSON) async
        -> Response
    {
        do {
            let admitted = accepted.admission
            let final = try await invocation.invoke(admitted: admitted, context: accepted.context) { _ in }
            var output = JSONOutput()
            switch render(final) {
            case .raw(let raw): output.write(raw)
            case .value(let value): output.write(value)
            }
            var response = HTTPJSON.response(200, output)
            HTTPInvokeAPI.add(admitted.rateLimitHeaders, to: &response.headers)
            response.headers[Self.requestIDHeader] = accepted.context.requestID
            return response
        } catch {
            return dialect.error(HTTPInvokeAPI.normalize(error), requestID: accepted.context.requestID)
        }
    }

    /// What a streamed answer's translation keeps between chunks (one stream's, used in turn).
    final class StreamTranslation<Writer: TurnEventWriter>: @unchecked Sendable {
        var reader: TurnDeltaReader
        var writer: Writer

        init(reader: TurnDeltaReader, writer: Writer) {
            self.reader = reader
            self.writer = writer
        }

        func relay(_ chunk: ResponseChunk, relaysRaw: Bool, into frames: inout SSEFrames) {
            if relaysRaw, let raw = chunk.rawResponse {
                frames.event { $0.write(raw) }
                return
            }
            for delta in reader.deltas(of: chunk) { Self.frame(writer.events(for: delta), into: &frames) }
        }

        func finish(_ final: ResponseChunk, into frames: inout SSEFrames) {
            Self.frame(writer.finish(final, stop: reader.stop(of: final)), into: &frames)
        }

        static func frame(_ events: [(name: StaticString?, payload: JSONValue)], into frames: inout SSEFrames) {
            for (name, payload) in events { frames.event(named: name) { $0.write(payload) } }
        }
    }

    /// A streamed answer as the route's server-sent events, stated by `writer` (an upstream's own
    /// events relayed as they came when `relaysRaw`); a failure after the start is in-band.
    private func stream(
        _ accepted: Accepted, dialect: Dialect, writer: some TurnEventWriter, relaysRaw: Bool, reader: TurnDeltaReader
    ) -> Response {
        var headers = HTTPFields()
        headers[Self.requestIDHeader] = accepted.context.requestID
        let translation = StreamTranslation(reader: reader, writer: writer)
        return EventStreamResponse.make(
            invocation, admission: .success(accepted.admission), context: accepted.context, headers: headers,
            endsWithDone: dialect == .openAI
        ) { deltas, frames in
            for delta in deltas { translation.relay(delta, relaysRaw: relaysRaw, into: &frames) }
        } finish: { final, frames in
            translation.finish(final, into: &frames)
        } failure: { error, frames in
            switch dialect {
            case .openAI: frames.event { $0.write(ChatCompletionsFormat.error(error)) }
            case .anthropic: frames.event(named: "error") { $0.write(MessagesFormat.error(error)) }
            }
        }
    }
}
