import ModelManagerCore

/// `generateContent` bodies from the google-genai style parameters (`contents`, `config`), and
/// the answer's text and usage. Shared by AI Studio and Vertex AI.
enum GeminiCodec {
    /// GenerateContentConfig keys that sit at the top of the REST body; the rest go in `generationConfig`.
    static let topLevelConfigKeys: Set<String> = [
        "system_instruction", "tools", "tool_config", "safety_settings", "cached_content", "labels",
    ]
    static let integerKeys: Set<String> = [
        "maxOutputTokens", "candidateCount", "topK", "seed", "thinkingBudget", "logprobs",
    ]
    static let ignoredConfigKeys: Set<String> = ["http_options", "automatic_function_calling"]

    static func body(_ extra: [String: JSONValue]) throws(ModelManagerError) -> JSONValue {
        try RequestParameters.requireContent("contents", in: extra, allowString: true)
        var body: [String: JSONValue] = ["contents": contents(extra["contents"]!)]
        var generationConfig: [String: JSONValue] = [:]
        if case .object(let config) = extra["config"] {
            for (key, value) in config where !value.isNull && !ignoredConfigKeys.contains(key) {
                if key == "system_instruction" {
                    body["systemInstruction"] = systemInstruction(value)
                } else if topLevelConfigKeys.contains(key) {
                    body[camelCase(key)] = camelCased(value)
                } else {
                    generationConfig[camelCase(key)] = camelCased(value)
                }
            }
        } else if let config = extra["config"], !config.isNull {
            throw ModelManagerError(.invalidArgument, "parameter 'config' must be an object, got \(config.typeName)")
        }
        // REST-style keys given directly are passed through.
        for key in ["generationConfig", "systemInstruction", "safetySettings", "tools", "toolConfig", "cachedContent"] {
            if let value = extra[key] { body[key] = value }
        }
        if case .object(let direct) = body["generationConfig"] { generationConfig.merge(direct) { _, new in new } }
        if !generationConfig.isEmpty {
            var coerced: [String: JSONValue] = [:]
            for (key, value) in generationConfig { coerced[key] = try coerceIntegers(key, value) }
            body["generationConfig"] = .object(coerced)
        }
        return .object(body)
    }

    /// A string, a list of strings/parts (one user turn), or a list of contents.
    static func contents(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            return [["role": "user", "parts": [["text": .string(text)]]]]
        case .array(let items)
        where items.allSatisfy({ $0.stringValue != nil || ($0["parts"] == nil && $0["role"] == nil) }):
            let parts = items.map { item -> JSONValue in
                item.stringValue.map { ["text": .string($0)] } ?? camelCased(item)
            }
            return [["role": "user", "parts": .array(parts)]]
        case .array(let items):
            return .array(items.map(camelCased))
        case .object:
            return [camelCased(value)]
        default:
            return value
        }
    }

    static func systemInstruction(_ value: JSONValue) -> JSONValue {
        if let text = value.stringValue { return ["parts": [["text": .string(text)]]] }
        return camelCased(value)
    }

    static func coerceIntegers(_ key: String, _ value: JSONValue) throws(ModelManagerError) -> JSONValue {
        if case .object(let nested) = value {
            var result: [String: JSONValue] = [:]
            for (name, inner) in nested { result[name] = try coerceIntegers(name, inner) }
            return .object(result)
        }
        return try RequestParameters.coerced(key, value, integerKeys: integerKeys)
    }

    /// Proto field names as the REST API spells them (it accepts both; we send the documented form).
    static func camelCase(_ key: String) -> String {
        guard key.contains("_") else { return key }
        let parts = key.split(separator: "_")
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func camelCased(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            var result: [String: JSONValue] = [:]
            for (key, inner) in object {
                // The Python SDK sends bytes as "bytes:<base64>"; inline data wants the base64 alone.
                if key == "data", let text = inner.stringValue, text.hasPrefix("bytes:") {
                    result[key] = .string(String(text.dropFirst(6)))
                    continue
                }
                // Free-form maps keep their keys: function arguments, response schemas, labels.
                let keepsKeys = [
                    "args", "properties", "response", "labels", "parameters", "responseSchema", "response_schema",
                ].contains(key)
                result[camelCase(key)] = keepsKeys ? inner : camelCased(inner)
            }
            return .object(result)
        case .array(let array):
            return .array(array.map(camelCased))
        default:
            return value
        }
    }

    /// The visible text of the first candidate (thought parts excluded).
    static func text(of response: JSONValue) -> String {
        (response["candidates"]?[0]?["content"]?["parts"]?.arrayValue ?? [])
            .filter { $0["thought"]?.boolValue != true }
            .compactMap { $0["text"]?.stringValue }
            .joined()
    }

    /// `usageMetadata` → usage; thoughts count as completion (and reasoning) tokens.
    static func usage(_ metadata: JSONValue?) -> Usage? {
        guard let metadata, let prompt = metadata["promptTokenCount"]?.tokenCount else { return nil }
        let candidates = metadata["candidatesTokenCount"]?.tokenCount ?? 0
        let thoughts = metadata["thoughtsTokenCount"]?.tokenCount
        let toolPrompt = metadata["toolUsePromptTokenCount"]?.tokenCount ?? 0
        return Usage(
            promptTokens: prompt + toolPrompt,
            completionTokens: candidates + (thoughts ?? 0),
            totalTokens: metadata["totalTokenCount"]?.tokenCount,
            cachedTokens: metadata["cachedContentTokenCount"]?.tokenCount,
            reasoningTokens: thoughts)
    }

    /// `streamGenerateContent?alt=sse`: each event a partial response, usage cumulative,
    /// the last with a `finishReason`; the stream ends when the connection closes.
    struct StreamDecoder: ModelManagerProviders.StreamDecoder {
        let provider: Provider
        private(set) var isComplete = false
        private var usage: Usage?
        private var last: RawJSON?

        init(provider: Provider) { self.provider = provider }

        mutating func decode(_ event: SSEParser.Event) throws(ModelManagerError) -> ResponseChunk? {
            let payload = try parseEventJSON(event.data, provider: provider)
            if let failure = reportedError(in: payload, provider: provider) { throw failure }
            if let reported = GeminiCodec.usage(payload["usageMetadata"]) { usage = reported }
            last = RawJSON(validated: event.data)
            if let reason = payload["candidates"]?[0]?["finishReason"]?.stringValue, !reason.isEmpty {
                isComplete = true
            }
            let text = GeminiCodec.text(of: payload)
            let hasCall = (payload["candidates"]?[0]?["content"]?["parts"]?.arrayValue ?? []).contains {
                $0["functionCall"] != nil
            }
            return text.isEmpty && !hasCall ? nil : ResponseChunk(content: text, rawResponse: last)
        }

        var finalChunk: ResponseChunk { ResponseChunk(content: "", usage: usage, rawResponse: last) }
    }
}

