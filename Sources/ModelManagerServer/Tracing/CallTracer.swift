import Logging
import ModelManagerCore
import OTel
import ServiceLifecycle
import Tracing

/// `tracing`: OpenTelemetry traces exported over OTLP/HTTP, off unless enabled.
public struct TracingSettings: Sendable, Hashable {
    public enum Encoding: String, Sendable { case protobuf, json }

    public var enabled = false
    /// The collector's traces URL.
    public var endpoint = "http://127.0.0.1:4318/v1/traces"
    public var encoding = Encoding.protobuf
    public var serviceName = "model-manager"
    /// The share of new traces kept (a caller's sampled trace is always followed).
    public var sampleRatio = 1.0
    /// How long finished spans wait before they are sent in a batch.
    public var exportDelay: Duration = .seconds(5)
    /// Finished spans held for export at most; past it, new ones are dropped (and the exporter
    /// logs how many), so a slow collector cannot grow the gateway's memory.
    public var maximumQueuedSpans = 16384

    public init() {}
}

/// Starts each call's span (GenAI semantic conventions) on the OTLP tracer, and finishes it
/// with what the answer reports. Its exporter runs as a Service beside the faces.
final class CallTracer: Sendable {
    private let tracer: any Tracer
    let service: any Service

    init(settings: TracingSettings, logger: Logger) throws {
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = settings.endpoint
        configuration.traces.otlpExporter.protocol = settings.encoding == .json ? .httpJSON : .httpProtobuf
        configuration.traces.sampler = .parentBasedTraceIDRatio(ratio: settings.sampleRatio) ?? .parentBasedAlwaysOn
        configuration.traces.batchSpanProcessor.scheduleDelay = settings.exportDelay
        configuration.traces.batchSpanProcessor.maxQueueSize = settings.maximumQueuedSpans
        configuration.traces.batchSpanProcessor.maxExportBatchSize = min(4096, settings.maximumQueuedSpans)
        let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
        self.tracer = tracer
        self.service = service
    }

    /// The call's span, a child of the caller's trace when it sent one.
    func start(_ request: ModelRequest, context: InvocationContext) -> CallTrace {
        let operation = Self.operation(request.invokeType)
        let model = request.model ?? ""
        var attributes: [String: CallTrace.Value] = [
            "gen_ai.operation.name": .string(operation), "gen_ai.system": .string(Self.system(request.provider)),
            "gen_ai.request.model": .string(model), "model_manager.face": .string(context.face.rawValue),
            "model_manager.request_id": .string(context.requestID), "model_manager.org_id": .string(request.orgID),
            "model_manager.stream": .bool(request.stream),
        ]
        let maximum = ["max_tokens", "max_completion_tokens", "max_output_tokens"].lazy.compactMap {
            request.extra[$0]?.integerValue
        }.first
        if let maximum { attributes["gen_ai.request.max_tokens"] = .integer(Int(maximum)) }
        if let temperature = request.extra["temperature"]?.doubleValue {
            attributes["gen_ai.request.temperature"] = .double(temperature)
        }
        if let topP = request.extra["top_p"]?.doubleValue { attributes["gen_ai.request.top_p"] = .double(topP) }
        return CallTrace(
            tracer: tracer, name: model.isEmpty ? operation : "\(operation) \(model)", kind: .server,
            parentHeaders: context.traceHeaders, attributes: attributes)
    }

    static func finish(_ trace: CallTrace, _ outcome: Result<ResponseChunk, ModelManagerError>) {
        switch outcome {
        case .success(let final):
            var attributes: [String: CallTrace.Value] = [:]
            if let usage = final.usage {
                attributes["gen_ai.usage.input_tokens"] = .integer(usage.promptTokens)
                attributes["gen_ai.usage.output_tokens"] = .integer(usage.completionTokens)
            }
            if let served = final.servedBy {
                attributes["gen_ai.response.model"] = .string(served.model)
                attributes["model_manager.served_by"] = .string(served.provider.rawValue)
            }
            if let hit = final.cacheHit { attributes["model_manager.cache_hit"] = .string(hit) }
            if let cost = final.cost { attributes["model_manager.cost"] = .double(cost) }
            trace.set(attributes)
        case .failure(let error):
            trace.fail(type: error.code.identifier, message: error.message)
        }
        trace.end()
    }

    /// `gen_ai.operation.name`.
    static func operation(_ invokeType: InvokeType) -> String {
        switch invokeType {
        case .embeddings: "embeddings"
        case .imageGeneration, .imageGenerationGenAI: "generate_image"
        case .generation: "generate_content"
        default: "chat"
        }
    }

    /// `gen_ai.system`, as the semantic conventions name the providers.
    static func system(_ provider: Provider) -> String {
        switch provider {
        case .google: "gcp.gemini"
        case .azure: "az.ai.openai"
        default: provider.rawValue
        }
    }
}
