import ModelManagerCore

/// The emulator's answers: the same request always gets the same text and token counts,
/// so tests can assert exact values.
struct DeterministicAnswer {
    private(set) var words: [String]
    let promptTokens: Int
    let reasoningTokens: Int
    let cachedTokens: Int
    private(set) var finishReason: String
    private var toolCallTokens = 0

    var text: String { words.joined() }
    var completionTokens: Int { words.count + reasoningTokens + toolCallTokens }

    /// The same answer when it is a tool call instead of text (`finishReason` in OpenAI's words).
    func callingTool() -> DeterministicAnswer {
        var answer = self
        answer.words = []
        answer.toolCallTokens = EmulatedToolCall.completionTokens
        answer.finishReason = "tool_calls"
        return answer
    }

    /// Roughly what a tokenizer counts: one token per four characters, at least one per message.
    static func tokenCount(_ text: String) -> Int { max(1, (text.unicodeScalars.count + 3) / 4) }

    init(prompt: String, messageCount: Int, maxTokens: Int?, reasoning: Bool) {
        promptTokens = Self.tokenCount(prompt) + 3 * messageCount
        cachedTokens = promptTokens >= 1024 ? (promptTokens / 1024) * 1024 : 0
        reasoningTokens = reasoning ? 16 : 0
        let echoed = prompt.split(whereSeparator: \.isWhitespace).suffix(12).joined(separator: " ")
        let full = "Echo: \(echoed.isEmpty ? "(empty)" : echoed)"
        // Tokens are words with their leading space, as streamed deltas usually are.
        var pieces: [String] = []
        for (index, word) in full.split(separator: " ").enumerated() {
            pieces.append(index == 0 ? String(word) : " " + word)
        }
        let budget = maxTokens.map { max(0, $0 - (reasoning ? 16 : 0)) } ?? Int.max
        if pieces.count > budget {
            words = Array(pieces.prefix(budget))
            finishReason = "length"
        } else {
            words = pieces
            finishReason = "stop"
        }
    }
}

extension JSONValue {
    /// The text of a chat message's `content`: a string, or the text parts of a part list.
    var chatText: String {
        switch self {
        case .string(let text): return text
        case .array(let parts): return parts.compactMap { $0["text"]?.stringValue }.joined(separator: " ")
        default: return ""
        }
    }
}
