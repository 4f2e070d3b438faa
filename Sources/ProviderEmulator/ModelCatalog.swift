/// The models each emulated upstream knows; any other model is refused the way the real API refuses it.
public enum ModelCatalog {
    /// OpenAI chat and responses models: requested name → the dated snapshot the API reports back.
    public static let openai: [String: String] = [
        "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
        "gpt-4o": "gpt-4o-2024-08-06",
        "gpt-4.1": "gpt-4.1-2025-04-14",
        "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
        "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
        "gpt-5": "gpt-5-2025-08-07",
        "gpt-5-mini": "gpt-5-mini-2025-08-07",
        "o3-mini": "o3-mini-2025-01-31",
        "o4-mini": "o4-mini-2025-04-16",
        "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    ]
    public static let openaiImages: Set<String> = ["dall-e-2", "dall-e-3", "gpt-image-1"]
    /// Embedding models and their native dimensions.
    public static let openaiEmbeddings: [String: Int] = [
        "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536,
    ]
    public static let deepseek: [String: String] = [
        "deepseek-chat": "deepseek-chat", "deepseek-reasoner": "deepseek-reasoner",
    ]
    public static let perplexity: [String: String] = [
        "sonar": "sonar", "sonar-pro": "sonar-pro", "sonar-reasoning": "sonar-reasoning",
    ]
    public static let anthropic: [String: String] = [
        "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5-20250929": "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5": "claude-haiku-4-5-20251001",
        "claude-haiku-4-5-20251001": "claude-haiku-4-5-20251001",
        "claude-opus-4-5": "claude-opus-4-5-20251101",
        "claude-opus-4-5-20251101": "claude-opus-4-5-20251101",
        "claude-sonnet-4-6": "claude-sonnet-4-6",
        "claude-opus-4-6": "claude-opus-4-6",
        "claude-sonnet-5": "claude-sonnet-5",
        "claude-opus-5": "claude-opus-5",
        "claude-sonnet-4-20250514": "claude-sonnet-4-20250514",
        "claude-sonnet-4-0": "claude-sonnet-4-20250514",
        "claude-opus-4-1-20250805": "claude-opus-4-1-20250805",
        "claude-3-7-sonnet-20250219": "claude-3-7-sonnet-20250219",
        "claude-3-5-haiku-20241022": "claude-3-5-haiku-20241022",
        "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022",
    ]
    public static let gemini: Set<String> = [
        "gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro", "gemini-1.5-pro",
        "gemini-1.5-flash",
    ]
    /// Gemini embedding models and their native dimensions.
    public static let geminiEmbeddings: [String: Int] = ["gemini-embedding-001": 3072, "text-embedding-004": 768]
    public static let imagen: Set<String> = [
        "imagen-3.0-generate-002", "imagen-4.0-generate-001", "imagen-4.0-fast-generate-001",
    ]

    /// Every model the OpenAI-compatible chat endpoint serves.
    static let chatCompletions = openai.merging(deepseek) { first, _ in first }.merging(perplexity) { first, _ in first
    }

    /// Models that count reasoning (thinking) tokens.
    static let reasoning: Set<String> = [
        "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "deepseek-reasoner", "sonar-reasoning", "gemini-2.5-pro",
        "gemini-2.5-flash",
    ]
}
