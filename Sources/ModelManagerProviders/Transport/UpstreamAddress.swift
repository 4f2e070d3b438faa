package import ModelManagerCore

/// Where an upstream request goes: the origin its connection is pooled under, and the request
/// target sent on it. Parsed from the adapter's URL once per call, with no Foundation `URL`.
package struct UpstreamAddress: Sendable {
    package struct Origin: Hashable, Sendable {
        package let secure: Bool
        package let host: String
        package let port: Int

        package init(secure: Bool, host: String, port: Int) {
            self.secure = secure
            self.host = host
            self.port = port
        }

        /// The `Host` header: the port only when it is not the scheme's own.
        package var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
        }

        /// TLS names a host, never an address, in its server-name extension.
        package var serverName: String? {
            host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        }
    }

    package let origin: Origin
    /// The path and query, as sent in the request line.
    package let target: String

    /// `http://` or `https://` URLs only; `[v6]` hosts, an optional port; no user info.
    package init(_ url: String) throws(ModelManagerError) {
        let secure: Bool
        let rest: Substring
        if url.hasPrefix("https://") {
            secure = true
            rest = url.dropFirst(8)
        } else if url.hasPrefix("http://") {
            secure = false
            rest = url.dropFirst(7)
        } else {
            throw ModelManagerError(.invalidArgument, "upstream URL '\(url)' is not http or https")
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        guard !authority.isEmpty, !authority.contains("@") else {
            throw ModelManagerError(.invalidArgument, "upstream URL '\(url)' has no host, or has user info")
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ModelManagerError(.invalidArgument, "upstream URL '\(url)' has an unclosed IPv6 address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        var port = secure ? 443 : 80
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw ModelManagerError(.invalidArgument, "upstream URL '\(url)' has an invalid port '\(portText)'")
            }
            port = number
        }
        guard !host.isEmpty else {
            throw ModelManagerError(.invalidArgument, "upstream URL '\(url)' has no host")
        }
        origin = Origin(secure: secure, host: String(host), port: port)
        self.target = target
    }
}
