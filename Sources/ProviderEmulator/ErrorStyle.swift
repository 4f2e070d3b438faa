import HTTPTypes
import Hummingbird
import ModelManagerCore

/// Each upstream's error body, for validation failures and injected faults alike.
enum ErrorStyle {
    case openAI
    /// Azure OpenAI: OpenAI's envelope with string codes.
    case azure
    case anthropic
    case google

    func response(
        _ status: Int, _ message: String, type: String? = nil, param: String? = nil, code: String? = nil,
        retryAfter: String? = nil
    ) -> Response {
        let body: JSONValue
        switch self {
        case .openAI, .azure:
            body = [
                "error": [
                    "message": .string(message), "type": .string(type ?? Self.openAIType(status)),
                    "param": param.map { .string($0) } ?? nil,
                    "code": code.map { .string($0) } ?? (self == .azure ? .string(String(status)) : nil),
                ]
            ]
        case .anthropic:
            body = [
                "type": "error",
                "error": ["type": .string(type ?? Self.anthropicType(status)), "message": .string(message)],
                "request_id": "req_emulator",
            ]
        case .google:
            body = [
                "error": [
                    "code": .integer(Int64(status)), "message": .string(message),
                    "status": .string(type ?? Self.googleStatus(status)),
                ]
            ]
        }
        return EmulatorHTTP.json(status, body, headers: retryAfter.map { [(.retryAfter, $0)] } ?? [])
    }

    /// The fault's status, with the message the real upstream sends for it.
    func injected(_ fault: EmulatorFault) -> Response? {
        guard let status = fault.status else { return nil }
        let message: String
        switch (self, status) {
        case (.anthropic, 529): message = "Overloaded"
        case (_, 429): message = "Rate limit reached for requests. Please try again later."
        case (_, 400): message = "Invalid request (injected by the emulator)."
        case (_, 401): message = "Invalid authentication credentials (injected by the emulator)."
        case (_, 403): message = "Permission denied (injected by the emulator)."
        case (_, 404): message = "Not found (injected by the emulator)."
        case (_, 503): message = "The service is temporarily overloaded, please try again later."
        default: message = "The server had an error while processing your request. Sorry about that!"
        }
        return response(status, message, retryAfter: fault.retryAfter)
    }

    static func openAIType(_ status: Int) -> String {
        switch status {
        case 429: "requests"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    static func anthropicType(_ status: Int) -> String {
        switch status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        default: "api_error"
        }
    }

    static func googleStatus(_ status: Int) -> String {
        switch status {
        case 400: "INVALID_ARGUMENT"
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 429: "RESOURCE_EXHAUSTED"
        case 503: "UNAVAILABLE"
        default: "INTERNAL"
        }
    }
}
