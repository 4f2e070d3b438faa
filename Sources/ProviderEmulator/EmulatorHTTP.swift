import Foundation
import HTTPTypes
import Hummingbird
import ModelManagerCore
import NIOCore

/// What every emulated endpoint does first: read and record the request, apply the fault's delay.
struct EmulatedRequest {
    let body: JSONValue?
    let headers: HTTPFields
    let fault: EmulatorFault
    let query: [String: String]

    static func read(_ request: Request, recorder: EmulatorRecorder) async throws -> EmulatedRequest {
        let fault = EmulatorFault(header: request.headers[HTTPField.Name(EmulatorFault.headerName)!])
        let buffer = try await request.body.collect(upTo: 64 << 20)
        let body = try? JSONValue(parsing: buffer.readableBytesView)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        recorder.record(.init(path: request.uri.path, headers: headers, body: body))
        if fault.delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(fault.delayMilliseconds)) }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        return EmulatedRequest(body: body, headers: request.headers, fault: fault, query: query)
    }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

enum EmulatorHTTP {
    static func json(_ status: Int, _ value: JSONValue, headers extra: [(HTTPField.Name, String)] = []) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (name, value) in extra { headers[name] = value }
        return Response(
            status: .init(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText)))
    }

    /// A server-sent event stream: `event:` lines when named, then `data:`. The fault may delay
    /// events or cut the stream; the recorder hears whether the client stayed to the end.
    static func eventStream(_ events: [(name: String?, data: String)], fault: EmulatorFault, recorder: EmulatorRecorder)
        -> Response
    {
        let body = ResponseBody { writer in
            do {
                for (index, event) in events.enumerated() {
                    if let limit = fault.truncateAfterChunks, index >= limit {
                        // The connection ends mid-stream, before the closing event.
                        try await writer.finish(nil)
                        return
                    }
                    if fault.chunkDelayMilliseconds > 0, index > 0 {
                        try await Task.sleep(for: .milliseconds(fault.chunkDelayMilliseconds))
                    }
                    let line = event.name.map { "event: \($0)\n" } ?? ""
                    try await writer.write(ByteBuffer(string: "\(line)data: \(event.data)\n\n"))
                }
                try await writer.finish(nil)
                recorder.streamCompleted()
            } catch {
                recorder.streamAborted()
                throw error
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// A stable id derived from the request, like the real ones in shape.
    static func identifier(for text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 36)
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// A tiny valid PNG (1×1), base64: what the image endpoints return.
    static let pixelPNG =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
}

/// The API keys an emulator accepts, and those whose quota is spent.
struct EmulatorKeys: Sendable {
    let accepted: Set<String>
    let exhausted: Set<String>

    /// nil when `key` may call; otherwise the upstream's refusal in `style`.
    func refusal(_ key: String?, style: ErrorStyle, unknown: @autoclosure () -> Response) -> Response? {
        guard let key, accepted.contains(key) else { return unknown() }
        guard !exhausted.contains(key) else {
            return style.response(
                429, "You exceeded your current quota, please check your plan and billing details.",
                code: "insufficient_quota", retryAfter: "30")
        }
        return nil
    }
}
