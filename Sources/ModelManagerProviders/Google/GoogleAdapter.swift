public import ModelManagerCore

/// Gemini `generateContent` (JSON and `alt=sse`) and Imagen `predict`, on AI Studio
/// (`x-goog-api-key`) or Vertex AI (OAuth2 from a service account, project and location in the path).
public struct GoogleAdapter: ProviderAdapter {
    public enum Flavor: Sendable {
        case aiStudio
        case vertex
    }

    private let http: UpstreamHTTP
    private let flavor: Flavor
    private let tokens: GoogleAccessTokens

    public init(http: UpstreamHTTP, flavor: Flavor, tokens: GoogleAccessTokens) {
        self.http = http
        self.flavor = flavor
        self.tokens = tokens
    }

    public var invokeTypes: [InvokeType: InvokeType] {
        switch flavor {
        case .aiStudio:
            [.generation: .generation, .imageGenerationGenAI: .imageGenerationGenAI, .embeddings: .embeddings]
        case .vertex:
            [.generation: .generation, .imageGeneration: .imageGeneration, .imageGenerationGenAI: .imageGeneration]
        }
    }

    public func inferInvokeType(model: String, extra: [String: JSONValue]) -> InvokeType? {
        guard model.hasPrefix("imagen") else { return .generation }
        return flavor == .aiStudio ? .imageGenerationGenAI : .imageGeneration
    }

    public func invoke(
        _ request: ModelRequest, as invokeType: InvokeType, target: UpstreamTarget, context: InvocationContext,
        emit: ChunkSink
    ) async throws -> ResponseChunk {
        let provider = request.provider
        let model = try RequestParameters.pathSegment(request.model ?? "", parameter: "model")
        let isEmbedding = invokeType == .embeddings
        let isImage = invokeType != .generation && !isEmbedding
        let body =
            isEmbedding
            ? try GeminiEmbeddingsCodec.body(request.extra)
            : isImage ? try ImagenCodec.body(request.extra) : try GeminiCodec.body(request.extra)
        let method =
            isEmbedding
            ? "embedContent" : isImage ? "predict" : request.stream ? "streamGenerateContent" : "generateContent"

        var headers = try RequestParameters.headers(from: request.extra)
        let resource: String
        switch flavor {
        case .aiStudio:
            headers.append(("x-goog-api-key", try target.apiKey()))
            resource = "\(target.baseURL)/v1beta/models/\(model):\(method)"
        case .vertex:
            guard case .serviceAccount(let account) = target.credential else {
                throw ModelManagerError(
                    .failedPrecondition, "Vertex AI needs a service account (set GOOGLE_APPLICATION_CREDENTIALS)")
            }
            guard let project = target.settings.project ?? account.projectID else {
                throw ModelManagerError(.failedPrecondition, "Vertex AI needs a project (set GOOGLE_CLOUD_PROJECT)")
            }
            let location = target.settings.location ?? "us-central1"
            headers.append(("Authorization", "Bearer \(try await tokens.token(for: account, context: context))"))
            resource =
                "\(target.baseURL)/v1/projects/\(project)/locations/\(location)/publishers/google/models/\(model):\(method)"
        }
        let streams = request.stream && !isImage && !isEmbedding
        let url = try RequestParameters.url(resource, extra: request.extra, fixed: streams ? [("alt", "sse")] : [])
        let call = UpstreamHTTP.Call(
            url: url, headers: headers, body: body, timeout: try RequestParameters.timeout(from: request.extra))
        let response = try await http.send(call, provider: provider, context: context)
        guard streams else {
            let answer = try await http.readJSON(response, provider: provider, context: context)
            if isImage { return ImagenCodec.answer(answer) }
            if isEmbedding {
                return ResponseChunk(usage: Usage(promptTokens: 0, completionTokens: 0), rawResponse: answer.raw)
            }
            let json = answer.value
            return ResponseChunk(
                content: GeminiCodec.text(of: json), usage: GeminiCodec.usage(json["usageMetadata"]),
                rawResponse: answer.raw)
        }
        var decoder = GeminiCodec.StreamDecoder(provider: provider)
        return try await http.drive(&decoder, response: response, provider: provider, context: context, emit: emit)
    }
}
