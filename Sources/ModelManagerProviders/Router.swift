public import ModelManagerCore

/// A model name that stands for a list of upstream models, tried in order.
public struct ModelAlias: Sendable, Hashable {
    public struct Target: Sendable, Hashable {
        public var provider: Provider
        public var channel: Channel
        public var model: String
        public init(provider: Provider, channel: Channel = .normal, model: String) {
            self.provider = provider
            self.channel = channel
            self.model = model
        }
    }

    public var name: String
    public var targets: [Target]
    public init(name: String, targets: [Target]) {
        self.name = name
        self.targets = targets
    }
}

/// One way to serve a request: an adapter, the invoke type it serves, the request as that
/// upstream gets it (an alias rewrites provider and model), and the upstream target.
public struct Attempt: Sendable {
    public var adapter: any ProviderAdapter
    public var invokeType: InvokeType
    public var request: ModelRequest
    public var target: UpstreamTarget
}

/// Resolves (provider, channel, invoke_type, model) to the attempts that may serve a request.
/// Every refusal is permanent (INVALID_ARGUMENT or FAILED_PRECONDITION) and names the value.
public struct Router: Sendable {
    private let entries: [Provider: [(settings: ProviderSettings, adapter: any ProviderAdapter)]]
    private let aliases: [String: ModelAlias]
    public let pool: CredentialPool

