public import ModelManagerCore

/// The status that ends a call: a gRPC code and a message for the peer.
public struct GRPCStatus: Sendable, Hashable, Error, CustomStringConvertible {
    public typealias Code = GRPCStatusCode

    public var code: Code
    public var message: String

    /// Longest message sent, in UTF-8 bytes. A message that echoes caller input could otherwise
    /// pass the peer's metadata limit (8 KiB by default), and the peer would see RESOURCE_EXHAUSTED,
    /// a status it retries, instead of the real one.
    public static let maximumMessageBytes = 1024

    public init(code: Code, message: String) {
        self.code = code
        self.message = Self.cut(message)
    }

    /// `message` within `maximumMessageBytes`, cut at a character boundary and marked with "…".
    static func cut(_ message: String) -> String {
        guard message.utf8.count > maximumMessageBytes else { return message }
        return message.prefix(utf8Bytes: maximumMessageBytes - 3) + "…"
    }

    public static let ok = GRPCStatus(code: .ok, message: "")
    public var isOK: Bool { code == .ok }

    public var description: String { message.isEmpty ? code.name : "\(code.name): \(message)" }
}
