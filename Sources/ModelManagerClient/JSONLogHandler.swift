public import Logging
import Foundation
import ModelManagerCore
import Synchronization

/// One JSON object per line on standard error: time, level, label, message, metadata.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private static let output = Mutex(())

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: JSONValue] = [
            "ts": .string(Date().formatted(.iso8601.time(includingFractionalSeconds: true).year().month().day())),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "msg": .string("\(event.message)"),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = .string("\(value)")
        }
        let line = JSONValue.object(object).jsonText + "\n"
        Self.output.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }
}