    public init(
        settings: [ProviderSettings], registry: AdapterRegistry, aliases: [ModelAlias] = [],
        pool: CredentialPool = CredentialPool()
    ) {
        var entries: [Provider: [(ProviderSettings, any ProviderAdapter)]] = [:]
        for entry in settings {
            guard let adapter = registry.adapter(for: entry.kind) else { continue }
            entries[entry.provider, default: []].append((entry, adapter))
        }
        self.entries = entries
        self.aliases = Dictionary(aliases.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.pool = pool
    }

    public var configuredProviders: [Provider] { entries.keys.sorted { $0.rawValue < $1.rawValue } }

    /// The wire protocol `provider` speaks on its default channel (the first configured entry),
    /// or nil when it is not served.
    public func kind(of provider: Provider) -> ProviderSettings.Kind? {
        guard let candidates = entries[provider], !candidates.isEmpty else { return nil }
        return (candidates.first { !$0.settings.credentials.isEmpty } ?? candidates[0]).settings.kind
    }

    public func alias(named name: String) -> ModelAlias? { aliases[name] }

    public var allAliases: [ModelAlias] { aliases.values.sorted { $0.name < $1.name } }

    /// The models each configured provider lists (nil: any model it is asked for).
    public var listedModels: [(provider: Provider, models: Set<String>?)] {
        configuredProviders.map { provider in
            let lists = entries[provider, default: []].filter { !$0.settings.credentials.isEmpty }.map(
                \.settings.models)
            if lists.isEmpty || lists.contains(where: { $0 == nil }) { return (provider, nil) }
            return (provider, lists.reduce(into: Set<String>()) { $0.formUnion($1 ?? []) })
        }
    }

    /// The attempts for `request`, in order: every credential (and Azure deployment) of the
    /// resolved provider, cooling ones last; for an alias, each of its targets in turn.
    public func plan(_ request: ModelRequest) throws(ModelManagerError) -> [Attempt] {
        guard let model = request.model, let alias = aliases[model] else {
            return try attempts(for: request)
        }
        var attempts: [Attempt] = []
        var firstError: ModelManagerError?
        for target in alias.targets {
            var rewritten = request
            rewritten.provider = target.provider
            rewritten.channel = target.channel
            rewritten.extra["model"] = .string(target.model)
            do {
                attempts += try self.attempts(for: rewritten)
            } catch {
                firstError = firstError ?? error
            }
        }
        guard !attempts.isEmpty else {
            throw firstError ?? ModelManagerError(.failedPrecondition, "alias '\(model)' has no usable target")
        }
        return attempts
    }

    private func attempts(for request: ModelRequest) throws(ModelManagerError) -> [Attempt] {
        let (settings, adapter) = try entry(for: request)
        let invokeType = try Self.invokeType(for: request, settings: settings, adapter: adapter)
        let model = request.model ?? ""
        if let value = request.extra["model"], value.stringValue == nil {
            throw ModelManagerError(
                .invalidArgument, "parameter 'model' must be a string, got \(value.typeName) \(value.jsonText)")
        }
        if model.isEmpty, !(invokeType == .imageGeneration && [.openAI, .azureOpenAI].contains(settings.kind)) {
            throw ModelManagerError(.invalidArgument, "missing required parameter 'model' in extra")
        }
        if let models = settings.models, !model.isEmpty, !models.contains(model) {
            throw ModelManagerError(
                .invalidArgument,
                "model '\(model)' is not served for provider '\(request.provider)' (served: \(models.sorted().joined(separator: ", ")))"
            )
        }
        guard !settings.credentials.isEmpty, !settings.baseURL.isEmpty else {
            let hint =
                settings.credentialVariables.isEmpty
                ? "" : " (set \(settings.credentialVariables.joined(separator: " and ")))"
            throw ModelManagerError(
                .failedPrecondition,
                "provider '\(request.provider)' channel '\(settings.channels[0])' is not configured\(hint)")
        }
        let deployments: [String?] =
            settings.kind == .azureOpenAI ? (settings.deployments[model] ?? [model]).map { $0 } : [nil]
        var targets: [UpstreamTarget] = []
        for credential in settings.credentials {
            for deployment in deployments {
                targets.append(
                    UpstreamTarget(
                        baseURL: settings.baseURL, credential: credential, deployment: deployment, settings: settings))
            }
        }
        return pool.order(targets).map {
            Attempt(adapter: adapter, invokeType: invokeType, request: request, target: $0)
        }
    }

    private func entry(for request: ModelRequest) throws(ModelManagerError) -> (ProviderSettings, any ProviderAdapter) {
        guard let candidates = entries[request.provider], !candidates.isEmpty else {
            let known = configuredProviders.map(\.rawValue).joined(separator: ", ")
            throw ModelManagerError(.invalidArgument, "unknown provider '\(request.provider)' (served: \(known))")
        }
        let channel = request.channel
        if channel.rawValue.isEmpty || channel == .normal {
            // The default: the first entry that is configured, else the first.
            return candidates.first { !$0.settings.credentials.isEmpty } ?? candidates[0]
        }
        if let match = candidates.first(where: { $0.settings.channels.contains(channel) }) { return match }
        let accepted = ([Channel.normal] + candidates.flatMap(\.settings.channels)).map(\.rawValue).joined(
            separator: ", ")
        throw ModelManagerError(
            .invalidArgument,
            "channel '\(channel)' is not served for provider '\(request.provider)' (accepted: \(accepted))")
    }

    private static func invokeType(for request: ModelRequest, settings: ProviderSettings, adapter: any ProviderAdapter)
        throws(ModelManagerError) -> InvokeType
    {
        let requested = request.invokeType
        if requested.rawValue.isEmpty,
            let inferred = adapter.inferInvokeType(model: request.model ?? "", extra: request.extra)
        {
            return inferred
        }
        if let served = adapter.invokeTypes[requested] { return served }
        let accepted = adapter.invokeTypes.keys.map(\.rawValue).sorted().joined(separator: ", ")
        throw ModelManagerError(
            .invalidArgument,
            "invoke_type '\(requested)' is not served for provider '\(request.provider)' channel '\(settings.channels[0])' (accepted: \(accepted))"
        )
    }
}

/// One adapter per wire protocol, shared by every provider that speaks it.
public struct AdapterRegistry: Sendable {
    private var adapters: [ProviderSettings.Kind: any ProviderAdapter]

    public init(adapters: [ProviderSettings.Kind: any ProviderAdapter]) { self.adapters = adapters }

    public func adapter(for kind: ProviderSettings.Kind) -> (any ProviderAdapter)? { adapters[kind] }
}

extension AdapterRegistry {
    /// Every adapter this gateway ships, over one HTTP client.
    public static func standard(http: UpstreamHTTP) -> AdapterRegistry {
        let tokens = GoogleAccessTokens(client: http.client)
        return AdapterRegistry(adapters: [
            .openAI: OpenAIFamilyAdapter(http: http, flavor: .openAI),
            .openAIChat: OpenAIFamilyAdapter(http: http, flavor: .compatible),
            .azureOpenAI: OpenAIFamilyAdapter(http: http, flavor: .azure),
            .googleAIStudio: GoogleAdapter(http: http, flavor: .aiStudio, tokens: tokens),
            .googleVertex: GoogleAdapter(http: http, flavor: .vertex, tokens: tokens),
            .anthropic: AnthropicAdapter(http: http),
        ])
    }
}
