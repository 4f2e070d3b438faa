public import ModelManagerCore

/// One upstream to call: where, as whom, and (Azure) through which deployment.
public struct UpstreamTarget: Sendable, Hashable {
    public var baseURL: String
    public var credential: Credential
    public var deployment: String?
    public var settings: ProviderSettings

    public init(baseURL: String, credential: Credential, deployment: String? = nil, settings: ProviderSettings) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credential = credential
        self.deployment = deployment
        self.settings = settings
    }

    /// The API key, for adapters that take one; a service account here is a configuration error.
    func apiKey() throws(ModelManagerError) -> String {
        guard case .apiKey(let secret) = credential else {
            throw ModelManagerError(
                .failedPrecondition,
                "provider '\(settings.provider)' (\(settings.kind)) needs an API key, not a service account")
        }
        return secret.revealed
    }
}

/// Receives an answer's deltas, in order, as they arrive: all those one upstream read brought
/// at once, so a face can send them in one write.
public typealias ChunkSink = @Sendable ([ResponseChunk]) async throws -> Void

/// One upstream API. Adapters know a provider's JSON and nothing of gRPC; everything
/// they throw is a `ModelManagerError` (HTTP failures mapped once, in `UpstreamFailure`).
public protocol ProviderAdapter: Sendable {
    /// Requested invoke type → the one served (aliases such as OpenAI's `generation` → `responses`).
    var invokeTypes: [InvokeType: InvokeType] { get }

    /// The invoke type to use when the caller gave none (or a generic one), from the parameters.
    func inferInvokeType(model: String, extra: [String: JSONValue]) -> InvokeType?

    /// Invokes the upstream: a stream's deltas go to `emit` as they arrive; the completion (a
    /// non-stream call's whole answer; the usage and the raw response) is returned, never emitted.
    func invoke(
        _ request: ModelRequest, as invokeType: InvokeType, target: UpstreamTarget, context: InvocationContext,
        emit: ChunkSink
    ) async throws -> ResponseChunk
}
