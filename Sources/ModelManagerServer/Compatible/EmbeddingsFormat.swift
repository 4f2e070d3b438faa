import Foundation
import ModelManagerCore

/// `/v1/embeddings` for models whose API is not OpenAI's: the request as Gemini's
/// `embedContent` parameters, and its vector back as OpenAI's list (floats, or base64 of
/// little-endian float32 when `encoding_format` asks, as the openai SDK does by default).
enum EmbeddingsFormat {
    static func geminiExtra(_ body: [String: JSONValue]) throws(ModelManagerError) -> [String: JSONValue] {
        let input: String
        switch body["input"] {
        case .string(let text): input = text
        case .array(let items) where items.count == 1 && items[0].stringValue != nil: input = items[0].stringValue!
        case .array(let items):
            throw ModelManagerError(
                .invalidArgument,
                "'input' has \(items.count) items; this model's API embeds one text a call: send one string")
        default:
            throw ModelManagerError(
                .invalidArgument, "'input' must be a string, got \(body["input"]?.typeName ?? "nothing")")
        }
        var extra: [String: JSONValue] = ["input": .string(input)]
        if let dimensions = body["dimensions"] { extra["dimensions"] = dimensions }
        for key in ChatRequestTranslation.gatewayKeys { extra[key] = body[key] }
        return extra
    }

    static func list(fromGemini completion: ResponseChunk, model: String, encoding: String?) -> JSONValue {
        let values = (completion.rawResponse?.value?["embedding"]?["values"]?.arrayValue ?? []).compactMap(
            \.doubleValue)
        let embedding: JSONValue =
            encoding == "base64" ? .string(base64(values)) : .array(values.map { .double($0) })
        let prompt = Int64(completion.usage?.promptTokens ?? 0)
        return [
            "object": "list", "model": .string(model),
            "data": [["object": "embedding", "index": 0, "embedding": embedding]],
            "usage": ["prompt_tokens": .integer(prompt), "total_tokens": .integer(prompt)],
        ]
    }

    private static func base64(_ values: [Double]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
