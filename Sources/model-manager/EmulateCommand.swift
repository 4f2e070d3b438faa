import ArgumentParser
import Logging
import ProviderEmulator

struct EmulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate", abstract: "Run the provider emulator alone (OpenAI-compatible API on /v1).")

    @Option var host = "127.0.0.1"
    @Option var port = 8090

    func run() async throws {
        let signals = TerminationSignals(logger: Logger(label: "provider-emulator"))
        let emulator = try await ProviderEmulator(configuration: .init(host: host, port: port))
        print("provider emulator on \(emulator.openAIBaseURL) (API key: \(ProviderEmulator.defaultAPIKey))")
        await signals.first()
        await emulator.stop()
    }
}
