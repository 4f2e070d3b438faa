import Foundation
import ModelManagerAuth
import ModelManagerClient
import ModelManagerCore
import ModelManagerTestSupport
import ProviderEmulator
import Testing
import Tracing

/// OpenTelemetry: one span per call with the GenAI attributes, children for the upstream
/// attempt and the ledger commit, the caller's `traceparent` followed and passed upstream.
@Suite struct TracingTests {
    static let parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentSpan = "00f067aa0ba902b7"

    /// Spans the emulator's OTLP endpoint received, by name.
    static func spans(_ emulator: ProviderEmulator) -> [String: JSONValue] {
        var spans: [String: JSONValue] = [:]
        for request in emulator.recorder.requests where request.path == "/v1/traces" {
            for resource in request.body?["resourceSpans"]?.arrayValue ?? [] {
                for scope in resource["scopeSpans"]?.arrayValue ?? [] {
                    for span in scope["spans"]?.arrayValue ?? [] {
                        if let name = span["name"]?.stringValue { spans[name] = span }
                    }
                }
            }
        }
        return spans
    }

    /// OTLP/JSON ids are hex; accept base64 too, as protobuf's JSON mapping writes bytes.
    static func hex(_ id: JSONValue?) -> String {
        guard let text = id?.stringValue else { return "" }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        return Data(base64Encoded: text).map { $0.map { String(format: "%02x", $0) }.joined() } ?? text
    }

    static func attribute(_ span: JSONValue?, _ key: String) -> JSONValue? {
        let value = span?["attributes"]?.arrayValue?.first { $0["key"]?.stringValue == key }?["value"]
        return value?["stringValue"] ?? value?["intValue"] ?? value?["doubleValue"] ?? value?["boolValue"]
    }

    /// A server exporting its spans as OTLP/JSON to a second emulator, the collector.
    static func withTracedServer(_ body: (TestServer, ProviderEmulator) async throws -> Void) async throws {
        let collector = try await ProviderEmulator()
        defer { Task { await collector.stop() } }
        try await withTestServer { configuration in
            configuration.tracing.enabled = true
            configuration.tracing.endpoint = collector.baseURL + "/v1/traces"
            configuration.tracing.encoding = .json
            configuration.tracing.exportDelay = .milliseconds(50)
        } _: { server in
            try await body(server, collector)
        }
    }

    @Test func aCallIsTracedUnderItsCallersTraceAndUpstream() async throws {
        try await Self.withTracedServer { server, collector in
            let token = JWTMinter(secret: TestServer.jwtSecret).mint(claims: ["org_id": "o", "user_id": "u"]).token
            let answer = try await HTTPCalls.send(
                server, .POST, "/v1/chat/completions", token: token,
                body: [
                    "model": "openai/gpt-4o-mini", "max_tokens": 50,
                    "messages": [["role": "user", "content": "trace me"]],
                ],
                headers: [("traceparent", "00-\(Self.parentTrace)-\(Self.parentSpan)-01")])
            #expect(answer.status == 200)
            let upstream = try #require(server.emulator.recorder.requests.last { $0.path == "/v1/chat/completions" })
            #expect(upstream.headers["traceparent"]?.contains(Self.parentTrace) == true)

            var spans: [String: JSONValue] = [:]
            for _ in 0..<100 where spans.count < 3 {
                try await Task.sleep(for: .milliseconds(50))
                spans = Self.spans(collector)
            }
            let call = try #require(spans["chat gpt-4o-mini"])
            #expect(Self.hex(call["traceId"]) == Self.parentTrace)
            #expect(Self.hex(call["parentSpanId"]) == Self.parentSpan)
            #expect(Self.attribute(call, "gen_ai.system") == "openai")
            #expect(Self.attribute(call, "gen_ai.request.model") == "gpt-4o-mini")
            #expect(Self.attribute(call, "model_manager.face") == "openai")
            let input = Self.attribute(call, "gen_ai.usage.input_tokens")
            #expect(input?.integerValue ?? input?.stringValue.flatMap { Int64($0) } ?? 0 > 0)
            let attempt = try #require(spans["upstream openai"])
            let ledger = try #require(spans["ledger commit"])
            #expect(Self.hex(attempt["parentSpanId"]) == Self.hex(call["spanId"]))
            #expect(Self.hex(ledger["parentSpanId"]) == Self.hex(call["spanId"]))
            // The upstream request is the attempt span's child.
            #expect(upstream.headers["traceparent"]?.contains(Self.hex(attempt["spanId"])) == true)
        }
    }

    /// The trace a test's task is in, and the instrument that writes it as `traceparent`: what a
    /// program's tracing system (swift-otel, say) does for the client.
    enum TraceParentKey: ServiceContextKey { typealias Value = String }

    struct TraceParentInstrument: Instrument {
        func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
        where Extract: Extractor, Extract.Carrier == Carrier {}

        func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
        where Inject: Injector, Inject.Carrier == Carrier {
            if let parent = context[TraceParentKey.self] {
                injector.inject(parent, forKey: "traceparent", into: &carrier)
            }
        }
    }

    /// Bootstrapped once for the process; other tests' calls carry no ServiceContext, so it adds nothing to them.
    static let instrumented: Void = InstrumentationSystem.bootstrap(TraceParentInstrument())

    @Test func theSwiftClientsGRPCCallJoinsItsTasksTrace() async throws {
        Self.instrumented
        try await Self.withTracedServer { server, collector in
            var context = ServiceContext.topLevel
            context[TraceParentKey.self] = "00-\(Self.parentTrace)-\(Self.parentSpan)-01"
            let request = ModelRequest(
                provider: .anthropic, invokeType: .messages, orgID: "o", userID: "u",
                extra: [
                    "model": "claude-sonnet-4-5", "max_tokens": 20,
                    "messages": [["role": "user", "content": "over grpc"]],
                ])
            let client = server.asyncClient()
            _ = try await ServiceContext.withValue(context) { try await client.invoke(request) }
            let upstream = try #require(server.emulator.recorder.requests.last { $0.path == "/v1/messages" })
            #expect(upstream.headers["traceparent"]?.contains(Self.parentTrace) == true)
            var call: JSONValue?
            for _ in 0..<100 where call == nil {
                try await Task.sleep(for: .milliseconds(50))
                call = Self.spans(collector)["chat claude-sonnet-4-5"]
            }
            #expect(Self.hex(call?["traceId"]) == Self.parentTrace)
            #expect(Self.hex(call?["parentSpanId"]) == Self.parentSpan)
            #expect(Self.attribute(call, "model_manager.face") == "grpc")
            #expect(Self.attribute(call, "gen_ai.system") == "anthropic")
        }
    }
}
