import Foundation
import ModelManagerCore

/// Which task callback URLs the server posts to: http or https with a host, and unless
/// configured otherwise never a loopback, private, link-local or otherwise internal address
/// (so that a caller cannot make the gateway reach its own network). A name is checked on what
/// it resolves to when the callback is sent.
struct CallbackURLPolicy: Sendable {
    var allowsPrivateAddresses: Bool

    /// INVALID_ARGUMENT naming the URL's fault, checked when the task is created.
    func check(_ url: String) throws(ModelManagerError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else {
            throw ModelManagerError(
                .invalidArgument,
                "callback_url must be an http:// or https:// URL with a host, got '\(url.prefix(200))'")
        }
        guard !allowsPrivateAddresses else { return }
        if host.lowercased() == "localhost" || host.lowercased().hasSuffix(".localhost")
            || Self.isInternal(literal: host)
        {
            throw ModelManagerError(
                .invalidArgument,
                "callback_url host '\(host)' is a loopback or private address, which this server does not call back (tasks.callback_allow_private)"
            )
        }
    }

    /// The addresses `host` resolves to, when one of them is internal: the callback is refused.
    func internalAddress(of host: String) async -> String? {
        guard !allowsPrivateAddresses else { return nil }
        let addresses = await Task.detached { Self.resolve(host) }.value
        return addresses.first(where: Self.isInternal(literal:))
    }

    static func isInternal(literal host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 {
            let octets = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            let (a, b) = (octets[0], octets[1])
            return a == 0 || a == 10 || a == 127 || (a == 100 && b >= 64 && b < 128) || (a == 169 && b == 254)
                || (a == 172 && b >= 16 && b < 32) || (a == 192 && b == 168) || a >= 224
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            let isUnspecifiedOrLoopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] <= 1
            let mappedV4 = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            if mappedV4 { return isInternal(literal: bytes[12..<16].map(String.init).joined(separator: ".")) }
            return isUnspecifiedOrLoopback || (bytes[0] & 0xFE) == 0xFC
                || (bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80)
                || bytes[0] == 0xFF
        }
        return false
    }

    private static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                addresses.append(String(cString: buffer))
            }
            next = entry.pointee.ai_next
        }
        return addresses
    }
}
