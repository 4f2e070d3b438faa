import Foundation

/// The emulator's deterministic embeddings: a text's content words (lowercased, without
/// punctuation, stop words or a plural or verb ending) hashed into signed dimensions and
/// normalised. Rewordings that keep the content words (order, case, punctuation, "what's" for
/// "what is", plurals) get the same vector (cosine 1); texts about other things are near
/// orthogonal. Enough for a cache's paraphrase test; nothing like a real model's geometry.
enum SemanticVector {
    static let stopWords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "what", "whats", "which", "who", "how", "of", "in", "on",
        "to", "for", "and", "or", "me", "tell", "please", "can", "you", "i", "my", "it", "its", "do", "does", "s",
        "about", "give", "would", "could", "with", "this", "that",
    ]

    static func embed(_ text: String, dimensions: Int) -> [Double] {
        var vector = [Double](repeating: 0, count: dimensions)
        for word in contentWords(text) {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in word.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            // Each word lands in three dimensions, with a sign each, so collisions blur little.
            for round in 0..<3 {
                let mixed = hash &* UInt64(2 * round + 1) ^ (hash >> 29)
                vector[Int(mixed % UInt64(dimensions))] += (mixed >> 63) == 0 ? 1 : -1
            }
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    static func contentWords(_ text: String) -> [String] {
        let words = text.lowercased().replacingOccurrences(of: "'", with: "").split { !$0.isLetter && !$0.isNumber }
        return words.map(String.init).filter { !stopWords.contains($0) }.map(stem)
    }

    private static func stem(_ word: String) -> String {
        for suffix in ["ing", "ies", "es", "ed", "s"] where word.count > suffix.count + 2 && word.hasSuffix(suffix) {
            return String(word.dropLast(suffix.count)) + (suffix == "ies" ? "y" : "")
        }
        return word
    }
}
