import Foundation
import ModelManagerCore
import ModelManagerGRPC
import Synchronization
import Testing

/// The libgrpc layer on its own: a byte-echo service on port 0 and our client channel.
@Suite struct GRPCServerTests {
    static func bytes(_ message: ReceivedMessage?) -> [UInt8]? {
        message?.withUnsafeBytes { Array($0) }
    }

    /// Echo: replies with the request, `count` times (metadata `x-repeat`), then OK; `x-status` picks the status.
    static func echoHandlers(events: EventLog = EventLog()) -> [String: ServerMethodHandler] {
        [
            "/test.Echo/Echo": { call in
                guard let request = await call.receiveMessage() else {
                    await call.finish(GRPCStatus(code: .invalidArgument, message: "no request"))
                    return
                }
                let payload = bytes(request) ?? []
                if let code = call.metadata["x-status"].flatMap(Int.init) {
                    await call.finish(GRPCStatus(code: .init(rawValue: code), message: "requested status \(code)"))
                    return
                }
                let count = call.metadata["x-repeat"].flatMap(Int.init) ?? 1
                for _ in 0..<count {
                    guard await call.send(OutgoingMessage(bytes: payload)) else { return }
                }
                var trailers = Metadata()
                trailers.append("x-echo-request-id", call.metadata["x-request-id"] ?? "")
                await call.finish(.ok, trailers: trailers)
            },
            "/test.Echo/Sleep": { call in
                _ = await call.receiveMessage()
                events.append("sleep started, deadline set: \(call.deadline != nil)")
                do {
                    try await Task.sleep(for: .seconds(30))
                    events.append("sleep finished")
                    await call.finish(.ok)
                } catch {
                    events.append("sleep cancelled")
                    await call.finish(GRPCStatus(code: .cancelled, message: "cancelled"))
                }
            },
            "/test.Echo/Slow": { call in
                _ = await call.receiveMessage()
                events.append("slow started")
                try? await Task.sleep(for: .milliseconds(300))
                events.append("slow finished")
                await call.finish(sending: OutgoingMessage(bytes: Array("done".utf8)))
            },
        ]
    }

    static func unary(
        _ channel: GRPCChannel, _ path: String, _ payload: [UInt8], metadata: Metadata = Metadata(),
        timeout: Duration = .seconds(10)
    )
        async -> ([[UInt8]], GRPCStatus, Metadata)
    {
        let call = channel.makeCall(path: path, timeout: timeout)!
        _ = await call.start(metadata: metadata, message: OutgoingMessage(bytes: payload))
        var replies: [[UInt8]] = []
        while let reply = await call.receiveMessage() { replies.append(bytes(reply)!) }
        let (status, trailers) = await call.receiveStatus()
        return (replies, status, trailers)
    }

    static func plaintextChannel(_ server: GRPCServer) -> GRPCChannel {
        GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
    }

    @Test func unaryEchoCarriesMetadataBothWays() async throws {
        let server = try GRPCServer(configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers())
        let channel = Self.plaintextChannel(server)
        var metadata = Metadata()
        metadata.append("x-request-id", "req-42")
        let (replies, status, trailers) = await Self.unary(
            channel, "/test.Echo/Echo", Array("hello".utf8), metadata: metadata)
        #expect(status == .ok)
        #expect(replies == [Array("hello".utf8)])
        #expect(trailers["x-echo-request-id"] == "req-42")
        await server.shutdown(grace: .seconds(1))
    }

    @Test func serverStreamingDeliversEveryMessageInOrder() async throws {
        let server = try GRPCServer(configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers())
        let channel = Self.plaintextChannel(server)
        var metadata = Metadata()
        metadata.append("x-repeat", "50")
        let (replies, status, _) = await Self.unary(channel, "/test.Echo/Echo", [1, 2, 3], metadata: metadata)
        #expect(status == .ok)
        #expect(replies.count == 50)
        #expect(replies.allSatisfy { $0 == [1, 2, 3] })
        await server.shutdown(grace: .seconds(1))
    }

    @Test func statusCodeAndMessageReachTheClient() async throws {
        let server = try GRPCServer(configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers())
        let channel = Self.plaintextChannel(server)
        var metadata = Metadata()
        metadata.append("x-status", "8")
        let (replies, status, _) = await Self.unary(channel, "/test.Echo/Echo", [0], metadata: metadata)
        #expect(replies.isEmpty)
        #expect(status == GRPCStatus(code: .resourceExhausted, message: "requested status 8"))
        await server.shutdown(grace: .seconds(1))
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        let server = try GRPCServer(configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers())
        let (_, status, _) = await Self.unary(Self.plaintextChannel(server), "/test.Echo/Nope", [0])
        #expect(status.code == .unimplemented)
        #expect(status.message.contains("/test.Echo/Nope"))
        await server.shutdown(grace: .seconds(1))
    }

    @Test func deadlineReachesTheHandlerAndExpires() async throws {
        let events = EventLog()
        let server = try GRPCServer(
            configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers(events: events))
        let started = ContinuousClock.now
        let (_, status, _) = await Self.unary(
            Self.plaintextChannel(server), "/test.Echo/Sleep", [0], timeout: .milliseconds(300))
        #expect(status.code == .deadlineExceeded)
        // Far less than the handler's 30 s sleep: the deadline ended the call.
        #expect(ContinuousClock.now - started < .seconds(20))
        try await events.waitFor("sleep cancelled")
        #expect(events.entries.contains("sleep started, deadline set: true"))
        await server.shutdown(grace: .seconds(1))
    }

