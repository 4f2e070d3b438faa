import Foundation
import Hummingbird
import ModelManagerCore

/// OpenAI's Chat Completions, Responses and Images APIs, as api.openai.com serves them
/// (`Authorization: Bearer`) and as Azure OpenAI does (deployment in the path, `api-version`, `api-key`).
struct OpenAIEmulator {
    let keys: EmulatorKeys
    let recorder: EmulatorRecorder

    enum Host {
        case openAI
        /// The deployment from the path (nil for `/openai/responses`, whose body names it).
        case azure(deployment: String?)
    }

    func chatCompletions(_ request: Request, host: Host) async throws -> Response {
        try await serve(request, host: host) { parameters, style, input in
            guard let model = model(parameters, host: host) else {
                return style.response(400, "you must provide a model parameter")
            }
            guard let messagesValue = parameters["messages"] else {
                return style.response(
                    400, "Missing required parameter: 'messages'.", param: "messages",
                    code: "missing_required_parameter")
            }
            guard case .array(let messages) = messagesValue else {
                return style.response(
                    400,
                    "Invalid type for 'messages': expected an array of objects, but got \(messagesValue.typeName) instead.",
                    param: "messages", code: "invalid_type")
            }
            guard !messages.isEmpty else {
                return style.response(
                    400,
                    "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                    param: "messages", code: "empty_array")
            }
            for (index, message) in messages.enumerated() {
                guard let role = message["role"]?.stringValue else {
                    return style.response(
                        400, "Missing required parameter: 'messages[\(index)].role'.", param: "messages[\(index)].role",
                        code: "missing_required_parameter")
                }
                guard ["system", "developer", "user", "assistant", "tool", "function"].contains(role) else {
                    return style.response(
                        400,
                        "Invalid value: '\(role)'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
                        param: "messages[\(index)].role", code: "invalid_value")
                }
            }
            if let failure = Self.integerCheck(
                parameters, ["max_tokens", "max_completion_tokens", "n", "seed", "top_logprobs"], style: style)
            {
                return failure
            }
            let stream = parameters["stream"]?.boolValue ?? false
            if parameters["stream_options"].map({ !$0.isNull }) ?? false, !stream {
                return style.response(
                    400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                    param: "stream_options"
                )
            }
            guard let snapshot = ModelCatalog.chatCompletions[model] else {
                return Self.unknownModel(model, style: style)
            }

            let prompt = messages.map { $0["content"]?.chatText ?? "" }.joined(separator: "\n")
            let maxTokens = (parameters["max_completion_tokens"] ?? parameters["max_tokens"])?.integerValue.map {
                Int($0)
            }
            var answer = DeterministicAnswer(
                prompt: prompt, messageCount: messages.count, maxTokens: maxTokens,
                reasoning: ModelCatalog.reasoning.contains(model))
            let toolCall = EmulatedToolCall(
                tools: (parameters["tools"]?.arrayValue ?? []).compactMap { tool in
                    tool["function"]?["name"]?.stringValue.map { ($0, tool["function"]?["parameters"]) }
                },
                forced: parameters["tool_choice"]?["function"]?["name"]?.stringValue,
                disabled: parameters["tool_choice"]?.stringValue == "none",
                answered: messages.last?["role"]?.stringValue == "tool", prompt: prompt)
            if toolCall != nil { answer = answer.callingTool() }
            let id = "chatcmpl-" + EmulatorHTTP.identifier(for: prompt + model)
            let created = EmulatorHTTP.now
            let usage = Self.chatUsage(answer)
            // Perplexity answers with the sources it searched.
            let citations: JSONValue? =
                ModelCatalog.perplexity[model] == nil
                ? nil : ["https://example.org/source-1", "https://example.org/source-2"]
            guard stream else {
                var message: [String: JSONValue] = [
                    "role": "assistant", "content": toolCall == nil ? .string(answer.text) : nil, "refusal": nil,
                    "annotations": [],
                ]
                if let toolCall {
                    message["tool_calls"] = [
                        [
                            "id": .string("call_" + toolCall.id), "type": "function",
                            "function": [
                                "name": .string(toolCall.name), "arguments": .string(toolCall.arguments.jsonText),
                            ],
                        ]
                    ]
                }
                var completion: [String: JSONValue] = [
                    "id": .string(id), "object": "chat.completion", "created": .integer(created),
                    "model": .string(snapshot),
                    "choices": [
                        [
                            "index": 0,
                            "message": .object(message),
                            "logprobs": nil, "finish_reason": .string(answer.finishReason),
                        ]
                    ],
                    "usage": usage, "service_tier": "default", "system_fingerprint": "fp_emulator",
                ]
                if let citations { completion["citations"] = citations }
                return EmulatorHTTP.json(200, .object(completion))
            }
            let includeUsage = parameters["stream_options"]?["include_usage"]?.boolValue ?? false
            func chunk(_ delta: JSONValue, _ finishReason: JSONValue, choices: Bool = true, usage: JSONValue? = nil)
                -> (
                    String?, String
                )
            {
                var object: [String: JSONValue] = [
                    "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created),
                    "model": .string(snapshot),
                    "service_tier": "default", "system_fingerprint": "fp_emulator",
                    "choices": choices
                        ? [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finishReason]] : [],
                ]
                if includeUsage { object["usage"] = usage ?? nil }
                if let citations { object["citations"] = citations }
                return (nil, JSONValue.object(object).jsonText)
            }
            var events = [chunk(["role": "assistant", "content": "", "refusal": nil], nil)]
            events += answer.words.map { chunk(["content": .string($0)], nil) }
            if let toolCall {
                for (position, piece) in toolCall.argumentPieces.enumerated() {
                    var call: [String: JSONValue] = ["index": 0, "function": ["arguments": .string(piece)]]
                    if position == 0 {
                        call["id"] = .string("call_" + toolCall.id)
                        call["type"] = "function"
                        call["function"] = ["name": .string(toolCall.name), "arguments": .string(piece)]
                    }
                    events.append(chunk(["tool_calls": [.object(call)]], nil))
                }
            }
            events.append(chunk([:], .string(answer.finishReason)))
            if includeUsage { events.append(chunk(nil, nil, choices: false, usage: usage)) }
            events.append((nil, "[DONE]"))
            return EmulatorHTTP.eventStream(events, fault: input.fault, recorder: recorder)
        }
    }

