import Foundation
import ModelManagerCore

/// Usage records that could not be committed before shutdown, one JSON object a line, so
/// that the next start commits them: nothing acknowledged is lost with a stalled database.
struct SpillFile {
    let path: String

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    func append(_ records: [UsageRecord]) throws {
        var text = ""
        for record in records {
            guard case .object(var object) = record.json else { continue }
            object["created_at_ms"] = .integer(UsageFilter.milliseconds(record.createdAt))
            text += JSONValue.object(object).jsonText + "\n"
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw Unreadable(description: "cannot create spill file '\(path)'")
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
    }

    func read() throws -> [UsageRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var records: [UsageRecord] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            guard let json = try? JSONValue(parsing: Array(line)), let record = UsageRecord(spilled: json) else {
                throw Unreadable(description: "spill file '\(path)' line \(index + 1) is not a usage record")
            }
            records.append(record)
        }
        return records
    }

    func remove() throws {
        try FileManager.default.removeItem(atPath: path)
    }
}

extension UsageRecord {
    /// A record from its spilled JSON (`json` plus `created_at_ms`).
    init?(spilled json: JSONValue) {
        guard let id = json["id"]?.stringValue, let requestID = json["request_id"]?.stringValue,
            let createdAt = json["created_at_ms"]?.integerValue
        else { return nil }
        func text(_ key: String) -> String { json[key]?.stringValue ?? "" }
        func count(_ key: String) -> Int { json[key]?.tokenCount ?? 0 }
        self.init(
            id: id, requestID: requestID, originRequestID: json["origin_request_id"]?.stringValue,
            orgID: text("org_id"),
            userID: text("user_id"), clientType: text("client_type"), provider: text("provider"),
            channel: text("channel"),
            invokeType: text("invoke_type"), model: text("model"),
            usage: Usage(
                promptTokens: count("prompt_tokens"), completionTokens: count("completion_tokens"),
                totalTokens: count("total_tokens"),
                cachedTokens: count("cached_tokens"), reasoningTokens: count("reasoning_tokens"),
                imageCount: count("image_count")),
            cost: json["cost"]?.doubleValue, currency: json["currency"]?.stringValue ?? "USD",
            latencyMilliseconds: Int(clamping: json["latency_ms"]?.integerValue ?? 0),
            timeToFirstTokenMilliseconds: json["ttft_ms"]?.integerValue.map { Int(clamping: $0) },
            stream: json["stream"]?.boolValue ?? false,
            success: json["success"]?.boolValue ?? false, error: json["error"]?.stringValue,
            metadata: json["metadata"]?.objectValue ?? [:],
            tokenSubject: json["token_subject"]?.stringValue,
            createdAt: Date(timeIntervalSince1970: Double(createdAt) / 1000))
        cacheHit = json["cache_hit"]?.stringValue
        savedCost = json["saved_cost"]?.doubleValue
    }
}
