import Foundation
import Logging
import ModelManagerClient
import ModelManagerCore
import ModelManagerProviders
import ModelManagerServer
import ProviderEmulator

/// A server in this process in front of the emulator, on a fresh SQLite ledger, with a gRPC
/// client: what the in-process benchmarks measure through.
struct InProcessServer {
    let emulator: ProviderEmulator
    let server: ModelManagerServer
    let client: AsyncModelManagerClient
    private let ledgerPath: String

    static func start(
        label: String, configure: (inout ServerConfiguration, ProviderEmulator) -> Void = { _, _ in }
    ) async throws -> InProcessServer {
        let emulator = try await ProviderEmulator()
        var configuration = try ServerConfiguration.load(file: nil, environment: [:])
        configuration.auth.jwtSecrets = [Secret(Bench.secret)]
        configuration.grpc.address = "127.0.0.1:0"
        configuration.http.address = "127.0.0.1:0"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mm-\(label)-\(UUID()).sqlite").path
        configuration.usage.database = .sqlite(path: path)
        configuration.routeAllProviders(
            toEmulatorAt: emulator.baseURL, apiKey: ProviderEmulator.defaultAPIKey,
            serviceAccount: try ServiceAccount(json: emulator.serviceAccountJSON, source: "emulator"))
        configure(&configuration, emulator)
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let server = try await ModelManagerServer.start(configuration: configuration, logger: logger)
        let client = AsyncModelManagerClient(
            configuration: ClientConfiguration(
                serverAddress: "127.0.0.1:\(server.grpcPort)", jwtSecret: Secret(Bench.secret), useTLS: false,
                timeout: .seconds(30)))
        return InProcessServer(emulator: emulator, server: server, client: client, ledgerPath: path)
    }

    func stop() async {
        client.close()
        await server.shutdown()
        await emulator.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
    }
}
