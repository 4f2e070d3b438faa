import Foundation
import Logging
public import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
public import ModelManagerServer
public import ProviderEmulator

#if canImport(Glibc)
    import Glibc
#endif

/// A provider emulator and our server wired to it, both on port 0, torn down by `withTestServer`.
public struct TestServer: Sendable {
    public static let jwtSecret = "test-secret-0123456789abcdef0123456789abcdef"
    public static let previousJWTSecret = "previous-secret-0123456789abcdef0123456789"
    /// Signs admin tokens only; the clients' secrets cannot grant admin.
    public static let adminJWTSecret = "admin-secret-0123456789abcdef0123456789abcdef"

    public let emulator: ProviderEmulator
    public let server: ModelManagerServer

    public var address: String { "127.0.0.1:\(server.grpcPort)" }

    public var clientConfiguration: ClientConfiguration {
        var configuration = ClientConfiguration(
            serverAddress: address, jwtSecret: Secret(Self.jwtSecret), useTLS: false, timeout: .seconds(15))
        // Retries in tests wait milliseconds, not the production second.
        configuration.retry.baseDelay = .milliseconds(20)
        return configuration
    }

    /// The server's HTTP face (the client's fallback URL).
    public var httpURL: String { "http://127.0.0.1:\(server.httpPort)" }

    public func asyncClient() -> AsyncModelManagerClient { AsyncModelManagerClient(configuration: clientConfiguration) }
}

/// Runs `body` with a fresh emulator and server; `configure` may adjust the server configuration.
public func withTestServer<Result>(
    emulator emulatorConfiguration: ProviderEmulator.Configuration = .init(),
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (TestServer) async throws -> Result
) async throws -> Result {
    let emulator = try await ProviderEmulator(configuration: emulatorConfiguration)
    var configuration = try ServerConfiguration.load(file: nil, environment: [:])
    configuration.grpc.address = "127.0.0.1:0"
    configuration.http.address = "127.0.0.1:0"
    let ledgerPath = FileManager.default.temporaryDirectory.appendingPathComponent(
        "mm-test-\(UUID().uuidString).sqlite"
    ).path
    configuration.usage.database = .sqlite(path: ledgerPath)
    configuration.grpc.shutdownGrace = .seconds(1)
    configuration.auth.jwtSecrets = [.init(TestServer.jwtSecret), .init(TestServer.previousJWTSecret)]
    configuration.auth.adminJWTSecrets = [.init(TestServer.adminJWTSecret)]
    configuration.routeAllProviders(
        toEmulatorAt: emulator.baseURL, apiKey: ProviderEmulator.defaultAPIKey,
        serviceAccount: try ServiceAccount(json: emulator.serviceAccountJSON, source: "emulator"))
    configure(&configuration)
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let server = try await ModelManagerServer.start(configuration: configuration, logger: logger)
    let harness = TestServer(emulator: emulator, server: server)
    defer {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
    }
    do {
        let result = try await body(harness)
        await server.shutdown()
        await emulator.stop()
        return result
    } catch {
        await server.shutdown()
        await emulator.stop()
        throw error
    }
}

/// A loopback port nothing listens on (bound, then released).
public func closedPort() -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
