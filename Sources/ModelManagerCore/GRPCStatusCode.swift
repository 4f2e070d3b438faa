/// A gRPC status code (grpc/status.h numbering) as a named value. It lives in Core because
/// `ModelManagerError` maps each of its codes to one of these, and Core sits below the gRPC layer.
public struct GRPCStatusCode: Sendable, Hashable, CustomStringConvertible {
    /// The number on the wire.
    public let rawValue: Int

    /// Any number a peer sends is kept; an unknown one is named `CODE_<n>`.
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let ok = GRPCStatusCode(rawValue: 0)
    public static let cancelled = GRPCStatusCode(rawValue: 1)
    public static let unknown = GRPCStatusCode(rawValue: 2)
    public static let invalidArgument = GRPCStatusCode(rawValue: 3)
    public static let deadlineExceeded = GRPCStatusCode(rawValue: 4)
    public static let notFound = GRPCStatusCode(rawValue: 5)
    public static let alreadyExists = GRPCStatusCode(rawValue: 6)
    public static let permissionDenied = GRPCStatusCode(rawValue: 7)
    public static let resourceExhausted = GRPCStatusCode(rawValue: 8)
    public static let failedPrecondition = GRPCStatusCode(rawValue: 9)
    public static let aborted = GRPCStatusCode(rawValue: 10)
    public static let outOfRange = GRPCStatusCode(rawValue: 11)
    public static let unimplemented = GRPCStatusCode(rawValue: 12)
    public static let internalError = GRPCStatusCode(rawValue: 13)
    public static let unavailable = GRPCStatusCode(rawValue: 14)
    public static let dataLoss = GRPCStatusCode(rawValue: 15)
    public static let unauthenticated = GRPCStatusCode(rawValue: 16)

    private static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// The code a name (`UNAVAILABLE`, any case) stands for.
    public init?(name: String) {
        guard let number = Self.names.firstIndex(of: name.uppercased()) else { return nil }
        rawValue = number
    }

    /// The canonical name, `UNAVAILABLE`.
    public var name: String { Self.names.indices.contains(rawValue) ? Self.names[rawValue] : "CODE_\(rawValue)" }
    public var description: String { name }
}
