import Foundation
import Hummingbird
import ModelManagerCore

/// OpenAI's Embeddings API (`POST /v1/embeddings`), with the deterministic vectors of
/// `SemanticVector`: `input` a string or an array of strings, `dimensions` for the
/// text-embedding-3 models, `encoding_format` `float` or `base64` (little-endian float32, what
/// the official SDK asks for by default).
extension OpenAIEmulator {
    func embeddings(_ request: Request, host: Host) async throws -> Response {
        try await serve(request, host: host) { parameters, style, input in
            guard let model = model(parameters, host: host) else {
                return style.response(400, "you must provide a model parameter")
            }
            let texts: [String]
            switch parameters["input"] {
            case .string(let text)?: texts = [text]
            case .array(let items)? where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }):
                texts = items.compactMap(\.stringValue)
            default:
                return style.response(
                    400, "'input' must be a non-empty string or array of strings.", param: "input", code: "invalid_type"
                )
            }
            guard texts.allSatisfy({ !$0.isEmpty }) else {
                return style.response(400, "'$.input' is invalid. Please check the API reference.", param: "input")
            }
            guard let native = ModelCatalog.openaiEmbeddings[model] else {
                return Self.unknownModel(model, style: style)
            }
            if let failure = Self.integerCheck(parameters, ["dimensions"], style: style) { return failure }
            var dimensions = native
            if let asked = parameters["dimensions"]?.integerValue {
                guard model != "text-embedding-ada-002", (1...native).contains(Int(asked)) else {
                    return style.response(
                        400, "This model does not support specifying dimensions.", param: "dimensions",
                        code: "invalid_value")
                }
                dimensions = Int(asked)
            }
            let format = parameters["encoding_format"]?.stringValue ?? "float"
            guard format == "float" || format == "base64" else {
                return style.response(
                    400, "Invalid value for 'encoding_format' = \(format).", param: "encoding_format",
                    code: "invalid_value"
                )
            }
            let tokens = texts.reduce(0) { $0 + DeterministicAnswer.tokenCount($1) }
            let data: [JSONValue] = texts.enumerated().map { index, text in
                let vector = SemanticVector.embed(text, dimensions: dimensions)
                let embedding: JSONValue =
                    format == "base64"
                    ? .string(
                        Data(
                            vector.flatMap { value in
                                withUnsafeBytes(of: Float(value).bitPattern.littleEndian, Array.init)
                            }
                        ).base64EncodedString())
                    : .array(vector.map { .double($0) })
                return ["object": "embedding", "index": .integer(Int64(index)), "embedding": embedding]
            }
            return EmulatorHTTP.json(
                200,
                [
                    "object": "list", "data": .array(data), "model": .string(model),
                    "usage": ["prompt_tokens": .integer(Int64(tokens)), "total_tokens": .integer(Int64(tokens))],
                ])
        }
    }
}
