import Foundation
public import Logging
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

    /// `2026-11-21T17:07:45.956Z`, built by hand: Foundation's date formatting costs more than
    /// the rest of the log line on the request path.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let fields: [(value: Int, width: Int, after: UInt8)] = [
            (Int(parts.tm_year) + 1900, 4, UInt8(ascii: "-")), (Int(parts.tm_mon) + 1, 2, UInt8(ascii: "-")),
            (Int(parts.tm_mday), 2, UInt8(ascii: "T")), (Int(parts.tm_hour), 2, UInt8(ascii: ":")),
            (Int(parts.tm_min), 2, UInt8(ascii: ":")), (Int(parts.tm_sec), 2, UInt8(ascii: ".")),
            (now.tv_nsec / 1_000_000, 3, UInt8(ascii: "Z")),
        ]
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var position = 0
            for field in fields {
                var value = field.value
                for digit in (0..<field.width).reversed() {
                    buffer[position + digit] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                buffer[position + field.width] = field.after
                position += field.width + 1
            }
            return position
        }
    }

    /// The line is written as bytes in one pass, fixed fields first, then the metadata by key
    /// (the event's over the handler's); a metadata key named like a fixed field is left out.
    public func log(event: LogEvent) {
        var line = JSONOutput(capacity: 512)
        line.append("{\"ts\":")
        line.write(Self.timestamp())
        line.append(",\"level\":")
        line.write(event.level.rawValue)
        line.append(",\"logger\":")
        line.write(label)
        line.append(",\"msg\":")
        line.write(event.message.description)
        let added = event.metadata ?? [:]
        var keys = added.keys.filter { !Self.fixedFields.contains($0) }
        for key in metadata.keys where added[key] == nil && !Self.fixedFields.contains(key) { keys.append(key) }
        keys.sort()
        for key in keys {
            line.append(",")
            line.write(key)
            line.append(":")
            line.write((added[key] ?? metadata[key]!).description)
        }
        line.append("}\n")
        Self.output.withLock { _ in
            line.bytes.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }

    private static let fixedFields: Set<String> = ["ts", "level", "logger", "msg"]
}
