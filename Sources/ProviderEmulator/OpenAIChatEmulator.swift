import Foundation
import Hummingbird
import ModelManagerCore
import NIOCore
import HTTPTypes

/// `POST /v1/chat/completions` as OpenAI (and the OpenAI-compatible DeepSeek and Perplexity) serve it:
/// JSON or SSE, usage (on streams only with `stream_options.include_usage`), the real error bodies.
struct OpenAIChatEmulator {
    let apiKeys: Set<String>
    let recorder: EmulatorRecorder

    func handle(_ request: Request, context: some RequestContext) async throws -> Response {
        let fault = EmulatorFault(header: request.headers[HTTPField.Name(EmulatorFault.headerName)!])
        let bodyBuffer = try await request.body.collect(upTo: 64 << 20)
        let body = try? JSONValue(parsing: bodyBuffer.readableBytesView)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        recorder.record(.init(path: request.uri.path, headers: headers, body: body))

        if let failure = authenticate(request.headers[.authorization]) { return failure }
        if fault.delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(fault.delayMilliseconds)) }
        if let status = fault.status { return Self.injectedError(status: status, retryAfter: fault.retryAfter) }

        guard let body, case .object(let parameters) = body else {
            return Self.error(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", type: "invalid_request_error")
        }
        guard let model = parameters["model"]?.stringValue else {
            return Self.error(400, "you must provide a model parameter", type: "invalid_request_error")
        }
        guard let messagesValue = parameters["messages"] else {
            return Self.error(400, "Missing required parameter: 'messages'.", param: "messages", code: "missing_required_parameter")
        }
        guard case .array(let messages) = messagesValue else {
            return Self.error(400, "Invalid type for 'messages': expected an array of objects, but got \(messagesValue.typeName) instead.", param: "messages", code: "invalid_type")
        }
        guard !messages.isEmpty else {
            return Self.error(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", param: "messages", code: "empty_array")
        }
        for (index, message) in messages.enumerated() {
            guard let role = message["role"]?.stringValue else {
                return Self.error(400, "Missing required parameter: 'messages[\(index)].role'.", param: "messages[\(index)].role", code: "missing_required_parameter")
            }
            guard ["system", "developer", "user", "assistant", "tool", "function"].contains(role) else {
                return Self.error(400, "Invalid value: '\(role)'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", param: "messages[\(index)].role", code: "invalid_value")
            }
        }
        for name in ["max_tokens", "max_completion_tokens", "n", "seed", "top_logprobs"] {
            guard let value = parameters[name], !value.isNull else { continue }
            guard case .integer = value else {
                let got = if case .double = value { "a decimal number" } else { "a \(value.typeName)" }
                return Self.error(400, "Invalid type for '\(name)': expected an integer, but got \(got) instead.", param: name, code: "invalid_type")
            }
        }
        let stream = parameters["stream"]?.boolValue ?? false
        if parameters["stream_options"].map({ !$0.isNull }) ?? false, !stream {
            return Self.error(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: "stream_options", code: nil)
        }
        guard let snapshot = ModelCatalog.chatCompletions[model] else {
            return Self.error(404, "The model `\(model)` does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found")
        }

        let prompt = messages.map { $0["content"]?.chatText ?? "" }.joined(separator: "\n")
        let maxTokens = (parameters["max_completion_tokens"] ?? parameters["max_tokens"])?.integerValue.map { Int($0) }
        let answer = DeterministicAnswer(prompt: prompt, messageCount: messages.count, maxTokens: maxTokens, reasoning: ModelCatalog.reasoning.contains(model))
        let id = "chatcmpl-" + Self.identifier(for: prompt + model)
        let created = Int64(Date().timeIntervalSince1970)
        if stream {
            let includeUsage = parameters["stream_options"]?["include_usage"]?.boolValue ?? false
            return streamResponse(answer: answer, id: id, created: created, model: snapshot, includeUsage: includeUsage, fault: fault)
        }
        let completion: JSONValue = [
            "id": .string(id),
            "object": "chat.completion",
            "created": .integer(created),
            "model": .string(snapshot),
            "choices": [[
                "index": 0,
                "message": ["role": "assistant", "content": .string(answer.text), "refusal": nil, "annotations": []],
                "logprobs": nil,
                "finish_reason": .string(answer.finishReason),
            ]],
            "usage": Self.usage(answer),
            "service_tier": "default",
            "system_fingerprint": "fp_emulator",
        ]
        return Self.json(200, completion)
    }

    private func streamResponse(answer: DeterministicAnswer, id: String, created: Int64, model: String, includeUsage: Bool, fault: EmulatorFault) -> Response {
        func chunk(delta: JSONValue, finishReason: JSONValue) -> JSONValue {
            var object: [String: JSONValue] = [
                "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model),
                "service_tier": "default", "system_fingerprint": "fp_emulator",
                "choices": [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finishReason]],
            ]
            if includeUsage { object["usage"] = nil }
            return .object(object)
        }
        var events: [JSONValue] = [chunk(delta: ["role": "assistant", "content": "", "refusal": nil], finishReason: nil)]
        for word in answer.words { events.append(chunk(delta: ["content": .string(word)], finishReason: nil)) }
        events.append(chunk(delta: [:], finishReason: .string(answer.finishReason)))
        if includeUsage {
            events.append([
                "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model),
                "service_tier": "default", "system_fingerprint": "fp_emulator", "choices": [], "usage": Self.usage(answer),
            ])
        }
        let recorder = recorder
        let finalEvents = events
        let body = ResponseBody { writer in
            do {
                for (index, event) in finalEvents.enumerated() {
                    if let limit = fault.truncateAfterChunks, index >= limit {
                        // The connection ends mid-stream, with no [DONE].
                        try await writer.finish(nil)
                        return
                    }
                    if fault.chunkDelayMilliseconds > 0, index > 0 {
                        try await Task.sleep(for: .milliseconds(fault.chunkDelayMilliseconds))
                    }
                    try await writer.write(ByteBuffer(string: "data: \(event.jsonText)\n\n"))
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
                recorder.streamCompleted()
            } catch {
                recorder.streamAborted()
                throw error
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    private func authenticate(_ authorization: String?) -> Response? {
        guard let authorization, authorization.hasPrefix("Bearer "), !authorization.dropFirst(7).isEmpty else {
            return Self.error(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.", type: "invalid_request_error")
        }
        let key = String(authorization.dropFirst(7))
        guard apiKeys.contains(key) else {
            let masked = key.count > 8 ? "\(key.prefix(3))*****\(key.suffix(4))" : "*****"
            return Self.error(401, "Incorrect API key provided: \(masked). You can find your API key at https://platform.openai.com/account/api-keys.", type: "invalid_request_error", code: "invalid_api_key")
        }
        return nil
    }

    static func usage(_ answer: DeterministicAnswer) -> JSONValue {
        [
            "prompt_tokens": .integer(Int64(answer.promptTokens)),
            "completion_tokens": .integer(Int64(answer.completionTokens)),
            "total_tokens": .integer(Int64(answer.promptTokens + answer.completionTokens)),
            "prompt_tokens_details": ["cached_tokens": .integer(Int64(answer.cachedTokens)), "audio_tokens": 0],
            "completion_tokens_details": [
                "reasoning_tokens": .integer(Int64(answer.reasoningTokens)), "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            ],
        ]
    }

    static func injectedError(status: Int, retryAfter: String?) -> Response {
        var response: Response
        switch status {
        case 429:
            response = error(429, "Rate limit reached for requests. Limit: 500 / min. Please try again in 1s.", type: "requests", code: "rate_limit_exceeded")
        case 400:
            response = error(400, "Invalid request (injected by the emulator).", type: "invalid_request_error")
        case 401:
            response = error(401, "Incorrect API key provided: sk-*****. You can find your API key at https://platform.openai.com/account/api-keys.", type: "invalid_request_error", code: "invalid_api_key")
        case 403:
            response = error(403, "Country, region, or territory not supported", type: "request_forbidden", code: "unsupported_country_region_territory")
        case 404:
            response = error(404, "The model does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found")
        case 503:
            response = error(503, "The engine is currently overloaded, please try again later", type: "server_error")
        default:
            response = error(status, "The server had an error while processing your request. Sorry about that!", type: "server_error")
        }
        if let retryAfter { response.headers[.retryAfter] = retryAfter }
        return response
    }

    static func error(_ status: Int, _ message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil) -> Response {
        json(status, ["error": ["message": .string(message), "type": .string(type), "param": param.map { .string($0) } ?? nil, "code": code.map { .string($0) } ?? nil]])
    }

    static func json(_ status: Int, _ value: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText)))
    }

    /// A stable id derived from the request, like the real ones in shape.
    static func identifier(for text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 36)
    }
}
