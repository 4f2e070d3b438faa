import ModelManagerCore

/// `extra` → the body of `POST /chat/completions`, as the OpenAI Python SDK would send it.
enum OpenAIChatRequest {
    /// Parameters the API types as integers; `google.protobuf.Struct` delivers them as doubles.
    static let integerParameters: Set<String> = ["max_tokens", "max_completion_tokens", "n", "seed", "top_logprobs"]
    /// OpenAI-SDK pass-through options that configure the HTTP request rather than the body.
    static let transportKeys: Set<String> = ["extra_headers", "extra_query", "extra_body", "timeout", "stream", "stream_options"]

    static func make(_ request: ModelRequest, endpoint: String) throws(ModelManagerError) -> UpstreamHTTP.Call {
        let extra = request.extra
        guard let messages = extra["messages"] else {
            throw ModelManagerError(.invalidArgument, "missing required parameter 'messages' in extra")
        }
        guard case .array(let list) = messages else {
            throw ModelManagerError(.invalidArgument, "parameter 'messages' must be an array of messages, got \(messages.typeName)")
        }
        guard !list.isEmpty else {
            throw ModelManagerError(.invalidArgument, "parameter 'messages' is empty: at least one message is required")
        }

        var body: [String: JSONValue] = [:]
        for (key, value) in extra where !transportKeys.contains(key) {
            body[key] = try coerced(key, value)
        }
        if case .object(let extraBody) = extra["extra_body"] {
            for (key, value) in extraBody { body[key] = try coerced(key, value) }
        }
        body["stream"] = .bool(request.stream)
        if request.stream {
            // Ask for usage on the final chunk, keeping any other stream options the caller set.
            var options = extra["stream_options"]?.objectValue ?? [:]
            options["include_usage"] = true
            body["stream_options"] = .object(options)
        }

        var headers: [(String, String)] = []
        if case .object(let extraHeaders) = extra["extra_headers"] {
            for (name, value) in extraHeaders {
                guard let text = value.stringValue ?? value.integerValue.map(String.init) else { continue }
                headers.append((name, text))
            }
        }
        var url = endpoint
        if case .object(let query) = extra["extra_query"], !query.isEmpty {
            let items = query.keys.sorted().compactMap { key -> String? in
                guard let value = query[key], let text = value.stringValue ?? (value.isNull ? nil : value.jsonText) else { return nil }
                return "\(percentEncoded(key))=\(percentEncoded(text))"
            }
            url += (url.contains("?") ? "&" : "?") + items.joined(separator: "&")
        }
        let timeout = extra["timeout"]?.doubleValue.map { Duration.milliseconds(Int64($0 * 1000)) }
        return UpstreamHTTP.Call(url: url, headers: headers, body: .object(body), timeout: timeout)
    }

    private static func coerced(_ key: String, _ value: JSONValue) throws(ModelManagerError) -> JSONValue {
        guard integerParameters.contains(key), !value.isNull else { return value }
        guard let integer = value.integerValue else {
            throw ModelManagerError(.invalidArgument, "parameter '\(key)' must be an integer, got \(value.jsonText)")
        }
        return .integer(integer)
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? text
    }
}

import Foundation

extension CharacterSet {
    static let urlQueryValueAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()
}
