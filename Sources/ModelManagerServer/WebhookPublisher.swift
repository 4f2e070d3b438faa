import AsyncHTTPClient
public import Foundation
import ModelManagerAuth
public import ModelManagerCore
public import ModelManagerUsage
import NIOCore

/// Posts each alert to a configured URL, signed so the receiver can tell it came from this
/// gateway: `X-Model-Manager-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
/// under the shared secret, and `X-Model-Manager-Event-Id` (the alert's id, the same on every
/// retry) to drop repeats. A 2xx answer is the acknowledgement; the outbox relay retries with
/// backoff after a timeout, a refused connection, 408, 425, 429 or 5xx, and sets an event aside
/// after three other refusals.
public final class WebhookPublisher: BillingPublisher {
    public struct Settings: Sendable {
        public var url: String
        public var secret: Secret
        public var timeout: Duration = .seconds(10)

        public init(url: String, secret: Secret) {
            self.url = url
            self.secret = secret
        }
    }

    public let sink = "webhook"
    private let settings: Settings
    /// The receiver's answer is read up to this much, for the log.
    static let maximumAnswerBytes = 4096

    /// The URL's host, for messages: the whole URL may hold a secret path (as chat webhooks do).
    private let host: String
    private let timeout: TimeAmount

    public init(settings: Settings) {
        self.settings = settings
        host = URLComponents(string: settings.url)?.host ?? "(no host)"
        let (seconds, attoseconds) = settings.timeout.components
        timeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    public func publish(recordID: String, subject: String, payload: String) async throws {
        let timestamp = String(Int64(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "model-manager")
        request.headers.add(name: "X-Model-Manager-Event-Id", value: recordID)
        request.headers.add(name: "X-Model-Manager-Event-Subject", value: subject)
        request.headers.add(
            name: "X-Model-Manager-Signature",
            value: "t=\(timestamp),v1=\(KeyedHash.hex(timestamp + "." + payload, key: settings.secret))")
        request.body = .bytes(ByteBuffer(string: payload))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch {
            throw PublishError("the alert webhook at \(host) did not answer: \(error)")
        }
        let answer = (try? await response.body.collect(upTo: Self.maximumAnswerBytes)) ?? ByteBuffer()
        let status = Int(response.status.code)
        guard !(200..<300).contains(status) else { return }
        let retryable = status == 408 || status == 425 || status == 429 || status >= 500
        throw PublishError(
            "the alert webhook at \(host) answered \(status): \(String(buffer: answer).prefix(200))",
            permanent: !retryable)
    }

    public func close() async {}
}
