public import Tracing

/// A span of a call's trace (the call's own span, or a child: an upstream attempt, a ledger
/// commit) with the tracer that made it, so that children and the W3C `traceparent` for an
/// upstream request come from the same tracer. Absent when tracing is off.
public struct CallTrace: Sendable {
    private let tracer: any Tracer
    private let span: any Span

    public enum Kind: Sendable {
        case server
        case client
        case local
    }

    /// Starts a span under the W3C trace context in `headers` (`traceparent`, `tracestate`), if any.
    public init(
        tracer: any Tracer, name: String, kind: Kind, parentHeaders: [String: String],
        attributes: [String: CallTrace.Value] = [:]
    ) {
        var parent = ServiceContext.topLevel
        if !parentHeaders.isEmpty { tracer.extract(parentHeaders, into: &parent, using: HeaderExtractor()) }
        self.init(tracer: tracer, span: tracer.startSpan(name, context: parent, ofKind: kind.spanKind))
        set(attributes)
    }

    private init(tracer: any Tracer, span: any Span) {
        self.tracer = tracer
        self.span = span
    }

    /// A child span, started now.
    public func child(_ name: String, kind: Kind, attributes: [String: CallTrace.Value] = [:]) -> CallTrace {
        let child = CallTrace(
            tracer: tracer, span: tracer.startSpan(name, context: span.context, ofKind: kind.spanKind))
        child.set(attributes)
        return child
    }

    public enum Value: Sendable {
        case string(String)
        case integer(Int)
        case double(Double)
        case bool(Bool)
    }

    public func set(_ attributes: [String: Value]) {
        guard !attributes.isEmpty else { return }
        span.updateAttributes { span in
            for (key, value) in attributes {
                switch value {
                case .string(let text): span[key] = text
                case .integer(let number): span[key] = number
                case .double(let number): span[key] = number
                case .bool(let flag): span[key] = flag
                }
            }
        }
    }

    /// Marks the span failed, with the error's type and message.
    public func fail(type: String, message: String) {
        span.attributes["error.type"] = type
        span.setStatus(SpanStatus(code: .error, message: message))
    }

    public func end() { span.end() }

    /// The W3C `traceparent` header that makes an outgoing request this span's child.
    public var traceparent: String? {
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: HeaderInjector())
        return headers["traceparent"]
    }

    /// The trace's id, as logs carry it.
    public var traceID: String? {
        guard let parts = traceparent?.split(separator: "-"), parts.count == 4 else { return nil }
        return String(parts[1])
    }
}

extension CallTrace {
    /// The W3C trace context a caller sent (`traceparent`, and `tracestate` with it); empty
    /// (and not allocated) when it sent none.
    public static func headers(traceparent: String?, tracestate: @autoclosure () -> String?) -> [String: String] {
        guard let traceparent, !traceparent.isEmpty else { return [:] }
        var headers = ["traceparent": traceparent]
        if let state = tracestate(), !state.isEmpty { headers["tracestate"] = state }
        return headers
    }
}

extension CallTrace.Kind {
    fileprivate var spanKind: SpanKind {
        switch self {
        case .server: .server
        case .client: .client
        case .local: .internal
        }
    }
}

private struct HeaderExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key.lowercased()] }
}

private struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key.lowercased()] = value
    }
}
