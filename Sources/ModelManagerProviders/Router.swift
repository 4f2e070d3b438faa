public import ModelManagerCore

/// Resolves (provider, channel, invoke_type, model) to an adapter and its endpoint.
/// Every refusal is permanent (INVALID_ARGUMENT or FAILED_PRECONDITION) and names the value.
public struct Router: Sendable {
    public struct Route: Sendable {
        public var adapter: any ProviderAdapter
        public var endpoint: UpstreamEndpoint
        public var settings: ProviderSettings
    }

    private let providers: [Provider: (settings: ProviderSettings, adapter: any ProviderAdapter)]

    public init(settings: [ProviderSettings], registry: AdapterRegistry) {
        var providers: [Provider: (ProviderSettings, any ProviderAdapter)] = [:]
        for entry in settings {
            guard let adapter = registry.adapter(for: entry.kind) else { continue }
            providers[entry.provider] = (entry, adapter)
        }
        self.providers = providers
    }

    public var configuredProviders: [Provider] { providers.keys.sorted { $0.rawValue < $1.rawValue } }

    public func resolve(_ request: ModelRequest) throws(ModelManagerError) -> Route {
        guard let (settings, adapter) = providers[request.provider] else {
            let known = configuredProviders.map(\.rawValue).joined(separator: ", ")
            throw ModelManagerError(.invalidArgument, "unknown provider '\(request.provider)' (served: \(known))")
        }
        let channel = request.channel
        guard channel.rawValue.isEmpty || channel == .normal || settings.channels.contains(channel) else {
            let accepted = ([Channel.normal] + settings.channels.sorted { $0.rawValue < $1.rawValue }).map(\.rawValue).joined(separator: ", ")
            throw ModelManagerError(.invalidArgument, "channel '\(channel)' is not served for provider '\(request.provider)' (accepted: \(accepted))")
        }
        let invokeType = request.invokeType
        guard invokeType.rawValue.isEmpty || settings.invokeTypes.contains(invokeType) else {
            let served = settings.invokeTypes.map(\.rawValue).joined(separator: ", ")
            throw ModelManagerError(.invalidArgument, "invoke_type '\(invokeType)' is not served for provider '\(request.provider)' (served: \(served))")
        }
        guard let modelValue = request.extra["model"] else {
            throw ModelManagerError(.invalidArgument, "missing required parameter 'model' in extra")
        }
        guard let model = modelValue.stringValue, !model.isEmpty else {
            throw ModelManagerError(.invalidArgument, "parameter 'model' must be a non-empty string, got \(modelValue.typeName) \(modelValue.jsonText)")
        }
        if let models = settings.models, !models.contains(model) {
            throw ModelManagerError(.invalidArgument, "model '\(model)' is not served for provider '\(request.provider)' (served: \(models.sorted().joined(separator: ", ")))")
        }
        guard let apiKey = settings.apiKey else {
            let hint = settings.apiKeyVariable.map { " (set \($0))" } ?? ""
            throw ModelManagerError(.failedPrecondition, "provider '\(request.provider)' has no API key configured\(hint)")
        }
        return Route(adapter: adapter, endpoint: UpstreamEndpoint(baseURL: settings.baseURL, apiKey: apiKey), settings: settings)
    }
}

/// One adapter per wire protocol, shared by every provider that speaks it.
public struct AdapterRegistry: Sendable {
    private var adapters: [ProviderSettings.Kind: any ProviderAdapter]

    public init(adapters: [ProviderSettings.Kind: any ProviderAdapter]) { self.adapters = adapters }

    public func adapter(for kind: ProviderSettings.Kind) -> (any ProviderAdapter)? { adapters[kind] }
}
