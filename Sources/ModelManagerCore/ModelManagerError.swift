import Foundation

/// The one error type every layer throws. Its code maps to one gRPC status and one
/// HTTP status here, and nowhere else.
///
/// Messages are shown to callers: they name the offending value, never a secret.
public struct ModelManagerError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Wrapped: Sendable, Hashable {
            case invalidArgument, unauthenticated, permissionDenied, notFound, resourceExhausted
            case unavailable, deadlineExceeded, cancelled, internalError, unimplemented, failedPrecondition,
                payloadTooLarge, aborted
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The request is wrong and will stay wrong: never retried.
        public static let invalidArgument = Code(.invalidArgument)
        public static let unauthenticated = Code(.unauthenticated)
        public static let permissionDenied = Code(.permissionDenied)
        public static let notFound = Code(.notFound)
        /// Rate limited or over quota; a later retry can succeed.
        public static let resourceExhausted = Code(.resourceExhausted)
        /// A transient failure (upstream down, connection refused); a retry can help.
        public static let unavailable = Code(.unavailable)
        public static let deadlineExceeded = Code(.deadlineExceeded)
        public static let cancelled = Code(.cancelled)
        public static let internalError = Code(.internalError)
        public static let unimplemented = Code(.unimplemented)
        public static let failedPrecondition = Code(.failedPrecondition)
        /// A request larger than the server accepts (HTTP 413; gRPC has its own limit).
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// A concurrency conflict; a retry can succeed.
        public static let aborted = Code(.aborted)

        /// The gRPC status a caller receives for this code.
        public var grpcStatus: GRPCStatusCode {
            switch wrapped {
            case .cancelled: .cancelled
            case .invalidArgument: .invalidArgument
            case .deadlineExceeded: .deadlineExceeded
            case .notFound: .notFound
            case .permissionDenied: .permissionDenied
            case .resourceExhausted: .resourceExhausted
            case .failedPrecondition: .failedPrecondition
            case .payloadTooLarge: .resourceExhausted
            case .aborted: .aborted
            case .unimplemented: .unimplemented
            case .internalError: .internalError
            case .unavailable: .unavailable
            case .unauthenticated: .unauthenticated
            }
        }

        public var httpStatus: Int {
            switch wrapped {
            case .cancelled: 499
            case .invalidArgument: 400
            case .deadlineExceeded: 504
            case .notFound: 404
            case .permissionDenied: 403
            case .resourceExhausted: 429
            case .failedPrecondition: 400
            case .payloadTooLarge: 413
            case .aborted: 409
            case .unimplemented: 501
            case .internalError: 500
            case .unavailable: 503
            case .unauthenticated: 401
            }
        }

        /// The code for a gRPC status received from a peer; unknown codes are internal errors.
        public init(grpcStatus: GRPCStatusCode) {
            switch grpcStatus {
            case .cancelled: self = .cancelled
            case .invalidArgument, .outOfRange: self = .invalidArgument
            case .deadlineExceeded: self = .deadlineExceeded
            case .notFound: self = .notFound
            case .permissionDenied: self = .permissionDenied
            case .resourceExhausted: self = .resourceExhausted
            case .failedPrecondition: self = .failedPrecondition
            case .aborted: self = .aborted
            case .unimplemented: self = .unimplemented
            case .unavailable: self = .unavailable
            case .unauthenticated: self = .unauthenticated
            default: self = .internalError
            }
        }

        /// The code for an HTTP status received from the server's HTTP face (the inverse of `httpStatus`).
        public init(httpStatus: Int) {
            switch httpStatus {
            case 400, 422: self = .invalidArgument
            case 401: self = .unauthenticated
            case 403: self = .permissionDenied
            case 404: self = .notFound
            case 409: self = .aborted
            case 413: self = .payloadTooLarge
            case 429: self = .resourceExhausted
            case 499: self = .cancelled
            case 501: self = .unimplemented
            case 502, 503: self = .unavailable
            case 504: self = .deadlineExceeded
            default: self = .internalError
            }
        }

        /// The code for a gRPC status name (`UNAVAILABLE`), as the Python SDK's variables list them.
        public init?(grpcName: String) {
            guard let code = GRPCStatusCode(name: grpcName.trimmingCharacters(in: .whitespaces)), code != .ok,
                code != .unknown
            else {
                return nil
            }
            self.init(grpcStatus: code)
        }

        /// The code whose `description` is `text` (as a stored failure names it).
        public init?(description text: String) {
            let all: [Code] = [
                .invalidArgument, .unauthenticated, .permissionDenied, .notFound, .resourceExhausted, .unavailable,
                .deadlineExceeded, .cancelled, .internalError, .unimplemented, .failedPrecondition, .payloadTooLarge,
                .aborted,
            ]
            guard let code = all.first(where: { $0.description == text }) else { return nil }
            self = code
        }

        /// The code as one word (`invalid_argument`): a metric label, a span's `error.type`, an
        /// OpenAI-style error `code`.
        public var identifier: String { description.replacingOccurrences(of: " ", with: "_") }

        public var description: String {
            switch wrapped {
            case .invalidArgument: "invalid argument"
            case .unauthenticated: "unauthenticated"
            case .permissionDenied: "permission denied"
            case .notFound: "not found"
            case .resourceExhausted: "resource exhausted"
            case .unavailable: "unavailable"
            case .deadlineExceeded: "deadline exceeded"
            case .cancelled: "cancelled"
            case .internalError: "internal error"
            case .unimplemented: "unimplemented"
            case .failedPrecondition: "failed precondition"
            case .payloadTooLarge: "payload too large"
            case .aborted: "aborted"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The lower-level error, kept for logs; never shown to callers.
    public var cause: String?
    /// Seconds the caller should wait before retrying, when the upstream said so.
    public var retryAfterSeconds: Double?
    /// Tokens the upstream reported before it failed (a stream cut after its prompt was
    /// counted): they are billed like any others.
    public var reportedUsage: Usage?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, retryAfterSeconds: Double? = nil) {
        self.code = code
        self.message = message
        self.cause = cause.map { String(describing: $0) }
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code): \(message)" }
}
