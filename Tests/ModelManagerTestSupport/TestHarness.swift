import Foundation
import Logging
public import ModelManagerProviders
public import ModelManagerClient
public import ModelManagerServer
public import ProviderEmulator

/// A provider emulator and our server wired to it, both on port 0, torn down by `withTestServer`.
public struct TestServer: Sendable {
    public static let jwtSecret = "test-secret-0123456789abcdef0123456789abcdef"
    public static let previousJWTSecret = "previous-secret-0123456789abcdef0123456789"

    public let emulator: ProviderEmulator
    public let server: ModelManagerServer

    public var address: String { "127.0.0.1:\(server.grpcPort)" }

    public var clientConfiguration: ClientConfiguration {
        ClientConfiguration(serverAddress: address, jwtSecret: Self.jwtSecret, useTLS: false, timeout: .seconds(15))
    }

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
    let ledgerPath = FileManager.default.temporaryDirectory.appendingPathComponent("mm-test-\(UUID().uuidString).sqlite").path
    configuration.usage.database = .sqlite(path: ledgerPath)
    configuration.grpc.shutdownGrace = .seconds(1)
    configuration.auth.jwtSecrets = [.init(TestServer.jwtSecret), .init(TestServer.previousJWTSecret)]
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
