import Foundation
import Hummingbird
import ModelManagerCore

/// Gemini's `embedContent` and `batchEmbedContents` (AI Studio), with the deterministic vectors
/// of `SemanticVector`; `outputDimensionality` shortens them.
extension GeminiEmulator {
    func embed(model: String, parameters: [String: JSONValue], batch: Bool) -> Response {
        guard let native = ModelCatalog.geminiEmbeddings[model] else {
            return style.response(
                404, "models/\(model) is not found for API version v1beta, or is not supported for embedContent.")
        }
        let requests = batch ? parameters["requests"]?.arrayValue ?? [] : [.object(parameters)]
        guard !requests.isEmpty else {
            return style.response(400, "* BatchEmbedContentsRequest.requests: requests is not specified\n")
        }
        var embeddings: [JSONValue] = []
        for request in requests {
            let text = (request["content"]?["parts"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
                .joined(separator: "\n")
            guard !text.isEmpty else {
                return style.response(400, "* EmbedContentRequest.content: contents is not specified\n")
            }
            let asked = (request["outputDimensionality"] ?? request["output_dimensionality"])?.integerValue
            let dimensions = asked.map { Int($0) } ?? native
            guard (1...native).contains(dimensions) else {
                return style.response(400, "Invalid value at 'output_dimensionality' (TYPE_INT32), \(dimensions)")
            }
            embeddings.append(["values": .array(SemanticVector.embed(text, dimensions: dimensions).map { .double($0) })]
            )
        }
        return EmulatorHTTP.json(200, batch ? ["embeddings": .array(embeddings)] : ["embedding": embeddings[0]])
    }
}
