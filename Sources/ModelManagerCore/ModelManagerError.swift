import Foundation

/// The one error type every layer throws. Its code maps to one gRPC status and one
/// HTTP status here, and nowhere else.
///
/// Messages are shown to callers: they name the offending value, never a secret.
public struct ModelManagerError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Wrapped: Sendable, Hashable {
            case invalidArgument, unauthenticated, permissionDenied, notFound, resourceExhausted
            case unavailable, deadlineExceeded, cancelled, internalError, unimplemented, failedPrecondition, payloadTooLarge, aborted
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

        /// The gRPC status code (grpc/status.h numbering).
        public var grpcStatus: Int {
            switch wrapped {
            case .cancelled: 1
            case .invalidArgument: 3
            case .deadlineExceeded: 4
            case .notFound: 5
            case .permissionDenied: 7
            case .resourceExhausted: 8
            case .failedPrecondition: 9
            case .payloadTooLarge: 8
            case .aborted: 10
            case .unimplemented: 12
            case .internalError: 13
            case .unavailable: 14
            case .unauthenticated: 16
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
        public init(grpcStatus: Int) {
            switch grpcStatus {
            case 1: self = .cancelled
            case 3, 11: self = .invalidArgument
            case 4: self = .deadlineExceeded
            case 5: self = .notFound
            case 7: self = .permissionDenied
            case 8: self = .resourceExhausted
            case 9: self = .failedPrecondition
            case 10: self = .aborted
            case 12: self = .unimplemented
            case 14: self = .unavailable
            case 16: self = .unauthenticated
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
            let names = [
                "CANCELLED": 1, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5, "PERMISSION_DENIED": 7,
                "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9, "ABORTED": 10, "UNIMPLEMENTED": 12, "INTERNAL": 13,
                "UNAVAILABLE": 14, "UNAUTHENTICATED": 16,
            ]
            guard let number = names[grpcName.trimmingCharacters(in: .whitespaces).uppercased()] else { return nil }
            self.init(grpcStatus: number)
        }

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
