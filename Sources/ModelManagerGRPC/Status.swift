/// The status that ends a call: a gRPC code and a message for the peer.
public struct GRPCStatus: Sendable, Hashable, Error, CustomStringConvertible {
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public static let ok = GRPCStatus(code: 0, message: "")
    public var isOK: Bool { code == 0 }

    public static let codeNames = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    public var codeName: String { Self.codeNames.indices.contains(code) ? Self.codeNames[code] : "CODE_\(code)" }
    public var description: String { message.isEmpty ? codeName : "\(codeName): \(message)" }
}
