public import ModelManagerCore

/// Who a request is for: accounting identity (the Python SDK's `UserContext`).
public struct UserContext: Sendable, Hashable {
    public var orgID: String
    public var userID: String
    public var clientType: String
    public var region: String?

    public init(orgID: String, userID: String, clientType: String, region: String? = nil) {
        self.orgID = orgID
        self.userID = userID
        self.clientType = clientType
        self.region = region
    }
}

/// A chat message (OpenAI chat-completions, and Anthropic which shares the shape for text and images).
public struct ChatMessage: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case text(String)
        /// An `https://` URL or a `data:image/png;base64,…` URL.
        case imageURL(String)
    }

    public var role: String
    public var parts: [Part]

    public init(role: String, parts: [Part]) {
        self.role = role
        self.parts = parts
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", parts: [.text(text)]) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", parts: [.text(text)]) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", parts: [.text(text)]) }

    /// OpenAI's form: a string for plain text, else content parts.
    public var openAIJSON: JSONValue {
        if parts.count == 1, case .text(let text) = parts[0] {
            return ["role": .string(role), "content": .string(text)]
        }
        let content: [JSONValue] = parts.map { part in
            switch part {
            case .text(let text): ["type": "text", "text": .string(text)]
            case .imageURL(let url): ["type": "image_url", "image_url": ["url": .string(url)]]
            }
        }
        return ["role": .string(role), "content": .array(content)]
    }

    /// Anthropic's form: images as base64 sources (data URLs) or URL sources.
    public var anthropicJSON: JSONValue {
        let content: [JSONValue] = parts.map { part in
            switch part {
            case .text(let text):
                return ["type": "text", "text": .string(text)]
            case .imageURL(let url):
                if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
                    let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
                    let mediaType = header.split(separator: ";").first.map(String.init) ?? "image/png"
                    return [
                        "type": "image",
                        "source": [
                            "type": "base64", "media_type": .string(mediaType),
                            "data": .string(String(url[url.index(after: comma)...])),
                        ],
                    ]
                }
                return ["type": "image", "source": ["type": "url", "url": .string(url)]]
            }
        }
        return ["role": .string(role), "content": .array(content)]
    }
}

/// A Gemini content: a role (`user` or `model`) and parts (text, inline data, file URIs).
public struct GeminiContent: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case text(String)
        case inlineData(mimeType: String, base64: String)
        case fileURI(mimeType: String, uri: String)
    }

    public var role: String
    public var parts: [Part]

    public init(role: String = "user", parts: [Part]) {
        self.role = role
        self.parts = parts
    }

    public static func user(_ text: String) -> GeminiContent { GeminiContent(role: "user", parts: [.text(text)]) }

    public var json: JSONValue {
        let parts: [JSONValue] = parts.map { part in
            switch part {
            case .text(let text): ["text": .string(text)]
            case .inlineData(let mimeType, let data):
                ["inline_data": ["mime_type": .string(mimeType), "data": .string(data)]]
            case .fileURI(let mimeType, let uri):
                ["file_data": ["mime_type": .string(mimeType), "file_uri": .string(uri)]]
            }
        }
        return ["role": .string(role), "parts": .array(parts)]
    }
}

extension ModelRequest {
    private init(
        _ provider: Provider, _ channel: Channel, _ invokeType: InvokeType, _ user: UserContext,
        _ extra: [String: JSONValue]
    ) {
        self.init(
            provider: provider, channel: channel, invokeType: invokeType, orgID: user.orgID, userID: user.userID,
            clientType: user.clientType,
            region: user.region, extra: extra)
    }

    /// Chat Completions (OpenAI, Azure, DeepSeek, Perplexity, any OpenAI-compatible provider).
    public static func chat(
        provider: Provider = .openai, channel: Channel = .normal, model: String, messages: [ChatMessage],
        parameters: [String: JSONValue] = [:],
        user: UserContext
    ) -> ModelRequest {
        var extra = parameters
        extra["model"] = .string(model)
        extra["messages"] = .array(messages.map(\.openAIJSON))
        return ModelRequest(provider, channel, .chatCompletions, user, extra)
    }

    /// OpenAI Responses (`input` text).
    public static func responses(
        provider: Provider = .openai, model: String, input: String, instructions: String? = nil,
        parameters: [String: JSONValue] = [:], user: UserContext
    ) -> ModelRequest {
        var extra = parameters
        extra["model"] = .string(model)
        extra["input"] = .string(input)
        if let instructions { extra["instructions"] = .string(instructions) }
        return ModelRequest(provider, .normal, .responses, user, extra)
    }

    /// Gemini `generateContent`; `config` is google-genai's GenerateContentConfig as JSON.
    public static func gemini(
        model: String, contents: [GeminiContent], config: [String: JSONValue] = [:], channel: Channel = .aiStudio,
        user: UserContext
    ) -> ModelRequest {
        var extra: [String: JSONValue] = ["model": .string(model), "contents": .array(contents.map(\.json))]
        if !config.isEmpty { extra["config"] = .object(config) }
        return ModelRequest(.google, channel, .generation, user, extra)
    }

    /// Anthropic Messages (`max_tokens` is required by the API).
    public static func anthropic(
        model: String, messages: [ChatMessage], maxTokens: Int, system: String? = nil,
        parameters: [String: JSONValue] = [:], user: UserContext
    ) -> ModelRequest {
        var extra = parameters
        extra["model"] = .string(model)
        extra["messages"] = .array(messages.map(\.anthropicJSON))
        extra["max_tokens"] = .integer(Int64(maxTokens))
        if let system { extra["system"] = .string(system) }
        return ModelRequest(.anthropic, .anthropic, .messages, user, extra)
    }

    /// An image prompt: OpenAI/Azure Images, or Imagen on Google (AI Studio or Vertex).
    public static func image(
        provider: Provider = .openai, channel: Channel = .normal, model: String, prompt: String, count: Int = 1,
        parameters: [String: JSONValue] = [:],
        user: UserContext
    ) -> ModelRequest {
        var extra = parameters
        extra["model"] = .string(model)
        extra["prompt"] = .string(prompt)
        if provider == .google {
            let vertex = channel == .vertexai
            if vertex {
                extra["number_of_images"] = .integer(Int64(count))
            } else {
                extra["config"] = ["number_of_images": .integer(Int64(count))]
            }
            return ModelRequest(provider, channel, vertex ? .imageGeneration : .imageGenerationGenAI, user, extra)
        }
        extra["n"] = .integer(Int64(count))
        return ModelRequest(provider, channel, .imageGeneration, user, extra)
    }
}
