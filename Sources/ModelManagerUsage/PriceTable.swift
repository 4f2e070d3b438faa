import Foundation
public import Logging
public import ModelManagerCore
import Synchronization

/// Prices per model (per million tokens, per image), with built-in defaults for the mission's
/// providers and overrides from a JSON file. An unknown model has no cost (nil, not zero),
/// and is warned about once.
public final class PriceTable: Sendable {
    public struct Price: Sendable, Hashable {
        public var input: Double
        public var output: Double
        public var cachedInput: Double?
        public var perImage: Double?

        public init(input: Double, output: Double, cachedInput: Double? = nil, perImage: Double? = nil) {
            self.input = input
            self.output = output
            self.cachedInput = cachedInput
            self.perImage = perImage
        }
    }

    public let currency: String
    private let prices: [String: Price]
    private let warned = Mutex(Set<String>())
    private let logger: Logger

    /// USD list prices (per 1M tokens) of common models; a price file overrides or extends them.
    public static let defaults: [String: Price] = [
        "gpt-4o-mini": Price(input: 0.15, output: 0.60, cachedInput: 0.075),
        "gpt-4o": Price(input: 2.50, output: 10.00, cachedInput: 1.25),
        "gpt-4.1": Price(input: 2.00, output: 8.00, cachedInput: 0.50),
        "gpt-4.1-mini": Price(input: 0.40, output: 1.60, cachedInput: 0.10),
        "gpt-4.1-nano": Price(input: 0.10, output: 0.40, cachedInput: 0.025),
        "gpt-5": Price(input: 1.25, output: 10.00, cachedInput: 0.125),
        "gpt-5-mini": Price(input: 0.25, output: 2.00, cachedInput: 0.025),
        "o3-mini": Price(input: 1.10, output: 4.40, cachedInput: 0.55),
        "o4-mini": Price(input: 1.10, output: 4.40, cachedInput: 0.275),
        "gpt-3.5-turbo": Price(input: 0.50, output: 1.50),
        "dall-e-2": Price(input: 0, output: 0, perImage: 0.02),
        "dall-e-3": Price(input: 0, output: 0, perImage: 0.04),
        "gpt-image-1": Price(input: 5.00, output: 40.00, cachedInput: 1.25),
        "claude-sonnet-4-5": Price(input: 3.00, output: 15.00, cachedInput: 0.30),
        "claude-sonnet-4": Price(input: 3.00, output: 15.00, cachedInput: 0.30),
        "claude-opus-4-1": Price(input: 15.00, output: 75.00, cachedInput: 1.50),
        "claude-opus-4-5": Price(input: 5.00, output: 25.00, cachedInput: 0.50),
        "claude-haiku-4-5": Price(input: 1.00, output: 5.00, cachedInput: 0.10),
        "claude-3-5-haiku": Price(input: 0.80, output: 4.00, cachedInput: 0.08),
        "gemini-2.0-flash": Price(input: 0.10, output: 0.40, cachedInput: 0.025),
        "gemini-2.0-flash-lite": Price(input: 0.075, output: 0.30),
        "gemini-2.5-flash": Price(input: 0.30, output: 2.50, cachedInput: 0.075),
        "gemini-2.5-pro": Price(input: 1.25, output: 10.00, cachedInput: 0.31),
        "imagen-3.0-generate-002": Price(input: 0, output: 0, perImage: 0.03),
        "imagen-4.0-generate-001": Price(input: 0, output: 0, perImage: 0.04),
        "deepseek-chat": Price(input: 0.27, output: 1.10, cachedInput: 0.07),
        "deepseek-reasoner": Price(input: 0.55, output: 2.19, cachedInput: 0.14),
        "sonar": Price(input: 1.00, output: 1.00),
        "sonar-pro": Price(input: 3.00, output: 15.00),
    ]

    public init(prices: [String: Price] = PriceTable.defaults, currency: String = "USD", logger: Logger) {
        self.prices = prices
        self.currency = currency
        self.logger = logger
    }

    /// The defaults overridden by `{"currency": "USD", "models": {"name": {"input": …, "output": …, "cached_input": …, "per_image": …}}}`.
    public static func load(file path: String, logger: Logger) throws -> PriceTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelManagerError(.failedPrecondition, "cannot read price file '\(path)'")
        }
        let root = try JSONValue(parsing: [UInt8](data))
        var prices = defaults
        for (model, entry) in root["models"]?.objectValue ?? [:] {
            guard let input = entry["input"]?.doubleValue, let output = entry["output"]?.doubleValue else {
                throw ModelManagerError(
                    .failedPrecondition, "price file '\(path)': models.\(model) needs numeric 'input' and 'output'")
            }
            prices[model] = Price(
                input: input, output: output, cachedInput: entry["cached_input"]?.doubleValue,
                perImage: entry["per_image"]?.doubleValue)
        }
        return PriceTable(prices: prices, currency: root["currency"]?.stringValue ?? "USD", logger: logger)
    }

    /// The price of `model`: exact, else that of the model it is a dated snapshot of
    /// (`gpt-4o-mini-2024-07-18`, `claude-haiku-4-5-20251001`, `…-latest`), never a different model.
    public func price(of model: String) -> Price? {
        if let exact = prices[model] { return exact }
        // The longest priced name that the model extends by a date (digits and dashes) or
        // `-latest`: cut at each dash from the right while what follows is such a suffix.
        let utf8 = model.utf8
        var end = utf8.endIndex
        while let dash = utf8[..<end].lastIndex(of: UInt8(ascii: "-")) {
            let suffix = utf8[utf8.index(after: dash)...]
            guard
                suffix.elementsEqual("latest".utf8)
                    || suffix.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) })
            else { return nil }
            if let price = prices[String(model[..<dash])] { return price }
            end = dash
        }
        return nil
    }

    /// The cost of `usage` on `model`, or nil (and one warning per model) when no price is known.
    public func cost(of usage: Usage, model: String) -> Double? {
        guard let price = price(of: model) else {
            let first = warned.withLock { $0.insert(model).inserted }
            if first {
                logger.warning(
                    "no price known for model; its cost is recorded as null", metadata: ["model": "\(model)"])
            }
            return nil
        }
        let cached = Double(usage.cachedTokens ?? 0)
        let uncached = Double(usage.promptTokens) - cached
        var cost =
            uncached * price.input + cached * (price.cachedInput ?? price.input) + Double(usage.completionTokens)
            * price.output
        cost /= 1_000_000
        if let perImage = price.perImage { cost += Double(usage.imageCount ?? 0) * perImage }
        return (cost * 1e10).rounded() / 1e10
    }
}
