/// Conversions of caller- and upstream-supplied numbers that must never trap: a timeout of
/// `1e300`, a `Retry-After: inf` or a token count near `Int64.max` is clamped, not converted.
extension Duration {
    /// The longest duration any configured or requested wait is taken to mean (a year).
    public static let longestWait: Duration = .seconds(365 * 86_400)

    /// `seconds` as a duration within `0...maximum`; nil for NaN, which means nothing.
    public static func clampedSeconds(_ seconds: Double, maximum: Duration = .longestWait) -> Duration? {
        guard !seconds.isNaN else { return nil }
        let bounded = min(max(seconds, 0), Double(maximum.components.seconds))
        return .milliseconds(Int64(bounded * 1000))
    }
}

/// Token counts as upstreams report them, bounded so that sums of a few never overflow.
public enum TokenCount {
    /// More tokens than any call can bill (2⁴⁰ ≈ 1.1 × 10¹²); larger reports are clamped here.
    public static let maximum = 1 << 40

    public static func clamped(_ value: Int64) -> Int { Int(min(max(value, 0), Int64(maximum))) }
}

extension JSONValue {
    /// The value as a token count: a non-negative integer, clamped to `TokenCount.maximum`.
    public var tokenCount: Int? { integerValue.map(TokenCount.clamped) }
}
