import ArgumentParser

@main
struct ModelManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-manager",
        abstract: "A gRPC gateway to AI model providers, with usage accounting.",
        subcommands: [
            ServeCommand.self, InvokeCommand.self, TokenCommand.self, UsageCommand.self, KeysCommand.self,
            QuotasCommand.self, AuditCommand.self,
            EmulateCommand.self,
        ]
    )
}
