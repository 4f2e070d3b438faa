/// The models each emulated upstream knows; any other model is refused the way the real API refuses it.
public enum ModelCatalog {
    public static let openai: [String: String] = [
        // requested name → the dated snapshot the real API reports back
        "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
        "gpt-4o": "gpt-4o-2024-08-06",
        "gpt-4.1": "gpt-4.1-2025-04-14",
        "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
        "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
        "o3-mini": "o3-mini-2025-01-31",
        "o4-mini": "o4-mini-2025-04-16",
        "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    ]
    public static let deepseek: [String: String] = ["deepseek-chat": "deepseek-chat", "deepseek-reasoner": "deepseek-reasoner"]
    public static let perplexity: [String: String] = ["sonar": "sonar", "sonar-pro": "sonar-pro", "sonar-reasoning": "sonar-reasoning"]

    /// Every OpenAI-compatible model the chat-completions endpoint serves.
    static let chatCompletions = openai.merging(deepseek) { first, _ in first }.merging(perplexity) { first, _ in first }

    /// Models that count reasoning tokens.
    static let reasoning: Set<String> = ["o3-mini", "o4-mini", "deepseek-reasoner", "sonar-reasoning"]
}
