import ModelManagerCore

/// Which caller headers the usage record keeps as metadata: an allow-list, never anything that
/// looks like a credential (even if listed), each value cut to a bounded size.
public struct RecordedHeaders: Sendable, Hashable {
    /// Lower-case header names kept with the record.
    public var names: Set<String> = [
        "x-user-ip", "x-idempotency-key", "x-forwarded-for", "x-trace-id", "x-correlation-id",
    ]
    /// Longest value kept, in UTF-8 bytes.
    public var maximumValueBytes = 256

    public init() {}

    /// The metadata of one call from its headers (name, value), names compared in lower case.
    func metadata(from headers: some Sequence<(name: String, value: String)>) -> [String: String] {
        var kept: [String: String] = [:]
        for (name, value) in headers {
            let lowered = name.lowercased()
            guard names.contains(lowered), !CredentialNames.matches(lowered) else { continue }
            kept[lowered] = value.prefix(utf8Bytes: maximumValueBytes)
        }
        return kept
    }
}
