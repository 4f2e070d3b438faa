public import ModelManagerCore

/// Where and as whom an adapter calls its upstream.
public struct UpstreamEndpoint: Sendable, Hashable {
    public var baseURL: String
    public var apiKey: Secret

    public init(baseURL: String, apiKey: Secret) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
    }
}

/// Receives the normalized chunks of an answer, in order, as they arrive.
public typealias ChunkSink = @Sendable (ResponseChunk) async throws -> Void

/// One upstream API. Adapters know a provider's JSON and nothing of gRPC; everything
/// they throw is a `ModelManagerError` (mapped once, in `UpstreamFailure`).
public protocol ProviderAdapter: Sendable {
    /// Invokes the upstream. A non-stream call emits exactly one chunk with the whole text
    /// and usage; a stream emits deltas and then a last chunk with the usage.
    func invoke(_ request: ModelRequest, endpoint: UpstreamEndpoint, context: InvocationContext, emit: ChunkSink) async throws
}
