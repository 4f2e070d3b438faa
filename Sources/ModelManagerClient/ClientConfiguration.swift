public import Foundation
public import ModelManagerGRPC

/// How a client reaches the server and proves who it is. `fromEnvironment` reads the same
/// variables as the Python SDK (PROTOCOL.md §8), once, when called.
public struct ClientConfiguration: Sendable {
    /// `host:port`.
    public var serverAddress: String
    /// HS256 secret to mint tokens with; nil (and no `jwtToken`) sends no authorization.
    public var jwtSecret: String?
    /// A ready-made token, used as is when there is no secret.
    public var jwtToken: String?
    /// Claims for minted tokens; when nil, each request's `org_id`/`user_id`.
    public var jwtPayload: [String: String]?
    public var tokenLifetime: Duration = .seconds(3600)
    /// TLS is the default, as in the Python SDK.
    public var useTLS = true
    public var tls = TLSClientConfiguration()
    /// The deadline of each call (for a stream: of the whole stream).
    public var timeout: Duration = .seconds(30)

    public init(serverAddress: String, jwtSecret: String? = nil, jwtToken: String? = nil, useTLS: Bool = true, timeout: Duration = .seconds(30)) {
        self.serverAddress = serverAddress
        self.jwtSecret = jwtSecret
        self.jwtToken = jwtToken
        self.useTLS = useTLS
        self.timeout = timeout
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ClientConfiguration {
        guard let address = environment["MODEL_MANAGER_SERVER_ADDRESS"], !address.isEmpty else {
            throw Invalid(description: "MODEL_MANAGER_SERVER_ADDRESS is not set (expected host:port)")
        }
        var configuration = ClientConfiguration(serverAddress: address)
        configuration.jwtSecret = environment["MODEL_MANAGER_SERVER_JWT_SECRET_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.useTLS = (environment["MODEL_MANAGER_SERVER_GRPC_USE_TLS"] ?? "true").lowercased() == "true"
        if let text = environment["MODEL_MANAGER_SERVER_INVOKE_TIMEOUT"] {
            guard let seconds = Double(text), seconds > 0 else {
                throw Invalid(description: "MODEL_MANAGER_SERVER_INVOKE_TIMEOUT must be a positive number of seconds, got '\(text)'")
            }
            configuration.timeout = .milliseconds(Int64(seconds * 1000))
        }
        return configuration
    }
}
