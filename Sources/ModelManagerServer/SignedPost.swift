import AsyncHTTPClient
import Foundation
import ModelManagerAuth
import ModelManagerCore
import ModelManagerUsage
import NIOCore

/// A JSON POST signed so the receiver can tell it came from this gateway: the quota-alert
/// webhook and task callbacks. `X-Model-Manager-Signature: sha256=<hex HMAC-SHA256 of the
/// body>` under the shared secret (the body carries its own time, so a receiver can refuse an
/// old one), and `X-Model-Manager-Event-Id` (the same on every retry) to drop repeats. A 2xx answer acknowledges; a timeout, a refused
/// connection, 408, 425, 429 and 5xx are worth retrying (`PublishError.isPermanent` false),
/// other answers are not.
struct SignedPost: Sendable {
    let secret: Secret
    let timeout: Duration
    /// The receiver's answer is read up to this much, for the log.
    static let maximumAnswerBytes = 4096

    func send(to url: String, eventID: String, subject: String?, body: String) async throws(PublishError) {
        let host = Self.host(of: url)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "model-manager")
        request.headers.add(name: "X-Model-Manager-Event-Id", value: eventID)
        if let subject { request.headers.add(name: "X-Model-Manager-Event-Subject", value: subject) }
        request.headers.add(name: "X-Model-Manager-Signature", value: "sha256=" + KeyedHash.hex(body, key: secret))
        request.body = .bytes(ByteBuffer(string: body))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeout.wholeMilliseconds))
        } catch {
            throw PublishError("\(host) did not answer: \(error)")
        }
        let answer = (try? await response.body.collect(upTo: Self.maximumAnswerBytes)) ?? ByteBuffer()
        let status = Int(response.status.code)
        guard !(200..<300).contains(status) else { return }
        let retryable = status == 408 || status == 425 || status == 429 || status >= 500
        throw PublishError("\(host) answered \(status): \(String(buffer: answer).prefix(200))", permanent: !retryable)
    }

    /// A URL's host, for messages: the whole URL may hold a secret path (as chat webhooks do).
    static func host(of url: String) -> String { URLComponents(string: url)?.host ?? "(no host)" }
}
