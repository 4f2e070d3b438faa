/// A credential. Its description is redacted, so it cannot reach a log line or an error by accident.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The value, for the one place that puts it on the wire.
    public let revealed: String

    public init(_ value: String) { revealed = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

extension Secret: ExpressibleByStringLiteral {
    /// A secret written in code (tests, examples); configuration reads them with `init(_:)`.
    public init(stringLiteral value: String) { self.init(value) }
}

extension Secret: CustomReflectable {
    /// `dump` and the default description of a struct holding a secret show it redacted too.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
