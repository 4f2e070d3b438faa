import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP connection to a loopback port, for requests no HTTP client would send (half-sent
/// headers, a client that leaves mid-stream).
public final class LoopbackSocket: @unchecked Sendable {
    private var descriptor: Int32
    private var received: [UInt8] = []

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close() }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw Failure(description: "send failed: errno \(errno)") }
    }

    /// Reads until the peer closes; true when it did within `limit`.
    public func waitForClose(within limit: Duration) -> Bool {
        readUntil(within: limit) { _ in false } == .closed
    }

    /// Reads until what arrived contains `text`; true when it did within `limit`.
    public func waitForData(containing text: String, within limit: Duration) -> Bool {
        readUntil(within: limit) { String(decoding: $0, as: UTF8.self).contains(text) } == .matched
    }

    public func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    private enum ReadOutcome { case matched, closed, timedOut }

    private func readUntil(within limit: Duration, _ done: ([UInt8]) -> Bool) -> ReadOutcome {
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return .closed }
            received += buffer[..<count]
            if done(received) { return .matched }
        }
        return .timedOut
    }
}
