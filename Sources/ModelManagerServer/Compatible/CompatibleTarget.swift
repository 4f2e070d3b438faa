import ModelManagerCore
import ModelManagerProviders

/// The wire formats a compatible endpoint translates between: a request for one is rewritten
/// for the family of the model it names, and the answer rewritten back.
enum WireFamily: Sendable, Hashable {
    case openAI
    case anthropic
    case gemini

    init(_ kind: ProviderSettings.Kind) {
        switch kind {
        case .anthropic: self = .anthropic
        case .googleAIStudio, .googleVertex: self = .gemini
        default: self = .openAI
        }
    }
}

/// What a compatible request's `model` names: a provider, the model that provider is asked for
/// (an alias is kept as its name: the router fails over between its targets), and the wire
/// format they speak.
struct CompatibleTarget: Sendable {
    var provider: Provider
    var model: String
    var family: WireFamily

    /// `provider/model`, a configured alias, or a bare model whose name says its provider
    /// (`gpt-…`, `claude-…`, `gemini-…`). Anything else is an invalid request naming the value.
    static func resolve(_ name: String, router: Router) throws(ModelManagerError) -> CompatibleTarget {
        guard !name.isEmpty else {
            throw ModelManagerError(.invalidArgument, "missing required parameter 'model'")
        }
        if let alias = router.alias(named: name) {
            let families = Set(alias.targets.compactMap { router.kind(of: $0.provider).map(WireFamily.init) })
            guard let first = alias.targets.first, let family = families.first else {
                throw ModelManagerError(.failedPrecondition, "alias '\(name)' has no configured target")
            }
            guard families.count == 1 else {
                throw ModelManagerError(
                    .invalidArgument,
                    "alias '\(name)' spans providers of different APIs; call it on /v1/invoke, where each target gets its own request"
                )
            }
            return CompatibleTarget(provider: first.provider, model: name, family: family)
        }
        let provider: Provider
        let model: String
        if let slash = name.firstIndex(of: "/") {
            provider = Provider(rawValue: String(name[..<slash]))
            model = String(name[name.index(after: slash)...])
        } else if let inferred = inferredProvider(of: name) {
            provider = inferred
            model = name
        } else {
            throw ModelManagerError(
                .invalidArgument,
                "model '\(name)' names no provider: use 'provider/model' (served: \(router.configuredProviders.map(\.rawValue).joined(separator: ", "))) or a configured alias"
            )
        }
        guard let kind = router.kind(of: provider) else {
            throw ModelManagerError(
                .invalidArgument,
                "unknown provider '\(provider)' in model '\(name)' (served: \(router.configuredProviders.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        guard !model.isEmpty else { throw ModelManagerError(.invalidArgument, "model '\(name)' names no model") }
        return CompatibleTarget(provider: provider, model: model, family: WireFamily(kind))
    }

    private static func inferredProvider(of model: String) -> Provider? {
        let prefixes: [(String, Provider)] = [
            ("gpt-", .openai), ("o1", .openai), ("o3", .openai), ("o4", .openai), ("chatgpt-", .openai),
            ("text-embedding-3", .openai), ("text-embedding-ada", .openai), ("dall-e", .openai),
            ("claude", .anthropic), ("gemini", .google), ("text-embedding-004", .google),
            ("deepseek", .deepseek), ("sonar", .perplexity),
        ]
        return prefixes.first { model.hasPrefix($0.0) }?.1
    }
}