    func responses(_ request: Request, host: Host) async throws -> Response {
        try await serve(request, host: host) { parameters, style, input in
            guard let model = parameters["model"]?.stringValue else {
                return style.response(
                    400, "Missing required parameter: 'model'.", param: "model", code: "missing_required_parameter")
            }
            if let failure = Self.integerCheck(parameters, ["max_output_tokens", "top_logprobs"], style: style) {
                return failure
            }
            let prompt: String
            switch parameters["input"] {
            case .string(let text): prompt = text
            case .array(let items):
                guard !items.isEmpty else {
                    return style.response(
                        400,
                        "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                        param: "input", code: "empty_array")
                }
                prompt = items.map { $0.stringValue ?? $0["content"]?.chatText ?? "" }.joined(separator: "\n")
            default:
                return style.response(
                    400, "Missing required parameter: 'input'.", param: "input", code: "missing_required_parameter")
            }
            // Azure names a deployment; deployments here are named after their model.
            guard let snapshot = ModelCatalog.openai[model] else { return Self.unknownModel(model, style: style) }
            let answer = DeterministicAnswer(
                prompt: (parameters["instructions"]?.stringValue ?? "") + prompt, messageCount: 1,
                maxTokens: parameters["max_output_tokens"]?.integerValue.map { Int($0) },
                reasoning: ModelCatalog.reasoning.contains(model))
            let id = "resp_" + EmulatorHTTP.identifier(for: prompt + model)
            let messageID = "msg_" + EmulatorHTTP.identifier(for: id)
            let complete = answer.finishReason == "stop"
            func response(status: String, text: String?, usage: JSONValue?) -> JSONValue {
                let output: JSONValue =
                    text.map { text in
                        [
                            [
                                "type": "message", "id": .string(messageID),
                                "status": .string(complete ? "completed" : "incomplete"), "role": "assistant",
                                "content": [
                                    ["type": "output_text", "text": .string(text), "annotations": [], "logprobs": []]
                                ],
                            ]
                        ]
                    } ?? []
                return [
                    "id": .string(id), "object": "response", "created_at": .integer(EmulatorHTTP.now),
                    "status": .string(status),
                    "background": false, "error": nil,
                    "incomplete_details": complete || status == "in_progress" ? nil : ["reason": "max_output_tokens"],
                    "instructions": parameters["instructions"] ?? nil,
                    "max_output_tokens": parameters["max_output_tokens"] ?? nil,
                    "model": .string(snapshot), "output": output, "parallel_tool_calls": true,
                    "previous_response_id": nil,
                    "reasoning": ["effort": nil, "summary": nil], "service_tier": "default", "store": true,
                    "temperature": parameters["temperature"] ?? 1.0, "text": ["format": ["type": "text"]],
                    "tool_choice": "auto", "tools": [],
                    "top_p": parameters["top_p"] ?? 1.0, "truncation": "disabled", "usage": usage ?? nil, "user": nil,
                    "metadata": [:],
                ]
            }
            let finalStatus = complete ? "completed" : "incomplete"
            let usage: JSONValue = [
                "input_tokens": .integer(Int64(answer.promptTokens)),
                "input_tokens_details": ["cached_tokens": .integer(Int64(answer.cachedTokens))],
                "output_tokens": .integer(Int64(answer.completionTokens)),
                "output_tokens_details": ["reasoning_tokens": .integer(Int64(answer.reasoningTokens))],
                "total_tokens": .integer(Int64(answer.promptTokens + answer.completionTokens)),
            ]
            guard parameters["stream"]?.boolValue == true else {
                return EmulatorHTTP.json(200, response(status: finalStatus, text: answer.text, usage: usage))
            }
            var sequence: Int64 = 0
            func event(_ type: String, _ fields: [String: JSONValue]) -> (String?, String) {
                var object = fields
                object["type"] = .string(type)
                object["sequence_number"] = .integer(sequence)
                sequence += 1
                return (type, JSONValue.object(object).jsonText)
            }
            let emptyMessage: JSONValue = [
                "type": "message", "id": .string(messageID), "status": "in_progress", "role": "assistant",
                "content": [],
            ]
            let emptyPart: JSONValue = ["type": "output_text", "text": "", "annotations": [], "logprobs": []]
            var events = [
                event("response.created", ["response": response(status: "in_progress", text: nil, usage: nil)]),
                event("response.in_progress", ["response": response(status: "in_progress", text: nil, usage: nil)]),
                event("response.output_item.added", ["output_index": 0, "item": emptyMessage]),
                event(
                    "response.content_part.added",
                    ["item_id": .string(messageID), "output_index": 0, "content_index": 0, "part": emptyPart]),
            ]
            for word in answer.words {
                events.append(
                    event(
                        "response.output_text.delta",
                        [
                            "item_id": .string(messageID), "output_index": 0, "content_index": 0,
                            "delta": .string(word),
                            "logprobs": [],
                        ]))
            }
            let finalPart: JSONValue = [
                "type": "output_text", "text": .string(answer.text), "annotations": [], "logprobs": [],
            ]
            events += [
                event(
                    "response.output_text.done",
                    [
                        "item_id": .string(messageID), "output_index": 0, "content_index": 0,
                        "text": .string(answer.text),
                        "logprobs": [],
                    ]),
                event(
                    "response.content_part.done",
                    ["item_id": .string(messageID), "output_index": 0, "content_index": 0, "part": finalPart]),
                event(
                    "response.output_item.done",
                    [
                        "output_index": 0,
                        "item": response(status: finalStatus, text: answer.text, usage: nil)["output"]![0]!,
                    ]),
                event(
                    complete ? "response.completed" : "response.incomplete",
                    ["response": response(status: finalStatus, text: answer.text, usage: usage)]),
            ]
            return EmulatorHTTP.eventStream(events, fault: input.fault, recorder: recorder)
        }
    }

    func images(_ request: Request, host: Host) async throws -> Response {
        try await serve(request, host: host) { parameters, style, input in
            guard let prompt = parameters["prompt"]?.stringValue, !prompt.isEmpty else {
                return style.response(
                    400, "Missing required parameter: 'prompt'.", param: "prompt", code: "missing_required_parameter")
            }
            if let failure = Self.integerCheck(parameters, ["n", "output_compression", "partial_images"], style: style)
            {
                return failure
            }
            let model = self.model(parameters, host: host) ?? "dall-e-2"
            guard ModelCatalog.openaiImages.contains(model) else {
                return style.response(
                    400, "Invalid value for 'model' = \(model).", param: "model", code: "invalid_value")
            }
            let count = Int(parameters["n"]?.integerValue ?? 1)
            guard (1...10).contains(count), model != "dall-e-3" || count == 1 else {
                return style.response(
                    400, "Invalid 'n': integer out of range or not supported for \(model).", param: "n",
                    code: "invalid_value")
            }
            let base64 = model == "gpt-image-1" || parameters["response_format"]?.stringValue == "b64_json"
            let images: [JSONValue] = (0..<count).map { index in
                var image: [String: JSONValue] =
                    base64
                    ? ["b64_json": .string(EmulatorHTTP.pixelPNG)]
                    : [
                        "url": .string(
                            "https://images.emulator.invalid/\(EmulatorHTTP.identifier(for: prompt))-\(index).png")
                    ]
                if model == "dall-e-3" { image["revised_prompt"] = .string("A detailed rendering of: \(prompt)") }
                return .object(image)
            }
            var answer: [String: JSONValue] = ["created": .integer(EmulatorHTTP.now), "data": .array(images)]
            if model == "gpt-image-1" {
                let promptTokens = Int64(DeterministicAnswer.tokenCount(prompt))
                answer["usage"] = [
                    "input_tokens": .integer(promptTokens), "output_tokens": .integer(Int64(272 * count)),
                    "total_tokens": .integer(promptTokens + Int64(272 * count)),
                    "input_tokens_details": ["text_tokens": .integer(promptTokens), "image_tokens": 0],
                ]
            }
            return EmulatorHTTP.json(200, .object(answer))
        }
    }

    // MARK: shared checks

    /// What every endpoint does first: the request recorded, its key checked, an injected
    /// fault answered, its body an object; then `body` with its parameters.
    func serve(
        _ request: Request, host: Host,
        _ body: ([String: JSONValue], ErrorStyle, EmulatedRequest) async throws -> Response
    ) async throws -> Response {
        let input = try await EmulatedRequest.read(request, recorder: recorder)
        let style = style(host)
        if let failure = check(input, host: host) { return failure }
        if let injected = style.injected(input.fault) { return injected }
        guard case .object(let parameters) = input.body ?? .null else { return Self.unparsable(style) }
        return try await body(parameters, style, input)
    }

    func style(_ host: Host) -> ErrorStyle {
        if case .azure = host { return .azure }
        return .openAI
    }

    func model(_ parameters: [String: JSONValue], host: Host) -> String? {
        if case .azure(let deployment?) = host { return deployment }
        return parameters["model"]?.stringValue
    }

    /// Authentication (and, for Azure, the api-version and the deployment) as each host checks them.
    func check(_ input: EmulatedRequest, host: Host) -> Response? {
        switch host {
        case .openAI:
            guard let authorization = input.header("authorization"), authorization.hasPrefix("Bearer "),
                !authorization.dropFirst(7).isEmpty
            else {
                return ErrorStyle.openAI.response(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                )
            }
            let key = String(authorization.dropFirst(7))
            let masked = key.count > 8 ? "\(key.prefix(3))*****\(key.suffix(4))" : "*****"
            if let refusal = keys.refusal(
                key, style: .openAI,
                unknown: ErrorStyle.openAI.response(
                    401,
                    "Incorrect API key provided: \(masked). You can find your API key at https://platform.openai.com/account/api-keys.",
                    code: "invalid_api_key"))
            {
                return refusal
            }
        case .azure(let deployment):
            let key = input.header("api-key") ?? input.header("authorization").map { String($0.dropFirst(7)) }
            if let refusal = keys.refusal(
                key, style: .azure,
                unknown: ErrorStyle.azure.response(
                    401,
                    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
                ))
            {
                return refusal
            }
            guard input.query["api-version"] != nil else {
                return ErrorStyle.azure.response(404, "Resource not found")
            }
            if let deployment, ModelCatalog.openai[deployment] == nil, !ModelCatalog.openaiImages.contains(deployment) {
                return ErrorStyle.azure.response(
                    404,
                    "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
                    code: "DeploymentNotFound")
            }
        }
        return nil
    }

    static func unparsable(_ style: ErrorStyle) -> Response {
        style.response(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
        )
    }

    static func unknownModel(_ model: String, style: ErrorStyle) -> Response {
        style.response(
            404, "The model `\(model)` does not exist or you do not have access to it.", code: "model_not_found")
    }

    /// The real API refuses `64.0` where it wants an integer.
    static func integerCheck(_ parameters: [String: JSONValue], _ names: [String], style: ErrorStyle) -> Response? {
        for name in names {
            guard let value = parameters[name], !value.isNull else { continue }
            guard case .integer = value else {
                let got = if case .double = value { "a decimal number" } else { "a \(value.typeName)" }
                return style.response(
                    400, "Invalid type for '\(name)': expected an integer, but got \(got) instead.", param: name,
                    code: "invalid_type")
            }
        }
        return nil
    }

    static func chatUsage(_ answer: DeterministicAnswer) -> JSONValue {
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
}
