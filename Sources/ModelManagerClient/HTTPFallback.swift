import AsyncHTTPClient
import Foundation
import ModelManagerCore
import NIOCore

/// The server's HTTP face (`/v1/invoke`, `/v1/batch-invoke`), used while the circuit is open
/// or when fast fallback applies. Same token and request ids as the gRPC call it replaces.
struct HTTPFallback: Sendable {
    let baseURL: String

    init(baseURL: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    func invoke(_ request: ModelRequest, headers: [(String, String)], timeout: Duration)
        async throws(ModelManagerClientError) -> ModelResponse
    {
        let json = try await post(
            "/v1/invoke", body: Self.body(request, stream: false), headers: headers, timeout: timeout)
        return ModelResponse(json: json)
    }

    func invokeBatch(_ requests: [ModelRequest], headers: [(String, String)], timeout: Duration)
        async throws(ModelManagerClientError) -> BatchModelResponse
    {
        let context = requests.first.map(HTTPRequestMapper.userContext(of:)) ?? [:]
        let body: JSONValue = [
            "user_context": .object(context), "items": .array(requests.map { Self.body($0, stream: false) }),
        ]
        let json = try await post("/v1/batch-invoke", body: body, headers: headers, timeout: timeout)
        return BatchModelResponse(
            requestID: json["request_id"]?.stringValue ?? "",
            responses: (json["results"]?.arrayValue ?? []).map(ModelResponse.init(json:)))
    }

    /// The SSE stream of a `stream: true` invoke, as chunks.
    func stream(_ request: ModelRequest, headers: [(String, String)], timeout: Duration)
        async throws(ModelManagerClientError) -> HTTPClientResponse
    {
        let response = try await send(
            "/v1/invoke", body: Self.body(request, stream: true), headers: headers, timeout: timeout)
        guard response.status.code == 200 else {
            throw await Self.failure(response, requestID: Self.requestID(headers))
        }
        return response
    }

    private func post(_ path: String, body: JSONValue, headers: [(String, String)], timeout: Duration)
        async throws(ModelManagerClientError) -> JSONValue
    {
        let response = try await send(path, body: body, headers: headers, timeout: timeout)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw await Self.failure(response, requestID: Self.requestID(headers))
        }
        do {
            let buffer = try await response.body.collect(upTo: 256 << 20)
            return try JSONValue(parsing: buffer.readableBytesView)
        } catch {
            throw Self.error(
                .unavailable, "the HTTP fallback answered with a body that is not JSON (\(error))", headers)
        }
    }

    private func send(_ path: String, body: JSONValue, headers: [(String, String)], timeout: Duration)
        async throws(ModelManagerClientError) -> HTTPClientResponse
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ModelManagerClient-Swift/1.0")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        do {
            return try await HTTPClient.shared.execute(request, timeout: .nanoseconds(max(1, timeout.wholeNanoseconds)))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Self.error(.deadlineExceeded, "the HTTP fallback did not answer in time", headers)
        } catch is CancellationError {
            throw ModelManagerClientError.cancelledByCaller(requestID: Self.requestID(headers), originRequestID: nil)
        } catch {
            throw Self.error(.unavailable, "cannot reach the HTTP fallback at \(baseURL): \(type(of: error))", headers)
        }
    }

    /// The request as the server's HTTP face takes it.
    static func body(_ request: ModelRequest, stream: Bool) -> JSONValue {
        var request = request
        request.stream = stream
        return .object(HTTPRequestMapper.body(of: request))
    }

    static func failure(_ response: HTTPClientResponse, requestID: String?) async -> ModelManagerClientError {
        let body = try? await response.body.collect(upTo: 1 << 20)
        let json = body.flatMap { try? JSONValue(parsing: $0.readableBytesView) }
        let message =
            json?["error"]?.stringValue ?? json?["error"]?["message"]?.stringValue ?? "HTTP \(response.status.code)"
        var error = ModelManagerClientError(
            status: ModelManagerError.Code(httpStatus: Int(response.status.code)), message: message,
            requestID: requestID)
        error.viaHTTPFallback = true
        return error
    }

    static func requestID(_ headers: [(String, String)]) -> String? { headers.first { $0.0 == "X-Request-ID" }?.1 }

    static func error(_ status: ModelManagerError.Code, _ message: String, _ headers: [(String, String)])
        -> ModelManagerClientError
    {
        var error = ModelManagerClientError(status: status, message: message, requestID: requestID(headers))
        error.viaHTTPFallback = true
        return error
    }
}