/// Imagen `:predict` bodies, from google-genai's GenerateImagesConfig or Vertex's flat parameters.
enum ImagenCodec {
    static let parameterNames: [String: String] = [
        "number_of_images": "sampleCount", "aspect_ratio": "aspectRatio", "negative_prompt": "negativePrompt",
        "guidance_scale": "guidanceScale", "seed": "seed", "language": "language", "add_watermark": "addWatermark",
        "safety_filter_level": "safetySetting", "person_generation": "personGeneration", "output_gcs_uri": "storageUri",
        "include_rai_reason": "includeRaiReason", "enhance_prompt": "enhancePrompt", "image_size": "sampleImageSize",
    ]

    static func body(_ extra: [String: JSONValue]) throws(ModelManagerError) -> JSONValue {
        guard let prompt = extra["prompt"]?.stringValue, !prompt.isEmpty else {
            throw ModelManagerError(
                .invalidArgument, "missing required parameter 'prompt' in extra (a non-empty string)")
        }
        var source = extra
        if case .object(let config) = extra["config"] { source.merge(config) { _, new in new } }
        var parameters: [String: JSONValue] = [:]
        var outputOptions: [String: JSONValue] = [:]
        for (key, value) in source where !value.isNull {
            if let name = parameterNames[key] {
                parameters[name] =
                    name == "sampleCount" || name == "seed"
                    ? try RequestParameters.coerced(key, value, integerKeys: [key]) : value
            } else if key == "output_mime_type" {
                outputOptions["mimeType"] = value
            } else if key == "output_compression_quality" {
                outputOptions["compressionQuality"] = try RequestParameters.coerced(key, value, integerKeys: [key])
            }
        }
        if !outputOptions.isEmpty { parameters["outputOptions"] = .object(outputOptions) }
        return ["instances": [["prompt": .string(prompt)]], "parameters": .object(parameters)]
    }

    static func answer(_ answer: UpstreamJSON) -> ResponseChunk {
        let json = answer.value
        let images = (json["predictions"]?.arrayValue ?? []).filter {
            $0["bytesBase64Encoded"] != nil || $0["gcsUri"] != nil
        }
        let first = images.first.flatMap { $0["bytesBase64Encoded"]?.stringValue ?? $0["gcsUri"]?.stringValue } ?? ""
        return ResponseChunk(
            content: first, usage: Usage(promptTokens: 0, completionTokens: 0, imageCount: images.count),
            rawResponse: answer.raw)
    }
}
