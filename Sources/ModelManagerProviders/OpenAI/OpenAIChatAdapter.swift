public import ModelManagerCore

/// OpenAI Chat Completions (and every OpenAI-compatible endpoint): JSON, or SSE with usage on the last chunk.
public struct OpenAIChatAdapter: ProviderAdapter {
    private let http: UpstreamHTTP

    public init(http: UpstreamHTTP) { self.http = http }

    public func invoke(_ request: ModelRequest, endpoint: UpstreamEndpoint, context: InvocationContext, emit: ChunkSink) async throws {
        var call = try OpenAIChatRequest.make(request, endpoint: endpoint.baseURL + "/chat/completions")
        call.headers.append(("Authorization", "Bearer \(endpoint.apiKey.revealed)"))
        let provider = request.provider
        let response = try await http.send(call, provider: provider, context: context)

        guard request.stream else {
            let answer = try await http.readJSON(response, provider: provider, context: context)
            if let failure = Self.inBandError(answer, provider: provider) { throw failure }
            let content = answer["choices"]?[0]?["message"]?["content"]?.stringValue ?? ""
            try await emit(ResponseChunk(content: content, usage: OpenAIUsage.normalize(answer["usage"]), rawResponse: answer))
            return
        }

        var usage: Usage?
        var lastEvent: JSONValue?
        var finished = false
        try await http.readEvents(response, provider: provider, context: context) { event in
            if event.data == "[DONE]" {
                finished = true
                return false
            }
            let chunk: JSONValue
            do {
                chunk = try JSONValue(parsing: event.data)
            } catch {
                throw ModelManagerError(.unavailable, "\(provider) sent a stream event that is not JSON (\(error))")
            }
            if let failure = Self.inBandError(chunk, provider: provider) { throw failure }
            if let reported = OpenAIUsage.normalize(chunk["usage"]) { usage = reported }
            lastEvent = chunk
            let delta = chunk["choices"]?[0]?["delta"]
            let content = delta?["content"]?.stringValue ?? ""
            let carriesMore = delta?["tool_calls"] != nil || delta?["function_call"] != nil
            if !content.isEmpty || carriesMore {
                try await emit(ResponseChunk(content: content, rawResponse: chunk))
            }
            return true
        }
        guard finished else {
            throw ModelManagerError(.unavailable, "\(provider) stream ended before its [DONE] event")
        }
        try await emit(ResponseChunk(content: "", usage: usage, rawResponse: lastEvent))
    }

    /// An error object inside a 200 answer (some OpenAI-compatible servers do this, and streams can).
    private static func inBandError(_ body: JSONValue, provider: Provider) -> ModelManagerError? {
        guard let error = body["error"], !error.isNull else { return nil }
        let message = error["message"]?.stringValue ?? error.jsonText
        return ModelManagerError(.unavailable, "\(provider) reported an error: \(message)")
    }
}
