import ModelManagerCore

/// The status that ends a call: a gRPC code and a message for the peer.
public struct GRPCStatus: Sendable, Hashable, Error, CustomStringConvertible {
    public var code: Int
    public var message: String

    /// Longest message sent, in UTF-8 bytes. A message that echoes caller input could otherwise
    /// pass the peer's metadata limit (8 KiB by default), and the peer would see RESOURCE_EXHAUSTED,
    /// a status it retries, instead of the real one.
    public static let maximumMessageBytes = 1024

    public init(code: Int, message: String) {
        self.code = code
        self.message = Self.cut(message)
    }

    /// `message` within `maximumMessageBytes`, cut at a character boundary and marked with "…".
    static func cut(_ message: String) -> String {
        guard message.utf8.count > maximumMessageBytes else { return message }
        return message.prefix(utf8Bytes: maximumMessageBytes - 3) + "…"
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
