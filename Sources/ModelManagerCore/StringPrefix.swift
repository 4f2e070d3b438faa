extension String {
    /// The longest prefix of whole characters that fits in `bytes` bytes of UTF-8.
    public func prefix(utf8Bytes bytes: Int) -> String {
        guard utf8.count > bytes else { return self }
        var kept = ""
        var used = 0
        for character in self {
            used += character.utf8.count
            guard used <= bytes else { break }
            kept.append(character)
        }
        return kept
    }
}
