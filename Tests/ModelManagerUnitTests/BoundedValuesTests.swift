import ModelManagerCore
import ModelManagerGRPC
import ModelManagerProviders
import ModelManagerUsage
import Testing

/// Numbers and strings from callers and upstreams that used to trap or overflow a limit.
@Suite struct BoundedValuesTests {
    @Test func hugeOrNonFiniteSecondsAreClampedNotTrapped() {
        #expect(Duration.clampedSeconds(1e300) == .longestWait)
        #expect(Duration.clampedSeconds(.infinity) == .longestWait)
        #expect(Duration.clampedSeconds(-5) == .zero)
        #expect(Duration.clampedSeconds(.nan) == nil)
        #expect(Duration.clampedSeconds(1.5) == .milliseconds(1500))
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == .max)
    }

    @Test func tokenCountsNearInt64MaxSaturate() throws {
        let usage = try #require(
            Usage(json: [
                "prompt_tokens": .integer(.max), "completion_tokens": .integer(.max - 1),
                "total_tokens": .integer(.max),
            ]))
        #expect(usage.promptTokens == TokenCount.maximum)
        #expect(usage.totalTokens == 2 * TokenCount.maximum)
        #expect(Usage(promptTokens: -5, completionTokens: 3).promptTokens == 0)
    }

    @Test func retryAfterInfinityIsNoAdvice() {
        let infinite = UpstreamFailure.fromHTTP(
            status: 429, body: nil, rawBody: "", provider: .openai, retryAfter: "inf")
        #expect(infinite.code == .resourceExhausted)
        #expect(infinite.retryAfterSeconds == nil)
        let absurd = UpstreamFailure.fromHTTP(
            status: 503, body: nil, rawBody: "", provider: .openai, retryAfter: "1e300")
        #expect(absurd.retryAfterSeconds == 3600)
    }

    @Test func statusMessagesAreCutToASafeLength() {
        let echoed = String(repeating: "é", count: 10_000)
        let status = GRPCStatus(code: .invalidArgument, message: "model '\(echoed)' is unknown")
        #expect(status.message.utf8.count <= GRPCStatus.maximumMessageBytes)
        #expect(status.message.hasSuffix("…"))
        #expect(GRPCStatus(code: .invalidArgument, message: "short").message == "short")
    }

    @Test func billingSubjectsUseASafeAlphabet() {
        var record = UsageRecord(
            requestID: "r", orgID: "o", userID: "u", clientType: "c", provider: "openai", channel: "openai",
            invokeType: "chat-completions",
            model: "gpt+4#x\r\n>*. y", usage: nil, cost: nil, latencyMilliseconds: 1, stream: false, success: true)
        #expect(record.billingSubject == "billing.usage.recorded.gpt_4_x______y")
        record.model = ""
        #expect(record.billingSubject == "billing.usage.recorded.unknown")
    }
}
