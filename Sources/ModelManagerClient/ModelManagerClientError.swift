public import ModelManagerCore

/// The one error the client throws: what kind of failure, the transport status, the server's
/// message, and the ids to find the call in the server's logs and ledger.
public struct ModelManagerClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Wrapped: Sendable, Hashable {
            case authentication, permission, invalidParameter, notFound, rateLimit, timeout, network, cancelled,
                provider, server
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The token was missing, invalid or expired (UNAUTHENTICATED, HTTP 401).
        public static let authentication = Code(.authentication)
        public static let permission = Code(.permission)
        /// The request is wrong and will stay wrong; never retried.
        public static let invalidParameter = Code(.invalidParameter)
        public static let notFound = Code(.notFound)
        public static let rateLimit = Code(.rateLimit)
        public static let timeout = Code(.timeout)
        /// The server could not be reached or dropped the call.
        public static let network = Code(.network)
        /// The caller cancelled.
        public static let cancelled = Code(.cancelled)
        /// The provider behind the server failed (or the server refused a precondition).
        public static let provider = Code(.provider)
        /// The server failed.
        public static let server = Code(.server)

        public var description: String {
            switch wrapped {
            case .authentication: "authentication"
            case .permission: "permission"
            case .invalidParameter: "invalid parameter"
            case .notFound: "not found"
            case .rateLimit: "rate limit"
            case .timeout: "timeout"
            case .network: "network"
            case .cancelled: "cancelled"
            case .provider: "provider"
            case .server: "server"
            }
        }

        init(status: ModelManagerError.Code) {
            switch status {
            case .unauthenticated: self = .authentication
            case .permissionDenied: self = .permission
            case .invalidArgument, .payloadTooLarge: self = .invalidParameter
            case .notFound: self = .notFound
            case .resourceExhausted: self = .rateLimit
            case .deadlineExceeded: self = .timeout
            case .unavailable: self = .network
            case .cancelled: self = .network
            case .failedPrecondition, .unimplemented: self = .provider
            default: self = .server
            }
        }
    }

    public var code: Code
    /// The status the server (or the transport) answered with.
    public var status: ModelManagerError.Code
    public var message: String
    public var requestID: String?
    public var originRequestID: String?
    /// Whether the answer came over the HTTP fallback.
    public var viaHTTPFallback = false
    /// When the server said a retry can succeed (a quota's reset: trailing `retry-after`).
    public var retryAfter: Duration?

    public init(
        status: ModelManagerError.Code, message: String, requestID: String? = nil, originRequestID: String? = nil
    ) {
        code = Code(status: status)
        self.status = status
        self.message = message
        self.requestID = requestID
        self.originRequestID = originRequestID
    }

    public static func cancelledByCaller(requestID: String?, originRequestID: String?) -> ModelManagerClientError {
        var error = ModelManagerClientError(
            status: .cancelled, message: "the call was cancelled by the caller", requestID: requestID,
            originRequestID: originRequestID)
        error.code = .cancelled
        return error
    }

    public var description: String {
        "\(code) (\(status)): \(message)" + (requestID.map { " [request \($0)]" } ?? "")
    }
}
