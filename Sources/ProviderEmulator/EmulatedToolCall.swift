import ModelManagerCore

/// The emulator's tool use: offered tools and a conversation that has no tool result yet, it
/// calls one tool (the one the caller forces, else the first), with an argument of each declared
/// property (strings echo the prompt's last word), so tests can assert exact values.
struct EmulatedToolCall {
    let name: String
    let arguments: JSONValue
    let id: String

    /// `tools` as (name, JSON schema) pairs in the order offered.
    init?(tools: [(name: String, schema: JSONValue?)], forced: String?, disabled: Bool, answered: Bool, prompt: String)
    {
        guard !disabled, !answered, let tool = tools.first(where: { forced == nil || $0.name == forced }) else {
            return nil
        }
        name = tool.name
        let word = prompt.split(whereSeparator: \.isWhitespace).last.map(String.init) ?? ""
        var arguments: [String: JSONValue] = [:]
        for (property, schema) in tool.schema?["properties"]?.objectValue ?? [:] {
            switch schema["type"]?.stringValue {
            case "integer", "number": arguments[property] = 1
            case "boolean": arguments[property] = true
            case "array": arguments[property] = []
            case "object": arguments[property] = [:]
            default: arguments[property] = .string(word)
            }
        }
        self.arguments = .object(arguments)
        id = EmulatorHTTP.identifier(for: prompt + name)
    }

    /// The arguments' JSON text in two pieces, as streams send them.
    var argumentPieces: [String] {
        let text = arguments.jsonText
        let middle = text.index(text.startIndex, offsetBy: text.count / 2)
        return [String(text[..<middle]), String(text[middle...])]
    }

    /// What a call costs in the emulator's counting.
    static let completionTokens = 12
}
