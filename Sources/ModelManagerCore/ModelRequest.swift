/// One model invocation as the caller asked for it, independent of the transport.
public struct ModelRequest: Sendable, Hashable {
    public var provider: Provider
    public var channel: Channel
    public var invokeType: InvokeType
    /// Field 4 of the wire request: the authority on streaming, whatever `extra.stream` says.
    public var stream: Bool
    public var orgID: String
    public var userID: String
    public var clientType: String
    public var priority: Int32?
    public var customID: String?
    public var region: String?
    /// The provider parameters (`model`, `messages`, …).
    public var extra: [String: JSONValue]

    public init(
        provider: Provider,
        channel: Channel = .normal,
        invokeType: InvokeType = .generation,
        stream: Bool = false,
        orgID: String = "",
        userID: String = "",
        clientType: String = "",
        priority: Int32? = nil,
        customID: String? = nil,
        region: String? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.provider = provider
        self.channel = channel
        self.invokeType = invokeType
        self.stream = stream
        self.orgID = orgID
        self.userID = userID
        self.clientType = clientType
        self.priority = priority
        self.customID = customID
        self.region = region
        self.extra = extra
    }

    /// `extra.model`, the model the caller asked for.
    public var model: String? { extra["model"]?.stringValue }
}

/// Which face a call came through, as metrics and traces name it.
public enum CallFace: String, Sendable, Hashable {
    case grpc
    case http
    case openAICompatible = "openai"
    case anthropicCompatible = "anthropic"
    case task
}

/// What is known about a call besides its request: who sent it, under which ids, until when.
public struct InvocationContext: Sendable {
    public var requestID: String
    public var originRequestID: String?
    /// When the caller stops waiting; the upstream request must end by then too.
    public var deadline: ContinuousClock.Instant?
    /// Caller-supplied context kept with the usage record (pass-through headers such as `x-user-ip`).
    public var metadata: [String: String]
    /// Who the verified token says called (its `sub`, else `org_id/user_id`), kept beside the
    /// request's own `org_id`/`user_id`, which accounting uses (the Python SDK freezes its claims).
    public var tokenSubject: String?
    /// What the caller's API key allows; nil for a JWT caller.
    public var grant: CallerGrant?
    /// The caller's network address, for the audit log: worked out only when a refusal is recorded.
    public var peerAddress: @Sendable () -> String?
    public var face: CallFace = .grpc
    /// The caller's W3C trace context (`traceparent`, `tracestate`), from gRPC metadata or HTTP headers.
    public var traceHeaders: [String: String] = [:]
    /// The span the call's work runs under now (nil when tracing is off).
    public var trace: CallTrace?

    public init(
        requestID: String, originRequestID: String? = nil, deadline: ContinuousClock.Instant? = nil,
        metadata: [String: String] = [:],
        tokenSubject: String? = nil, grant: CallerGrant? = nil, peerAddress: @escaping @Sendable () -> String? = { nil }
    ) {
        self.requestID = requestID
        self.originRequestID = originRequestID
        self.deadline = deadline
        self.metadata = metadata
        self.tokenSubject = tokenSubject
        self.grant = grant
        self.peerAddress = peerAddress
    }
}
