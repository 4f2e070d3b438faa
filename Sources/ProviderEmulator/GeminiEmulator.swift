import Hummingbird
import ModelManagerCore

/// Gemini `generateContent` / `streamGenerateContent?alt=sse` and Imagen `predict`, on the
/// AI Studio paths (`x-goog-api-key`) and the Vertex AI paths (a Bearer token from `/token`).
struct GeminiEmulator {
    let keys: EmulatorKeys
    let recorder: EmulatorRecorder
    let tokens: TokenEmulator
    let style = ErrorStyle.google

    enum Host {
        case aiStudio
        case vertex(project: String, location: String)
    }

    /// `models/{model}:{method}`, the last path segment.
    func handle(_ request: Request, modelAndMethod: String, host: Host) async throws -> Response {
        let input = try await EmulatedRequest.read(request, recorder: recorder)
        switch host {
        case .aiStudio:
            let invalidKey = EmulatorHTTP.json(
                400,
                [
                    "error": [
                        "code": 400, "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                        "details": [
                            [
                                "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                                "domain": "googleapis.com",
                            ]
                        ],
                    ]
                ])
            if let refusal = keys.refusal(
                input.header("x-goog-api-key") ?? input.query["key"], style: style, unknown: invalidKey)
            {
                return refusal
            }
        case .vertex:
            guard let authorization = input.header("authorization"), authorization.hasPrefix("Bearer "),
                tokens.isValid(String(authorization.dropFirst(7)))
            else {
                return style.response(
                    401,
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
                )
            }
        }
        if let injected = style.injected(input.fault) { return injected }
        let parts = modelAndMethod.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return style.response(404, "Method not found.") }
        let (model, method) = (parts[0], parts[1])
        guard case .object(let parameters) = input.body ?? .null else {
            return style.response(400, "Invalid JSON payload received.")
        }
        switch method {
        case "generateContent", "streamGenerateContent":
            return generate(
                model: model, parameters: parameters, stream: method == "streamGenerateContent", input: input,
                host: host)
        case "predict":
            return predict(model: model, parameters: parameters)
        case "embedContent", "batchEmbedContents":
            return embed(model: model, parameters: parameters, batch: method == "batchEmbedContents")
        default:
            return style.response(404, "Method not found.")
        }
    }

    private func generate(
        model: String, parameters: [String: JSONValue], stream: Bool, input: EmulatedRequest, host: Host
    ) -> Response {
        guard ModelCatalog.gemini.contains(model) else {
            if case .vertex(let project, let location) = host {
                return style.response(
                    404,
                    "Publisher Model `projects/\(project)/locations/\(location)/publishers/google/models/\(model)` was not found or your project does not have access to it."
                )
            }
            return style.response(
                404,
                "models/\(model) is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
            )
        }
        guard case .array(let contents) = parameters["contents"] ?? .null, !contents.isEmpty else {
            return style.response(400, "* GenerateContentRequest.contents: contents is not specified\n")
        }
        for (index, content) in contents.enumerated() {
            guard case .array(let parts) = content["parts"] ?? .null, !parts.isEmpty else {
                return style.response(
                    400, "* GenerateContentRequest.contents[\(index)].parts: contents.parts must not be empty.\n")
            }
            if let role = content["role"]?.stringValue, role != "user", role != "model" {
                return style.response(400, "Please use a valid role: user, model.")
            }
        }
        let config = parameters["generationConfig"] ?? parameters["generation_config"]
        let maxTokens = (config?["maxOutputTokens"] ?? config?["max_output_tokens"])?.integerValue.map { Int($0) }
        if let value = config?["maxOutputTokens"], value.integerValue == nil {
            return style.response(
                400, "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), \(value.jsonText)")
        }
        let system =
            (parameters["systemInstruction"] ?? parameters["system_instruction"])?["parts"]?.arrayValue?.compactMap {
                $0["text"]?.stringValue
            }.joined(separator: " ") ?? ""
        let prompt = contents.flatMap { $0["parts"]?.arrayValue ?? [] }.compactMap { $0["text"]?.stringValue }.joined(
            separator: "\n")
        var answer = DeterministicAnswer(
            prompt: (system.isEmpty ? "" : system + "\n") + prompt, messageCount: contents.count, maxTokens: maxTokens,
            reasoning: ModelCatalog.reasoning.contains(model))
        let callingConfig = parameters["toolConfig"]?["functionCallingConfig"]
        let toolCall = EmulatedToolCall(
            tools: (parameters["tools"]?.arrayValue ?? []).flatMap { $0["functionDeclarations"]?.arrayValue ?? [] }
                .compactMap { declaration in declaration["name"]?.stringValue.map { ($0, declaration["parameters"]) } },
            forced: callingConfig?["allowedFunctionNames"]?[0]?.stringValue,
            disabled: callingConfig?["mode"]?.stringValue == "NONE",
            answered: (contents.last?["parts"]?.arrayValue ?? []).contains { $0["functionResponse"] != nil },
            prompt: prompt)
        if toolCall != nil { answer = answer.callingTool() }
        let finishReason: JSONValue = answer.finishReason == "length" ? "MAX_TOKENS" : "STOP"
        let responseID = EmulatorHTTP.identifier(for: prompt + model)
        func usage(candidates: Int?) -> JSONValue {
            var object: [String: JSONValue] = [
                "promptTokenCount": .integer(Int64(answer.promptTokens)),
                "totalTokenCount": .integer(
                    Int64(answer.promptTokens + (candidates.map { $0 + answer.reasoningTokens } ?? 0))),
                "promptTokensDetails": [["modality": "TEXT", "tokenCount": .integer(Int64(answer.promptTokens))]],
            ]
            if let candidates { object["candidatesTokenCount"] = .integer(Int64(candidates)) }
            if answer.reasoningTokens > 0, candidates != nil {
                object["thoughtsTokenCount"] = .integer(Int64(answer.reasoningTokens))
            }
            if answer.cachedTokens > 0 { object["cachedContentTokenCount"] = .integer(Int64(answer.cachedTokens)) }
            return .object(object)
        }
        func response(text: String, finishReason: JSONValue?, usage: JSONValue) -> JSONValue {
            let parts: JSONValue =
                toolCall.map { [["functionCall": ["name": .string($0.name), "args": $0.arguments]]] }
                ?? [["text": .string(text)]]
            var candidate: [String: JSONValue] = ["content": ["parts": parts, "role": "model"], "index": 0]
            if let finishReason { candidate["finishReason"] = finishReason }
            return [
                "candidates": [.object(candidate)], "usageMetadata": usage, "modelVersion": .string(model),
                "responseId": .string(responseID),
            ]
        }
        let visibleTokens = answer.completionTokens - answer.reasoningTokens
        guard stream else {
            return EmulatorHTTP.json(
                200, response(text: answer.text, finishReason: finishReason, usage: usage(candidates: visibleTokens)))
        }
        var events: [(String?, String)] = []
        for (index, word) in answer.words.enumerated() {
            let last = index == answer.words.count - 1
            // Only the last chunk has a finishReason; the others omit the key (never null).
            let reason: JSONValue? = last ? finishReason : Optional.none
            events.append(
                (
                    nil,
                    response(text: word, finishReason: reason, usage: usage(candidates: last ? visibleTokens : nil))
                        .jsonText
                ))
        }
        if answer.words.isEmpty {
            events.append(
                (nil, response(text: "", finishReason: finishReason, usage: usage(candidates: visibleTokens)).jsonText))
        }
        return EmulatorHTTP.eventStream(events, fault: input.fault, recorder: recorder)
    }

    private func predict(model: String, parameters: [String: JSONValue]) -> Response {
        guard ModelCatalog.imagen.contains(model) else {
            return style.response(
                404,
                "models/\(model) is not found for API version v1beta, or is not supported for predict. Call ListModels to see the list of available models and their supported methods."
            )
        }
        guard let prompt = parameters["instances"]?[0]?["prompt"]?.stringValue, !prompt.isEmpty else {
            return style.response(400, "Invalid instances: a prompt is required.")
        }
        let countValue = parameters["parameters"]?["sampleCount"] ?? 1
        guard let count = countValue.integerValue, (1...4).contains(count) else {
            return style.response(400, "Invalid sample count: \(countValue.jsonText). Expected an integer from 1 to 4.")
        }
        let predictions = (0..<count).map { _ -> JSONValue in
            ["bytesBase64Encoded": .string(EmulatorHTTP.pixelPNG), "mimeType": "image/png"]
        }
        return EmulatorHTTP.json(200, ["predictions": .array(predictions)])
    }
}
