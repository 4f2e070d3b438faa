public import ModelManagerCore

/// OpenAI, Azure OpenAI and every OpenAI-compatible endpoint: one set of codecs, three ways to
/// address and authenticate.
public struct OpenAIFamilyAdapter: ProviderAdapter {
    public enum Flavor: Sendable {
        /// api.openai.com: Chat Completions, Responses, Images; `Authorization: Bearer`.
        case openAI
        /// Azure OpenAI: deployment in the path, `api-version` query, `api-key` header.
        case azure
        /// Any server that speaks Chat Completions; `Authorization: Bearer`.
        case compatible
    }

    private let http: UpstreamHTTP
    private let flavor: Flavor

    public init(http: UpstreamHTTP, flavor: Flavor) {
        self.http = http
        self.flavor = flavor
    }

    public var invokeTypes: [InvokeType: InvokeType] {
        switch flavor {
        case .compatible:
            [.chatCompletions: .chatCompletions, .generation: .chatCompletions]
        case .openAI, .azure:
            [
                .chatCompletions: .chatCompletions, .responses: .responses, .generation: .responses,
                .imageGeneration: .imageGeneration, .embeddings: .embeddings,
            ]
        }
    }

    public func inferInvokeType(model: String, extra: [String: JSONValue]) -> InvokeType? {
        if flavor == .compatible { return .chatCompletions }
        if extra["messages"] != nil { return .chatCompletions }
        if extra["input"] != nil { return .responses }
        if extra["prompt"] != nil || model.hasPrefix("dall-e") || model.hasPrefix("gpt-image") {
            return .imageGeneration
        }
        return nil
    }

    public func invoke(
        _ request: ModelRequest, as invokeType: InvokeType, target: UpstreamTarget, context: InvocationContext,
        emit: ChunkSink
    ) async throws -> ResponseChunk {
        let provider = request.provider
        // Azure names the deployment, not the model, in the path (and in the Responses body).
        let model = flavor == .azure ? target.deployment : nil
        let body: JSONValue
        let path: String
        switch invokeType {
        case .chatCompletions:
            body = try OpenAIChatCodec.body(request, model: nil)
            path = "chat/completions"
        case .responses:
            body = try OpenAIResponsesCodec.body(request, model: model)
            path = "responses"
        case .imageGeneration:
            body = try OpenAIImagesCodec.body(request, model: nil)
            path = "images/generations"
        case .embeddings:
            body = try OpenAIEmbeddingsCodec.body(request)
            path = "embeddings"
        default:
            throw ModelManagerError(
                .invalidArgument, "invoke_type '\(invokeType)' is not served for provider '\(provider)'")
        }
        let key = try target.apiKey()
        var headers = try RequestParameters.headers(from: request.extra)
        let url: String
        switch flavor {
        case .openAI, .compatible:
            headers.append(("Authorization", "Bearer \(key)"))
            url = try RequestParameters.url("\(target.baseURL)/\(path)", extra: request.extra)
        case .azure:
            headers.append(("api-key", key))
            let version = [("api-version", target.settings.apiVersion ?? "2025-04-01-preview")]
            let deployment = try RequestParameters.pathSegment(
                target.deployment ?? request.model ?? "", parameter: "Azure deployment")
            let resource =
                invokeType == .responses
                ? "\(target.baseURL)/openai/responses" : "\(target.baseURL)/openai/deployments/\(deployment)/\(path)"
            url = try RequestParameters.url(resource, extra: request.extra, fixed: version)
        }
        let subject = flavor == .azure ? "deployment '\(target.deployment ?? request.model ?? "")'" : nil
        let call = UpstreamHTTP.Call(
            url: url, headers: headers, body: body, timeout: try RequestParameters.timeout(from: request.extra),
            subject: subject)
        let response = try await http.send(call, provider: provider, context: context)

        let streams = request.stream && invokeType != .imageGeneration && invokeType != .embeddings
        guard streams else {
            let json = try await http.readJSON(response, provider: provider, context: context)
            switch invokeType {
            case .chatCompletions: return try OpenAIChatCodec.answer(json, provider: provider)
            case .responses: return try OpenAIResponsesCodec.answer(json, provider: provider)
            case .embeddings: return OpenAIEmbeddingsCodec.answer(json)
            default: return try OpenAIImagesCodec.answer(json, provider: provider)
            }
        }
        if invokeType == .responses {
            var decoder = OpenAIResponsesCodec.StreamDecoder(provider: provider)
            return try await http.drive(&decoder, response: response, provider: provider, context: context, emit: emit)
        }
        var decoder = OpenAIChatCodec.StreamDecoder(provider: provider)
        return try await http.drive(&decoder, response: response, provider: provider, context: context, emit: emit)
    }
}
