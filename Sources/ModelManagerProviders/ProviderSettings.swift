public import ModelManagerCore

/// One configured provider: which API it speaks, where, with which key, for which channels and models.
public struct ProviderSettings: Sendable, Hashable {
    /// The wire protocol an adapter speaks; one adapter serves every provider of its kind.
    public struct Kind: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// OpenAI Chat Completions, and every OpenAI-compatible endpoint (DeepSeek, Perplexity, vLLM, …).
        public static let openAIChat = Kind(rawValue: "openai-chat")
    }

    public var provider: Provider
    public var kind: Kind
    public var baseURL: String
    public var apiKey: Secret?
    /// Channels this provider answers on; `normal` and the empty channel always mean "the default".
    public var channels: Set<Channel>
    /// Invoke types served, in preference order (the first is the default).
    public var invokeTypes: [InvokeType]
    /// Models accepted; nil lets the upstream decide.
    public var models: Set<String>?
    /// The environment variable that supplies the key, named in errors when it is missing.
    public var apiKeyVariable: String?

    public init(
        provider: Provider, kind: Kind, baseURL: String, apiKey: Secret?, channels: Set<Channel>,
        invokeTypes: [InvokeType] = [.chatCompletions], models: Set<String>? = nil, apiKeyVariable: String? = nil
    ) {
        self.provider = provider
        self.kind = kind
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.channels = channels
        self.invokeTypes = invokeTypes
        self.models = models
        self.apiKeyVariable = apiKeyVariable
    }

    /// The built-in providers, with keys and base URLs from the environment
    /// (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `DEEPSEEK_…`, `PERPLEXITY_…`).
    public static func defaults(environment: [String: String]) -> [ProviderSettings] {
        func make(_ provider: Provider, prefix: String, baseURL: String) -> ProviderSettings {
            ProviderSettings(
                provider: provider, kind: .openAIChat,
                baseURL: environment["\(prefix)_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? baseURL,
                apiKey: environment["\(prefix)_API_KEY"].flatMap { $0.isEmpty ? nil : Secret($0) },
                channels: [Channel(provider.rawValue)], apiKeyVariable: "\(prefix)_API_KEY")
        }
        return [
            make(.openai, prefix: "OPENAI", baseURL: "https://api.openai.com/v1"),
            make(.deepseek, prefix: "DEEPSEEK", baseURL: "https://api.deepseek.com"),
            make(.perplexity, prefix: "PERPLEXITY", baseURL: "https://api.perplexity.ai"),
        ]
    }
}
