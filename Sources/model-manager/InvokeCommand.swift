import ArgumentParser
import Foundation
import ModelManagerClient
import ModelManagerCore

struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Call the server: print the answer as it streams, then the usage.",
        discussion:
            "Reads MODEL_MANAGER_SERVER_ADDRESS, MODEL_MANAGER_SERVER_JWT_SECRET_KEY, MODEL_MANAGER_SERVER_GRPC_USE_TLS and MODEL_MANAGER_SERVER_INVOKE_TIMEOUT like the Python SDK; options override them."
    )

    @Argument(help: "The user message.")
    var prompt: String

    @Option(help: "Server HOST:PORT (default: MODEL_MANAGER_SERVER_ADDRESS, else 127.0.0.1:50051).")
    var address: String?

    @Option(help: "Provider (openai, deepseek, perplexity, …).")
    var provider = "openai"

    @Option(help: "Channel (default: the provider's).")
    var channel: String?

    @Option(name: .customLong("invoke-type"), help: "Invoke type.")
    var invokeType = "chat-completions"

    @Option(help: "Model.")
    var model = "gpt-4o-mini"

    @Option(help: "Extra provider parameters as a JSON object, merged into the request (e.g. '{\"max_tokens\": 50}').")
    var extra: String?

    @Flag(inversion: .prefixedNo, help: "Stream the answer.")
    var stream = true

    @Flag(inversion: .prefixedNo, help: "Use TLS (default: MODEL_MANAGER_SERVER_GRPC_USE_TLS, else true).")
    var tls: Bool?

    @Option(name: .customLong("org-id")) var orgID = "org-cli"
    @Option(name: .customLong("user-id")) var userID = "user-cli"
    @Option(name: .customLong("client-type")) var clientType = "model-manager-cli"
    @Option(name: .customLong("request-id")) var requestID: String?

    @Option(help: "Deadline in seconds.")
    var timeout: Double?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var merged = environment
        if let address { merged["MODEL_MANAGER_SERVER_ADDRESS"] = address }
        if merged["MODEL_MANAGER_SERVER_ADDRESS"] == nil { merged["MODEL_MANAGER_SERVER_ADDRESS"] = "127.0.0.1:50051" }
        var configuration = try ClientConfiguration.fromEnvironment(merged)
        if let tls { configuration.useTLS = tls }
        if let timeout { configuration.timeout = .milliseconds(Int64(timeout * 1000)) }

        var parameters = Self.parameters(prompt: prompt, model: model, provider: provider, invokeType: invokeType)
        if let extra {
            guard case .object(let object) = try JSONValue(parsing: extra) else {
                throw ValidationError("--extra must be a JSON object")
            }
            parameters.merge(object) { _, new in new }
        }
        let request = ModelRequest(
            provider: Provider(provider), channel: channel.map { Channel($0) } ?? .normal,
            invokeType: InvokeType(invokeType), stream: stream,
            orgID: orgID, userID: userID, clientType: clientType, extra: parameters)
        let client = AsyncModelManagerClient(configuration: configuration)
        var final: ModelResponse?
        if stream {
            for try await chunk in client.invokeStream(request, requestID: requestID) {
                if let error = chunk.error { throw InvokeFailure(message: error) }
                FileHandle.standardOutput.write(Data(chunk.content.utf8))
                if chunk.usageJSON != nil { final = chunk }
            }
            print()
        } else {
            let response = try await client.invoke(request, requestID: requestID)
            if let error = response.error { throw InvokeFailure(message: error) }
            print(response.content)
            final = response
        }
        if let usage = final?.usageJSON { print("usage: \(usage.jsonText)") }
    }
}

extension InvokeCommand {
    /// The prompt in the shape the route's schema takes it.
    static func parameters(prompt: String, model: String, provider: String, invokeType: String) -> [String: JSONValue] {
        var parameters: [String: JSONValue] = ["model": .string(model)]
        switch (provider, invokeType) {
        case (_, "image-generation"), (_, "image-generation-genai"):
            parameters["prompt"] = .string(prompt)
        case ("google", _):
            parameters["contents"] = .string(prompt)
        case ("openai", "responses"), ("openai", "generation"), ("azure", "responses"), ("azure", "generation"):
            parameters["input"] = .string(prompt)
        case ("anthropic", _):
            parameters["messages"] = [["role": "user", "content": .string(prompt)]]
            parameters["max_tokens"] = 1024
        default:
            parameters["messages"] = [["role": "user", "content": .string(prompt)]]
        }
        return parameters
    }
}

struct InvokeFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { "the call failed: \(message)" }
}
