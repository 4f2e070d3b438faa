import AsyncHTTPClient
package import ModelManagerCore
import NIOCore
import NIOPosix
import NIOSSL

/// The one place where an upstream's failure becomes our error code (PROTOCOL.md §6):
/// permanent request errors are never transient, credentials are never echoed.
package enum UpstreamFailure {
    /// An HTTP error answer from `provider`, with the message the upstream gave.
    package static func fromHTTP(
        status: Int, body: JSONValue?, rawBody: String, provider: Provider, retryAfter: String?, subject: String? = nil
    ) -> ModelManagerError {
        let detail = message(in: body) ?? (rawBody.isEmpty ? "HTTP \(status)" : String(rawBody.prefix(500)))
        let upstreamMessage = subject.map { "\($0): \(detail)" } ?? detail
        // A Retry-After of `inf`, a negative or an absurd number is no advice: bounded to an hour.
        let retryAfterSeconds = retryAfter.flatMap(Double.init).flatMap { $0.isFinite && $0 >= 0 ? min($0, 3600) : nil }
        if status == 400, rejectsKey(body) {
            // Google answers a bad API key with 400 INVALID_ARGUMENT: it is still our key.
            return keyRejected(provider: provider, status: status)
        }
        switch status {
        case 400, 404, 409, 413, 415, 422:
            return ModelManagerError(
                .invalidArgument, "\(provider) rejected the request (HTTP \(status)): \(upstreamMessage)")
        case 401:
            return keyRejected(provider: provider, status: status)
        case 403:
            return ModelManagerError(
                .permissionDenied, "\(provider) refused the request (HTTP 403): \(upstreamMessage)")
        case 429:
            return ModelManagerError(
                .resourceExhausted, "\(provider) rate limit (HTTP 429): \(upstreamMessage)",
                retryAfterSeconds: retryAfterSeconds)
        case 408, 500...599:
            return ModelManagerError(
                .unavailable, "\(provider) is unavailable (HTTP \(status)): \(upstreamMessage)",
                retryAfterSeconds: retryAfterSeconds)
        default:
            return ModelManagerError(.internalError, "\(provider) answered HTTP \(status): \(upstreamMessage)")
        }
    }

    /// A transport failure talking to `provider`.
    package static func fromTransport(_ error: any Error, provider: Provider, deadlinePassed: Bool) -> ModelManagerError
    {
        if let error = error as? ModelManagerError { return error }
        if error is CancellationError {
            return ModelManagerError(.cancelled, "the call was cancelled")
        }
        if deadlinePassed {
            return ModelManagerError(
                .deadlineExceeded, "\(provider) did not answer within the call's deadline", cause: error)
        }
        if let error = error as? UpstreamTransportError {
            switch error {
            case .timedOut: return ModelManagerError(.unavailable, "\(provider) timed out", cause: error)
            case .closedBeforeAnswer:
                return ModelManagerError(
                    .unavailable, "\(provider) closed the connection before answering", cause: error)
            case .tooManyConnections:
                return ModelManagerError(.unavailable, "cannot reach \(provider): \(error)", cause: error)
            }
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .cancelled: return ModelManagerError(.cancelled, "the call was cancelled")
            case .deadlineExceeded, .readTimeout, .connectTimeout:
                return ModelManagerError(.unavailable, "\(provider) timed out", cause: error)
            case .remoteConnectionClosed:
                return ModelManagerError(
                    .unavailable, "\(provider) closed the connection before answering", cause: error)
            default: break
            }
        }
        if error is NIOSSLError || error is NIOSSLExtraError {
            // An untrusted or mismatched certificate: `upstream_tls.ca_file` may be what is missing.
            return ModelManagerError(.unavailable, "cannot reach \(provider): TLS failed (\(error))", cause: error)
        }
        if error is NIOConnectionError || error is IOError || error is ChannelError {
            return ModelManagerError(.unavailable, "cannot reach \(provider): connection failed", cause: error)
        }
        return ModelManagerError(.unavailable, "\(provider) request failed: \(type(of: error))", cause: error)
    }

    /// The upstream's message may quote part of our key: it is never passed on.
    private static func keyRejected(provider: Provider, status: Int) -> ModelManagerError {
        ModelManagerError(
            .failedPrecondition,
            "\(provider) rejected the gateway's credentials (HTTP \(status)); the server's \(provider) API key needs attention"
        )
    }

    private static func rejectsKey(_ body: JSONValue?) -> Bool {
        guard let error = body?["error"] else { return false }
        let reasons = (error["details"]?.arrayValue ?? []).compactMap { $0["reason"]?.stringValue }
        return reasons.contains("API_KEY_INVALID")
            || (error["message"]?.stringValue ?? "").hasPrefix("API key not valid")
    }

    /// OpenAI, Anthropic and Google all put a `message` inside `error`.
    private static func message(in body: JSONValue?) -> String? {
        guard let body else { return nil }
        if let message = body["error"]?["message"]?.stringValue { return message }
        if let message = body["error"]?.stringValue { return message }
        return body["message"]?.stringValue
    }
}
