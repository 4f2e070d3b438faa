public import AsyncHTTPClient
import Foundation
package import ModelManagerCore
import NIOCore
import NIOHTTP1

/// The HTTP exchange every adapter shares: POST JSON within the call's deadline, map failures once,
/// and read the answer as JSON or as server-sent events.
public struct UpstreamHTTP: Sendable {
    /// For what is not a call: Google's OAuth token exchange.
    public let client: HTTPClient
    let connections: UpstreamConnections
    /// Used when the caller set no deadline.
    public var defaultTimeout: Duration

    package init(client: HTTPClient, connections: UpstreamConnections, defaultTimeout: Duration = .seconds(600)) {
        self.client = client
        self.connections = connections
        self.defaultTimeout = defaultTimeout
    }

    /// The parts of an upstream request that adapters compute.
    package struct Call {
        package var url: String
        package var headers: [(String, String)]
        package var body: JSONValue
        /// A caller-supplied timeout (the OpenAI SDK's `timeout`), bounded by the deadline.
        package var timeout: Duration?
        /// What the URL names, when the upstream's errors will not say it (an Azure deployment).
        package var subject: String? = nil
    }

    /// Sends the call; returns the response once its status is a success, otherwise throws the mapped error.
    package func send(_ call: Call, provider: Provider, context: InvocationContext) async throws(ModelManagerError)
        -> UpstreamResponse
    {
        let address = try UpstreamAddress(call.url)
        var output = JSONOutput(capacity: 1024)
        output.write(call.body)
        let body = ByteBuffer(bytes: output.bytes)
        var headers = HTTPHeaders()
        headers.reserveCapacity(6 + call.headers.count)
        headers.add(name: "Host", value: address.origin.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, text/event-stream")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        for (name, value) in call.headers { headers.replaceOrAdd(name: name, value: value) }
        // The upstream request joins the caller's trace as the attempt span's child.
        if let traceparent = context.trace?.traceparent {
            headers.replaceOrAdd(name: "traceparent", value: traceparent)
        }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: address.target, headers: headers)

        let response: UpstreamResponse
        do {
            response = try await connections.send(
                to: address, head: head, body: body, deadline: deadline(for: call, context: context))
        } catch {
            throw UpstreamFailure.fromTransport(error, provider: provider, deadlinePassed: Self.passed(context))
        }
        guard (200..<300).contains(response.status) else {
            let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
            throw UpstreamFailure.fromHTTP(
                status: response.status, body: try? JSONValue(parsing: text), rawBody: text,
                provider: provider, retryAfter: response.headers.first(name: "retry-after"), subject: call.subject)
        }
        return response
    }

    /// The whole body as JSON.
    package func readJSON(_ response: UpstreamResponse, provider: Provider, context: InvocationContext)
        async throws(ModelManagerError)
        -> UpstreamJSON
    {
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw UpstreamFailure.fromTransport(error, provider: provider, deadlinePassed: Self.passed(context))
        }
        var text = String(buffer: buffer)
        do {
            let value = try text.withUTF8 { utf8 throws(JSONParseError) in try JSONValue(parsing: utf8) }
            return UpstreamJSON(value: value, raw: RawJSON(validated: text))
        } catch {
            throw ModelManagerError(.unavailable, "\(provider) answered with a body that is not JSON (\(error))")
        }
    }

    /// Hands each server-sent event to `onEvent` as it arrives; returns when the stream ends.
    /// Throws UNAVAILABLE when the stream ends inside an event.
    package func readEvents(
        _ response: UpstreamResponse, provider: Provider, context: InvocationContext,
        onEvents: ([SSEParser.Event]) async throws -> Bool
    ) async throws {
        var parser = SSEParser()
        do {
            for try await buffer in response.body {
                let events: [SSEParser.Event]
                do {
                    events = try parser.feed(buffer.readableBytesView)
                } catch {
                    throw ModelManagerError(.unavailable, "\(provider) stream: \(error)")
                }
                if !events.isEmpty {
                    guard try await onEvents(events) else { return }
                }
            }
        } catch let error as ModelManagerError {
            throw error
        } catch {
            throw UpstreamFailure.fromTransport(error, provider: provider, deadlinePassed: Self.passed(context))
        }
        if parser.hasPartialEvent {
            throw ModelManagerError(.unavailable, "\(provider) stream was cut off in the middle of an event")
        }
    }

    private func deadline(for call: Call, context: InvocationContext) -> NIODeadline {
        var remaining = defaultTimeout
        if let deadline = context.deadline { remaining = min(remaining, deadline - .now) }
        if let timeout = call.timeout { remaining = min(remaining, timeout) }
        return .now() + .nanoseconds(max(0, remaining.wholeNanoseconds))
    }

    private static func passed(_ context: InvocationContext) -> Bool {
        guard let deadline = context.deadline else { return false }
        return deadline <= .now
    }
}

/// An upstream's JSON answer: parsed for what the gateway reads, and its own text to relay.
package struct UpstreamJSON: Sendable {
    package let value: JSONValue
    package let raw: RawJSON
}
