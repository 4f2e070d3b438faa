import AsyncHTTPClient
import ModelManagerCore
import ModelManagerTestSupport
import NIOCore
import NIOHTTP1

/// Requests to a test server's HTTP face, answered as status, headers and JSON.
enum HTTPCalls {
    struct Answer {
        var status: UInt
        var headers: HTTPHeaders
        var body: JSONValue
    }

    static func send(
        _ server: TestServer, _ method: HTTPMethod, _ path: String, token: String, body: JSONValue? = nil,
        headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: server.httpURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body.jsonText)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return Answer(status: response.status.code, headers: response.headers, body: try JSONValue(parsing: text))
    }

    /// `POST /v1/invoke`: a short chat for `org` (empty: the credential's).
    static func invoke(_ server: TestServer, token: String, org: String = "", requestID: String? = nil) async throws
        -> Answer
    {
        try await send(
            server, .POST, "/v1/invoke", token: token,
            body: [
                "provider": "openai", "channel": "openai", "invoke_type": "chat-completions", "model": "gpt-4o-mini",
                "messages": [["role": "user", "content": "hi"]],
                "user_context": ["org_id": .string(org), "user_id": "u"],
            ],
            headers: requestID.map { [("X-Request-ID", $0)] } ?? [])
    }
}
