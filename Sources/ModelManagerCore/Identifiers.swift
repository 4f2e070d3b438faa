/// Open sets of names: the known ones as constants, any other string still representable,
/// so a new provider or invoke type from a newer client is carried, then rejected by name.
public protocol OpenName: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral
where RawValue == String {
    init(rawValue: String)
}

extension OpenName {
    public init(_ rawValue: String) { self.init(rawValue: rawValue) }
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
}

public struct Provider: OpenName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let openai: Provider = "openai"
    public static let azure: Provider = "azure"
    public static let google: Provider = "google"
    public static let anthropic: Provider = "anthropic"
    public static let deepseek: Provider = "deepseek"
    public static let perplexity: Provider = "perplexity"
}

public struct Channel: OpenName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// What the Python SDK sends when the caller set no channel.
    public static let normal: Channel = "normal"
    public static let openai: Channel = "openai"
    public static let aiStudio: Channel = "ai-studio"
    public static let vertexai: Channel = "vertexai"
    public static let anthropic: Channel = "anthropic"
}

public struct InvokeType: OpenName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let generation: InvokeType = "generation"
    public static let chatCompletions: InvokeType = "chat-completions"
    public static let responses: InvokeType = "responses"
    public static let messages: InvokeType = "messages"
    public static let imageGeneration: InvokeType = "image-generation"
    public static let imageGenerationGenAI: InvokeType = "image-generation-genai"
    /// Vectors for texts (OpenAI's Embeddings API); the semantic cache's route.
    public static let embeddings: InvokeType = "embeddings"
}
