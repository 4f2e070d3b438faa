/// The HTTP request body → `ModelRequest`, tolerating every quirk of the Python SDK's fallback
/// (PROTOCOL.md §7): `stream: null`, missing channel, `messages` sent as a string.
package enum HTTPRequestMapper {
    package static let envelopeKeys: Set<String> = [
        "provider", "channel", "invoke_type", "stream", "user_context", "custom_id", "priority",
    ]

    package static func request(from body: [String: JSONValue], userContext inherited: JSONValue? = nil)
        throws(ModelManagerError) -> ModelRequest
    {
        guard let provider = body["provider"]?.stringValue, !provider.isEmpty else {
            throw ModelManagerError(.invalidArgument, "missing required field 'provider'")
        }
        let context = body["user_context"] ?? inherited
        var extra: [String: JSONValue] = [:]
        for (key, value) in body where !envelopeKeys.contains(key) && !value.isNull { extra[key] = value }
        if let messages = extra["messages"]?.stringValue {
            // The Python SDK 0.8.44 sends its messages iterator's repr: the conversation is lost.
            // Answering beats failing every fallback; the text is passed as one user message.
            extra["messages"] = [["role": "user", "content": .string(messages)]]
        }
        return ModelRequest(
            provider: Provider(provider), channel: Channel(body["channel"]?.stringValue ?? "normal"),
            invokeType: InvokeType(body["invoke_type"]?.stringValue ?? ""), stream: body["stream"]?.boolValue ?? false,
            orgID: context?["org_id"]?.stringValue ?? "", userID: context?["user_id"]?.stringValue ?? "",
            clientType: context?["client_type"]?.stringValue ?? "",
            priority: body["priority"]?.integerValue.map { Int32(clamping: $0) },
            customID: body["custom_id"]?.stringValue, region: context?["region"]?.stringValue, extra: extra)
    }

    /// The inverse of `request(from:)`: the body the HTTP face takes for `request`.
    package static func body(of request: ModelRequest) -> [String: JSONValue] {
        var body = request.extra
        body["provider"] = .string(request.provider.rawValue)
        body["channel"] = .string(request.channel.rawValue)
        body["invoke_type"] = .string(request.invokeType.rawValue)
        body["stream"] = .bool(request.stream)
        body["user_context"] = .object(userContext(of: request))
        if let customID = request.customID { body["custom_id"] = .string(customID) }
        if let priority = request.priority { body["priority"] = .integer(Int64(priority)) }
        return body
    }

    package static func userContext(of request: ModelRequest) -> [String: JSONValue] {
        var context: [String: JSONValue] = [
            "org_id": .string(request.orgID), "user_id": .string(request.userID),
            "client_type": .string(request.clientType),
        ]
        if let region = request.region { context["region"] = .string(region) }
        return context
    }

    package static func batch(from body: [String: JSONValue]) throws(ModelManagerError) -> [ModelRequest] {
        guard case .array(let items) = body["items"] ?? .null else {
            throw ModelManagerError(.invalidArgument, "missing required field 'items' (an array of requests)")
        }
        var requests: [ModelRequest] = []
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else {
                throw ModelManagerError(.invalidArgument, "items[\(index)] must be an object, got \(item.typeName)")
            }
            var request = try request(from: object, userContext: body["user_context"])
            request.stream = false
            requests.append(request)
        }
        return requests
    }
}
