public import ModelManagerCore
public import ModelManagerUsage

/// Posts each quota alert, signed (`SignedPost`), to a configured URL. The outbox relay retries
/// with backoff what is worth retrying, and sets an event aside after three other refusals.
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
    private let url: String
    private let post: SignedPost

    public init(settings: Settings) {
        url = settings.url
        post = SignedPost(secret: settings.secret, timeout: settings.timeout)
    }

    public func publish(recordID: String, subject: String, payload: String) async throws {
        do {
            try await post.send(to: url, eventID: recordID, subject: subject, body: payload)
        } catch {
            throw PublishError("the alert webhook at \(error.description)", permanent: error.isPermanent)
        }
    }

    public func close() async {}
}
