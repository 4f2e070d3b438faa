/// A `Duration` in the units other APIs take: one place for the arithmetic, saturating rather
/// than trapping when a duration is too long for the unit.
extension Duration {
    /// Whole milliseconds, for logs and records.
    public var wholeMilliseconds: Int64 { whole(unitsPerSecond: 1000) }

    /// Whole nanoseconds, for C and NIO deadlines.
    public var wholeNanoseconds: Int64 { whole(unitsPerSecond: 1_000_000_000) }

    /// Milliseconds with their fraction, for measurements.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    private func whole(unitsPerSecond: Int64) -> Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: unitsPerSecond)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = scaled.addingReportingOverflow(
            attoseconds / (1_000_000_000_000_000_000 / unitsPerSecond))
        return sumOverflow ? (seconds < 0 ? .min : .max) : sum
    }
}
