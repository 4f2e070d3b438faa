import ModelManagerUsage
import Testing

@Suite struct SignalTests {
    /// The relay waits on its signal after every batch: a wait must leave nothing behind, however
    /// it ended (a leftover per wait grew the relay's memory with every commit).
    @Test func everyWaitLeavesNothingBehindHoweverItEnded() async throws {
        let signal = Signal()
        for _ in 0..<50 {
            async let waited: Void = signal.wait(upTo: .seconds(30))
            signal.fire()
            await waited
        }
        for _ in 0..<5 { await signal.wait(upTo: .milliseconds(5)) }
        signal.fire()
        await signal.wait(upTo: .seconds(30))
        let cancelled = Task { await signal.wait(upTo: .seconds(30)) }
        cancelled.cancel()
        await cancelled.value
        // Timers of finished waits end on their own; give them a moment to run.
        try await Task.sleep(for: .milliseconds(100))
        #expect(signal.waitsInProgress == 0)
    }
}
