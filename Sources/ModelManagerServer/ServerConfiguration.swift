public import Foundation
public import ModelManagerCore
public import ModelManagerGRPC
public import ModelManagerProviders

/// Everything `model-manager serve` needs, with embedded defaults; read from a JSON file
/// and then the environment (the environment wins).
public struct ServerConfiguration: Sendable {
    public struct GRPC: Sendable {
        public var address = "0.0.0.0:50051"
        public var tls: TLSServerConfiguration?
        public var maxReceiveMessageBytes = 64 << 20
        public var shutdownGrace: Duration = .seconds(10)
    }

    public struct Auth: Sendable {
        /// Every accepted HS256 secret; the first is the current one.
        public var jwtSecrets: [Secret] = []
        public var leeway: Duration = .seconds(30)
    }

    public var grpc = GRPC()
    public var auth = Auth()
    public var providers: [ProviderSettings] = []

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Defaults, then the file at `path` (when given), then the environment.
    public static func load(file path: String?, environment: [String: String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.providers = ProviderSettings.defaults(environment: environment)
        if let path { try configuration.apply(file: path, environment: environment) }
        if let secret = environment["MODEL_MANAGER_SERVER_JWT_SECRET_KEY"], !secret.isEmpty {
            configuration.auth.jwtSecrets.removeAll { $0.revealed == secret }
            configuration.auth.jwtSecrets.insert(Secret(secret), at: 0)
        }
        if let previous = environment["MODEL_MANAGER_SERVER_JWT_PREVIOUS_SECRET_KEYS"] {
            for secret in previous.split(separator: ",").map(String.init) where !secret.isEmpty {
                if !configuration.auth.jwtSecrets.contains(Secret(secret)) { configuration.auth.jwtSecrets.append(Secret(secret)) }
            }
        }
        return configuration
    }

    private mutating func apply(file path: String, environment: [String: String]) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid("cannot read configuration file '\(path)'")
        }
        let root: JSONValue
        do {
            root = try JSONValue(parsing: [UInt8](data))
        } catch {
            throw Invalid("configuration file '\(path)' is not valid JSON: \(error)")
        }
        if let grpc = root["grpc"] {
            if let address = grpc["address"]?.stringValue { self.grpc.address = address }
            if let bytes = grpc["max_receive_message_bytes"]?.integerValue { self.grpc.maxReceiveMessageBytes = Int(bytes) }
            if let grace = grpc["shutdown_grace_seconds"]?.doubleValue { self.grpc.shutdownGrace = .milliseconds(Int64(grace * 1000)) }
            if let tls = grpc["tls"] {
                guard let certificate = tls["certificate_file"]?.stringValue, let key = tls["private_key_file"]?.stringValue else {
                    throw Invalid("grpc.tls needs 'certificate_file' and 'private_key_file'")
                }
                self.grpc.tls = try Self.loadTLS(certificate: certificate, privateKey: key)
            }
        }
        if let auth = root["auth"] {
            for secret in auth["jwt_secrets"]?.arrayValue ?? [] {
                guard let text = secret.stringValue, !text.isEmpty else { throw Invalid("auth.jwt_secrets must hold non-empty strings") }
                self.auth.jwtSecrets.append(Secret(text))
            }
            if let leeway = auth["leeway_seconds"]?.integerValue { self.auth.leeway = .seconds(leeway) }
        }
        for (index, entry) in (root["providers"]?.arrayValue ?? []).enumerated() {
            try upsertProvider(entry, index: index, environment: environment)
        }
    }

    private mutating func upsertProvider(_ entry: JSONValue, index: Int, environment: [String: String]) throws {
        guard let name = entry["name"]?.stringValue, !name.isEmpty else {
            throw Invalid("providers[\(index)] needs a 'name'")
        }
        let provider = Provider(name)
        var settings = providers.first { $0.provider == provider }
            ?? ProviderSettings(provider: provider, kind: .openAIChat, baseURL: "", apiKey: nil, channels: [Channel(name)])
        if let kind = entry["kind"]?.stringValue {
            guard kind == ProviderSettings.Kind.openAIChat.rawValue else {
                throw Invalid("providers[\(index)].kind '\(kind)' is unknown (known: openai-chat)")
            }
            settings.kind = ProviderSettings.Kind(rawValue: kind)
        }
        if let baseURL = entry["base_url"]?.stringValue { settings.baseURL = baseURL }
        if let variable = entry["api_key_env"]?.stringValue {
            settings.apiKeyVariable = variable
            settings.apiKey = environment[variable].flatMap { $0.isEmpty ? nil : Secret($0) }
        }
        if let key = entry["api_key"]?.stringValue { settings.apiKey = Secret(key) }
        if let channels = entry["channels"]?.arrayValue { settings.channels = Set(channels.compactMap { value in value.stringValue.map { Channel($0) } }) }
        if let models = entry["models"]?.arrayValue { settings.models = Set(models.compactMap(\.stringValue)) }
        guard !settings.baseURL.isEmpty else { throw Invalid("providers[\(index)] ('\(name)') needs a 'base_url'") }
        providers.removeAll { $0.provider == provider }
        providers.append(settings)
    }

    public static func loadTLS(certificate: String, privateKey: String) throws -> TLSServerConfiguration {
        guard let chain = try? String(contentsOfFile: certificate, encoding: .utf8) else {
            throw Invalid("cannot read TLS certificate file '\(certificate)'")
        }
        guard let key = try? String(contentsOfFile: privateKey, encoding: .utf8) else {
            throw Invalid("cannot read TLS private key file '\(privateKey)'")
        }
        return TLSServerConfiguration(certificateChainPEM: chain, privateKeyPEM: key)
    }

    /// Points every provider at one OpenAI-compatible base URL with one key (the emulator in `--demo`).
    public mutating func routeAllProviders(to baseURL: String, apiKey: String) {
        for index in providers.indices {
            providers[index].baseURL = baseURL
            providers[index].apiKey = Secret(apiKey)
        }
    }
}
