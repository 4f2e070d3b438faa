public import Foundation
public import ModelManagerCore
public import ModelManagerGRPC

/// How a client reaches the server, proves who it is and survives failures. `fromEnvironment`
/// reads the same variables as the Python SDK (PROTOCOL.md §8), once, when called, with a
/// `.env` file's values under the process environment's.
public struct ClientConfiguration: Sendable {
    /// `host:port`.
    public var serverAddress: String
    /// HS256 secret to mint tokens with; nil (and no `jwtToken`) sends no authorization.
    public var jwtSecret: Secret?
    /// A ready-made token, used as is when there is no secret (never refreshed).
    public var jwtToken: Secret?
    /// An API key (`mmk_…`), sent instead of a token: gRPC metadata `api-key`, and
    /// `Authorization: Bearer` on the HTTP fallback.
    public var apiKey: Secret?
    /// Claims for minted tokens; when nil, each request's `org_id`/`user_id`.
    public var jwtPayload: [String: String]?
    public var tokenLifetime: Duration = .seconds(3600)
    /// TLS is the default, as in the Python SDK.
    public var useTLS = true
    public var tls = TLSClientConfiguration()
    /// The deadline of each call including its retries (for a stream: of the whole stream).
    public var timeout: Duration = .seconds(30)
    public var retry = RetryPolicy()
    public var resilience = Resilience()
    /// The longest wait for the next chunk of a stream.
    public var streamChunkTimeout: Duration = .seconds(120)
    /// libgrpc channel arguments (keepalive, message sizes, reconnect backoff).
    public var channelArguments = ChannelArguments.clientDefaults

    /// Circuit breaker and HTTP fallback (`MODEL_CLIENT_*`).
    public struct Resilience: Sendable {
        /// Off unless enabled and given a fallback URL.
        public var enabled = false
        /// The server's HTTP base URL (`http://host:8080`).
        public var httpFallbackURL: String?
        public var circuitBreakerThreshold = 5
        public var circuitBreakerTimeout: Duration = .seconds(60)
        /// Go to HTTP after a gRPC failure (not only while the circuit is open).
        public var fastFallback = false
        public var fallback = FallbackPolicy()

        public init() {}

        var isActive: Bool { enabled && httpFallbackURL != nil }
    }

    public init(
        serverAddress: String, jwtSecret: Secret? = nil, jwtToken: Secret? = nil, useTLS: Bool = true,
        timeout: Duration = .seconds(30)
    ) {
        self.serverAddress = serverAddress
        self.jwtSecret = jwtSecret
        self.jwtToken = jwtToken
        self.useTLS = useTLS
        self.timeout = timeout
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// From `environment` (default: the process's), over the values of `dotEnvFile` when it exists.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, dotEnvFile: String? = ".env"
    ) throws -> ClientConfiguration {
        var values = dotEnvFile.map(DotEnv.read) ?? [:]
        values.merge(environment) { _, process in process }
        func value(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }
        func seconds(_ name: String) throws -> Duration? {
            guard let text = value(name) else { return nil }
            guard let number = Double(text), number > 0 else {
                throw Invalid(description: "\(name) must be a positive number of seconds, got '\(text)'")
            }
            return .milliseconds(Int64(number * 1000))
        }
        func integer(_ name: String) throws -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), number >= 0 else {
                throw Invalid(description: "\(name) must be a non-negative integer, got '\(text)'")
            }
            return number
        }
        func flag(_ name: String) -> Bool? { value(name).map { $0.lowercased() == "true" || $0 == "1" } }
        func statuses(_ name: String) throws -> Set<ModelManagerError.Code>? {
            guard let text = value(name) else { return nil }
            return Set(
                try text.split(separator: ",").map { item in
                    guard let code = ModelManagerError.Code(grpcName: String(item)) else {
                        throw Invalid(description: "\(name) lists '\(item)', which is not a gRPC status name")
                    }
                    return code
                })
        }

        guard let address = value("MODEL_MANAGER_SERVER_ADDRESS") else {
            throw Invalid(description: "MODEL_MANAGER_SERVER_ADDRESS is not set (expected host:port)")
        }
        var configuration = ClientConfiguration(serverAddress: address)
        configuration.jwtSecret = value("MODEL_MANAGER_SERVER_JWT_SECRET_KEY").map { Secret($0) }
        configuration.apiKey = value("MODEL_MANAGER_API_KEY").map { Secret($0) }
        configuration.useTLS = (value("MODEL_MANAGER_SERVER_GRPC_USE_TLS") ?? "true").lowercased() == "true"
        if let timeout = try seconds("MODEL_MANAGER_SERVER_INVOKE_TIMEOUT") { configuration.timeout = timeout }
        if let retries = try integer("MODEL_MANAGER_SERVER_GRPC_MAX_RETRIES") {
            configuration.retry.maximumRetries = retries
        }
        if let delay = try seconds("MODEL_MANAGER_SERVER_GRPC_RETRY_DELAY") { configuration.retry.baseDelay = delay }
        if let enabled = flag("MODEL_CLIENT_RESILIENT_ENABLED") { configuration.resilience.enabled = enabled }
        configuration.resilience.httpFallbackURL = value("MODEL_CLIENT_HTTP_FALLBACK_URL")
        if let threshold = try integer("MODEL_CLIENT_CIRCUIT_BREAKER_THRESHOLD") {
            configuration.resilience.circuitBreakerThreshold = threshold
        }
        if let timeout = try seconds("MODEL_CLIENT_CIRCUIT_BREAKER_TIMEOUT") {
            configuration.resilience.circuitBreakerTimeout = timeout
        }
        if let fast = flag("MODEL_CLIENT_FAST_FALLBACK_ENABLED") { configuration.resilience.fastFallback = fast }
        if let after = try integer("MODEL_CLIENT_FALLBACK_AFTER_RETRIES") {
            configuration.resilience.fallback.afterRetries = after
        }
        if let immediate = try statuses("MODEL_CLIENT_IMMEDIATE_FALLBACK_ERRORS") {
            configuration.resilience.fallback.immediate = immediate
        }
        if let never = try statuses("MODEL_CLIENT_NEVER_FALLBACK_ERRORS") {
            configuration.resilience.fallback.never = never
        }
        if let chunk = try seconds("MODEL_CLIENT_STREAM_CHUNK_TIMEOUT") { configuration.streamChunkTimeout = chunk }
        return configuration
    }
}

/// `KEY=value` lines (comments, `export`, and quotes allowed), as python-dotenv reads them.
enum DotEnv {
    static func read(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            values[key] = value
        }
        return values
    }
}
