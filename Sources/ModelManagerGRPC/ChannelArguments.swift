internal import CGRPC
import Foundation

/// Channel arguments for a server or a client channel, set explicitly rather than
/// left to libgrpc's defaults (which, for instance, turn SO_REUSEPORT on).
public struct ChannelArguments: Sendable {
    public enum Value: Sendable {
        case integer(Int32)
        case string(String)
    }

    public private(set) var entries: [(key: String, value: Value)] = []

    public init() {}

    public mutating func set(_ key: String, _ value: Value) {
        entries.removeAll { $0.key == key }
        entries.append((key, value))
    }

    public mutating func set(_ key: String, _ value: Int) {
        set(key, .integer(Int32(clamping: value)))
    }

    /// Calls `body` with a C view of the arguments; libgrpc copies what it keeps.
    func withUnsafeChannelArgs<Result>(_ body: (UnsafePointer<grpc_channel_args>) -> Result) -> Result {
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { strings.forEach { free($0) } }
        var args: [grpc_arg] = entries.map { entry in
            var arg = grpc_arg()
            let key = strdup(entry.key)!
            strings.append(key)
            arg.key = key
            switch entry.value {
            case .integer(let value):
                arg.type = GRPC_ARG_INTEGER
                arg.value.integer = value
            case .string(let value):
                let string = strdup(value)!
                strings.append(string)
                arg.type = GRPC_ARG_STRING
                arg.value.string = string
            }
            return arg
        }
        return args.withUnsafeMutableBufferPointer { buffer in
            var channelArgs = grpc_channel_args(num_args: buffer.count, args: buffer.baseAddress)
            return body(&channelArgs)
        }
    }
}