    @Test func clientCancellationCancelsTheHandler() async throws {
        let events = EventLog()
        let server = try GRPCServer(
            configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers(events: events))
        let channel = Self.plaintextChannel(server)
        let call = channel.makeCall(path: "/test.Echo/Sleep", timeout: .seconds(30))!
        _ = await call.start(metadata: Metadata(), message: OutgoingMessage(bytes: [0]))
        try await events.waitFor("sleep started, deadline set: true")
        call.cancel()
        let (status, _) = await call.receiveStatus()
        #expect(status.code == .cancelled)
        try await events.waitFor("sleep cancelled")
        await server.shutdown(grace: .seconds(1))
    }

    @Test func largeMessagesUpToTheConfiguredLimit() async throws {
        let server = try GRPCServer(
            configuration: .init(address: "127.0.0.1:0", maxReceiveMessageBytes: 8 << 20), handlers: Self.echoHandlers()
        )
        let channel = Self.plaintextChannel(server)
        let big = [UInt8](repeating: 7, count: 6 << 20)
        let (replies, status, _) = await Self.unary(channel, "/test.Echo/Echo", big)
        #expect(status == .ok)
        #expect(replies.first?.count == big.count)
        let tooBig = [UInt8](repeating: 7, count: 9 << 20)
        let (_, refused, _) = await Self.unary(channel, "/test.Echo/Echo", tooBig)
        #expect(refused.code == .resourceExhausted)
        await server.shutdown(grace: .seconds(1))
    }

    @Test func defaultReceiveLimitIsAtLeast64MiB() {
        #expect(GRPCServer.Configuration(address: "127.0.0.1:0").maxReceiveMessageBytes >= 64 << 20)
    }

    @Test func secondServerOnABusyPortFailsToStart() async throws {
        let first = try GRPCServer(configuration: .init(address: "127.0.0.1:0"), handlers: [:])
        #expect(throws: GRPCServer.StartError.self) {
            _ = try GRPCServer(configuration: .init(address: "127.0.0.1:\(first.port)"), handlers: [:])
        }
        await first.shutdown(grace: .seconds(1))
    }

    @Test func gracefulShutdownLetsRunningCallsFinish() async throws {
        let events = EventLog()
        let server = try GRPCServer(
            configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers(events: events))
        let channel = Self.plaintextChannel(server)
        async let slow = Self.unary(channel, "/test.Echo/Slow", [0])
        try await events.waitFor("slow started")
        await server.shutdown(grace: .seconds(5))
        let (replies, status, _) = await slow
        #expect(status == .ok)
        #expect(replies == [Array("done".utf8)])
        #expect(events.entries.contains("slow finished"))
    }

    @Test func shutdownCancelsCallsStillRunningAfterTheGracePeriod() async throws {
        let events = EventLog()
        let server = try GRPCServer(
            configuration: .init(address: "127.0.0.1:0"), handlers: Self.echoHandlers(events: events))
        let channel = Self.plaintextChannel(server)
        async let sleeping = Self.unary(channel, "/test.Echo/Sleep", [0], timeout: .seconds(60))
        try await events.waitFor("sleep started, deadline set: true")
        let started = ContinuousClock.now
        await server.shutdown(grace: .milliseconds(200))
        #expect(ContinuousClock.now - started < .seconds(10))
        let (_, status, _) = await sleeping
        #expect(status.code != .ok)
        try await events.waitFor("sleep cancelled")
    }

    @Test func tlsWithASelfSignedCertificate() async throws {
        let pair = try SelfSignedCertificate.make()
        let server = try GRPCServer(
            configuration: .init(
                address: "127.0.0.1:0",
                tls: TLSServerConfiguration(
                    certificateChainPEM: pair.certificate, privateKeyPEM: Secret(pair.privateKey))),
            handlers: Self.echoHandlers())
        // 127.0.0.1 with the certificate's name, so no DNS resolver runs.
        let trusted = GRPCChannel(
            configuration: .init(
                target: "127.0.0.1:\(server.port)",
                tls: TLSClientConfiguration(trustRootsPEM: pair.certificate, serverNameOverride: "localhost")))
        let (replies, status, _) = await Self.unary(trusted, "/test.Echo/Echo", Array("secret".utf8))
        #expect(status == .ok)
        #expect(replies == [Array("secret".utf8)])

        let plaintext = Self.plaintextChannel(server)
        let (_, refused, _) = await Self.unary(plaintext, "/test.Echo/Echo", [1], timeout: .seconds(3))
        #expect(refused.code == .unavailable || refused.code == .deadlineExceeded)
        await server.shutdown(grace: .seconds(1))
    }
}

/// Things handlers report, for tests to wait on.
final class EventLog: Sendable {
    private let log = Mutex<[String]>([])

    func append(_ entry: String) { log.withLock { $0.append(entry) } }
    var entries: [String] { log.withLock { $0 } }

    func waitFor(_ entry: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !entries.contains(entry) {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for '\(entry)'; saw \(entries)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A throwaway certificate for localhost/127.0.0.1, made by the openssl command.
enum SelfSignedCertificate {
    static func make() throws -> (certificate: String, privateKey: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mm-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ]
        guard spawnAndWait(arguments) == 0 else { throw CocoaError(.fileWriteUnknown) }
        return (
            try String(contentsOfFile: certificate, encoding: .utf8), try String(contentsOfFile: key, encoding: .utf8)
        )
    }
}

/// Runs a command found on PATH and returns its exit status. posix_spawn rather than
/// Foundation's Process, which keeps an allocation LeakSanitizer reports.
func spawnAndWait(_ arguments: [String]) -> Int32 {
    var pid: pid_t = 0
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (status >> 8) & 0xFF
}
