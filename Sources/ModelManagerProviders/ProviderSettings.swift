import Foundation
public import ModelManagerCore

/// One configured provider channel: which API it speaks, where, with which credentials,
/// for which channels and models.
public struct ProviderSettings: Sendable, Hashable {
    /// The wire protocol an adapter speaks; one adapter serves every provider of its kind.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// OpenAI itself: Chat Completions, Responses, Images.
        public static let openAI = Kind(rawValue: "openai")
        /// Any OpenAI-compatible Chat Completions endpoint (DeepSeek, Perplexity, vLLM, …).
        public static let openAIChat = Kind(rawValue: "openai-chat")
        public static let azureOpenAI = Kind(rawValue: "azure-openai")
        public static let googleAIStudio = Kind(rawValue: "google-ai-studio")
        public static let googleVertex = Kind(rawValue: "google-vertex")
        public static let anthropic = Kind(rawValue: "anthropic")

        public static let all: [Kind] = [
            .openAI, .openAIChat, .azureOpenAI, .googleAIStudio, .googleVertex, .anthropic,
        ]
    }

    public var provider: Provider
    public var kind: Kind
    public var baseURL: String
    /// Used round-robin; one that answers 429 or 5xx cools down.
    public var credentials: [Credential]
    /// Channels this entry answers on; the first is its own name. `normal` and the empty
    /// channel mean "the provider's default entry".
    public var channels: [Channel]
    /// Models accepted; nil lets the upstream decide.
    public var models: Set<String>?
    /// Environment variables that supply credentials, named in errors when none is set.
    public var credentialVariables: [String]
    /// Azure: the `api-version` query parameter.
    public var apiVersion: String?
    /// Azure: model → deployments, chosen round-robin (default: a deployment named like the model).
    public var deployments: [String: [String]]
    /// Vertex AI: project and location in the path (the project defaults to the service account's).
    public var project: String?
    public var location: String?

    public init(
        provider: Provider, kind: Kind, baseURL: String, credentials: [Credential], channels: [Channel],
        models: Set<String>? = nil, credentialVariables: [String] = [], apiVersion: String? = nil,
        deployments: [String: [String]] = [:], project: String? = nil, location: String? = nil
    ) {
        self.provider = provider
        self.kind = kind
        self.baseURL = baseURL
        self.credentials = credentials
        self.channels = channels
        self.models = models
        self.credentialVariables = credentialVariables
        self.apiVersion = apiVersion
        self.deployments = deployments
        self.project = project
        self.location = location
    }

    /// The built-in providers, with credentials and base URLs from the environment.
    /// Several keys may be given comma-separated.
    public static func defaults(environment: [String: String]) -> [ProviderSettings] {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func keys(_ names: String...) -> [Credential] {
            for name in names {
                if let list = value(name) {
                    return list.split(separator: ",").map { .apiKey(Secret($0.trimmingCharacters(in: .whitespaces))) }
                }
            }
            return []
        }
        var vertexCredentials: [Credential] = []
        var vertexProject = value("GOOGLE_CLOUD_PROJECT")
        if let path = value("GOOGLE_APPLICATION_CREDENTIALS"), let data = FileManager.default.contents(atPath: path),
            let json = try? JSONValue(parsing: [UInt8](data)),
            let account = try? ServiceAccount(json: json, source: path)
        {
            vertexCredentials = [.serviceAccount(account)]
            vertexProject = vertexProject ?? account.projectID
        }
        let location = value("GOOGLE_CLOUD_LOCATION") ?? "us-central1"
        return [
            ProviderSettings(
                provider: .openai, kind: .openAI, baseURL: value("OPENAI_BASE_URL") ?? "https://api.openai.com/v1",
                credentials: keys("OPENAI_API_KEY"), channels: [.openai], credentialVariables: ["OPENAI_API_KEY"]),
            ProviderSettings(
                provider: .azure, kind: .azureOpenAI, baseURL: value("AZURE_OPENAI_ENDPOINT") ?? "",
                credentials: keys("AZURE_OPENAI_API_KEY"), channels: [.openai],
                credentialVariables: ["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"],
                apiVersion: value("AZURE_OPENAI_API_VERSION") ?? value("OPENAI_API_VERSION") ?? "2025-04-01-preview"),
            ProviderSettings(
                provider: .google, kind: .googleAIStudio,
                baseURL: value("GOOGLE_AI_STUDIO_BASE_URL") ?? "https://generativelanguage.googleapis.com",
                credentials: keys("GEMINI_API_KEY", "GOOGLE_API_KEY"), channels: [.aiStudio],
                credentialVariables: ["GEMINI_API_KEY"]),
            ProviderSettings(
                provider: .google, kind: .googleVertex,
                baseURL: value("VERTEX_AI_BASE_URL") ?? "https://\(location)-aiplatform.googleapis.com",
                credentials: vertexCredentials, channels: [.vertexai],
                credentialVariables: ["GOOGLE_APPLICATION_CREDENTIALS"],
                project: vertexProject, location: location),
            ProviderSettings(
                provider: .anthropic, kind: .anthropic,
                baseURL: value("ANTHROPIC_BASE_URL") ?? "https://api.anthropic.com",
                credentials: keys("ANTHROPIC_API_KEY"), channels: [.anthropic],
                credentialVariables: ["ANTHROPIC_API_KEY"]),
            ProviderSettings(
                provider: .deepseek, kind: .openAIChat,
                baseURL: value("DEEPSEEK_BASE_URL") ?? "https://api.deepseek.com",
                credentials: keys("DEEPSEEK_API_KEY"), channels: ["deepseek"], credentialVariables: ["DEEPSEEK_API_KEY"]
            ),
            ProviderSettings(
                provider: .perplexity, kind: .openAIChat,
                baseURL: value("PERPLEXITY_BASE_URL") ?? "https://api.perplexity.ai",
                credentials: keys("PERPLEXITY_API_KEY"), channels: ["perplexity"],
                credentialVariables: ["PERPLEXITY_API_KEY"]),
        ]
    }
}
