import Foundation
public import ModelManagerCore
public import ModelManagerGRPC
public import ModelManagerProviders
public import ModelManagerUsage
public import ModelManagerWire

/// Everything `model-manager serve` needs, with embedded defaults; read from a JSON file
/// and then the environment (the environment wins).
public struct ServerConfiguration: Sendable {
    public struct GRPC: Sendable {
        public var address = "0.0.0.0:50051"
        public var tls: TLSServerConfiguration?
        public var maxReceiveMessageBytes = 64 << 20
        public var shutdownGrace: Duration = .seconds(10)
        /// Calls one HTTP/2 connection may run at once.
        public var maxConcurrentStreams = 1000
    }

    public struct Auth: Sendable {
        /// Every accepted HS256 secret of the clients; the first is the current one.
        public var jwtSecrets: [Secret] = []
        /// The secrets of admin tokens, never the clients' (a client could mint itself admin).
        /// None: the admin API is off.
        public var adminJWTSecrets: [Secret] = []
        public var leeway: Duration = .seconds(30)
        /// The server's secret for API key hashes (HMAC-SHA256). None: API keys are refused.
        /// Every instance on one database needs the same pepper.
        public var apiKeyPepper: Secret?
        /// How long a looked-up key is trusted before the database is asked again: a revoked
        /// key stops working on every instance within this time.
        public var apiKeyCacheLifetime: Duration = .seconds(1)
        /// Keys kept in that cache.
        public var apiKeyCacheSize = 10_000
        /// Named client secrets, each optionally bound to orgs; accepted beside `jwtSecrets`.
        public var clients: [JWTClient] = []

        /// Every client secret: the plain ones, then the named ones.
        public var allClientSecrets: [Secret] { jwtSecrets + clients.map(\.secret) }
    }

    /// A client that mints its own tokens with its own secret (`auth.clients`).
    public struct JWTClient: Sendable {
        public var name: String
        public var secret: Secret
        /// The orgs its tokens may act for; empty: any.
        public var orgIDs: Set<String>

        public init(name: String, secret: Secret, orgIDs: Set<String> = []) {
            self.name = name
            self.secret = secret
            self.orgIDs = orgIDs
        }
    }

    public struct HTTP: Sendable {
        /// The admin API and health (and the HTTP face of the invoke calls).
        public var address = "0.0.0.0:8080"
        /// A connection that sends nothing for this long (a half-sent request among them) is closed.
        public var idleTimeout: Duration = .seconds(60)
        /// Serve HTTPS with this certificate and key; plaintext without.
        public var tls: TLSServerConfiguration?
    }

    public var grpc = GRPC()
    public var http = HTTP()
    public var auth = Auth()
    public var limits = InvocationLimits()
    public var quotas = QuotaSettings()
    public var audit = AuditSettings()
    public var tasks = TaskSettings()
    public var cache = CacheSettings()
    public var metrics = MetricsSettings()
    public var tracing = TracingSettings()
    /// Where quota alerts are POSTed, signed (besides the brokers); nil: nowhere.
    public var alertWebhook: WebhookPublisher.Settings?
    /// Nesting and size of a request's `extra`, checked on its bytes before decoding.
    public var wire = WireLimits()
    /// Caller headers kept with each usage record.
    public var recordedHeaders = RecordedHeaders()
    /// Connections to one upstream host at once; at least `limits.maximumConcurrentCalls`, so no
    /// call waits for a connection.
    public var upstreamConnectionsPerHost: Int?
    /// An upstream connection unused this long is closed.
    public var upstreamIdleTimeout: Duration = .seconds(60)
    /// PEM certificates trusted for upstream HTTPS besides the system's (a private CA, or a proxy
    /// that inspects TLS).
    public var upstreamCAFile: String?
    public var usage = UsageService.Configuration()
    public var providers: [ProviderSettings] = []
    /// Model names that stand for a list of upstream models, tried in order.
    public var aliases: [ModelAlias] = []
    /// How long a credential that answered 429 or 5xx is skipped (unless the upstream said Retry-After).
    public var credentialCooldown: Duration = .seconds(30)

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
        if let secret = environment["MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY"], !secret.isEmpty {
            configuration.auth.adminJWTSecrets.removeAll { $0.revealed == secret }
            configuration.auth.adminJWTSecrets.insert(Secret(secret), at: 0)
        }
        if let pepper = environment["MODEL_MANAGER_API_KEY_PEPPER"], !pepper.isEmpty {
            configuration.auth.apiKeyPepper = Secret(pepper)
        }
        try configuration.applyUsage(environment: environment)
        if let token = environment["MODEL_MANAGER_METRICS_TOKEN"], !token.isEmpty {
            configuration.metrics.bearerToken = Secret(token)
        }
        if let secret = environment["MODEL_MANAGER_TASK_CALLBACK_SECRET"], !secret.isEmpty {
            configuration.tasks.callbackSecret = Secret(secret)
        }
        try configuration.applyAlertWebhook(
            url: environment["MODEL_MANAGER_ALERT_WEBHOOK_URL"],
            secret: environment["MODEL_MANAGER_ALERT_WEBHOOK_SECRET"])
        if let previous = environment["MODEL_MANAGER_SERVER_JWT_PREVIOUS_SECRET_KEYS"] {
            for secret in previous.split(separator: ",").map(String.init) where !secret.isEmpty {
                if !configuration.auth.jwtSecrets.contains(Secret(secret)) {
                    configuration.auth.jwtSecrets.append(Secret(secret))
                }
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
        let unknown = ConfigurationSchema.unknownKeys(in: root)
        guard unknown.isEmpty else {
            let keys = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw Invalid("configuration file '\(path)' has unknown \(unknown.count == 1 ? "key" : "keys") \(keys)")
        }
        if let grpc = root["grpc"] {
            if let address = grpc["address"]?.stringValue { self.grpc.address = address }
            if let bytes = try Self.count(grpc, "max_receive_message_bytes", section: "grpc") {
                self.grpc.maxReceiveMessageBytes = bytes
            }
            if let grace = grpc["shutdown_grace_seconds"]?.doubleValue {
                self.grpc.shutdownGrace = Duration.clampedSeconds(grace) ?? self.grpc.shutdownGrace
            }
            if let streams = try Self.count(grpc, "max_concurrent_streams", section: "grpc") {
                self.grpc.maxConcurrentStreams = streams
            }
            if let tls = grpc["tls"] { self.grpc.tls = try Self.tls(tls, section: "grpc.tls") }
        }
        if let auth = root["auth"] {
            for secret in auth["jwt_secrets"]?.arrayValue ?? [] {
                guard let text = secret.stringValue, !text.isEmpty else {
                    throw Invalid("auth.jwt_secrets must hold non-empty strings")
                }
                self.auth.jwtSecrets.append(Secret(text))
            }
            for secret in auth["admin_jwt_secrets"]?.arrayValue ?? [] {
                guard let text = secret.stringValue, !text.isEmpty else {
                    throw Invalid("auth.admin_jwt_secrets must hold non-empty strings")
                }
                self.auth.adminJWTSecrets.append(Secret(text))
            }
            if let leeway = auth["leeway_seconds"]?.doubleValue {
                self.auth.leeway = Duration.clampedSeconds(leeway) ?? self.auth.leeway
            }
            if let pepper = auth["api_key_pepper"] {
                guard let text = pepper.stringValue, !text.isEmpty else {
                    throw Invalid("auth.api_key_pepper must be a non-empty string")
                }
                self.auth.apiKeyPepper = Secret(text)
            }
            if let duration = try Self.seconds(auth, "api_key_cache_seconds", section: "auth") {
                self.auth.apiKeyCacheLifetime = duration
            }
            if let size = try Self.count(auth, "api_key_cache_size", section: "auth") {
                self.auth.apiKeyCacheSize = size
            }
            for (index, client) in (auth["clients"]?.arrayValue ?? []).enumerated() {
                self.auth.clients.append(try Self.client(client, at: "auth.clients[\(index)]"))
            }
        }
        if let quotas = root["quotas"] {
            if let zone = quotas["time_zone"] {
                guard let name = zone.stringValue, let timeZone = TimeZone(identifier: name) else {
                    throw Invalid(
                        "quotas.time_zone must be a time zone name such as 'Europe/Berlin', got \(zone.jsonText)")
                }
                self.quotas.timeZone = timeZone
            }
            if let tokens = try Self.count(quotas, "default_max_tokens", section: "quotas") {
                self.quotas.defaultMaxTokens = tokens
            }
            if let duration = try Self.seconds(quotas, "cache_seconds", section: "quotas") {
                self.quotas.cacheLifetime = duration
            }
            if let size = try Self.count(quotas, "cache_size", section: "quotas") { self.quotas.cacheSize = size }
            if let interval = try Self.seconds(quotas, "counter_flush_seconds", section: "quotas") {
                self.quotas.counterFlushInterval = interval
            }
        }
        if let alerts = root["alerts"] { try applyAlerts(alerts) }
        if let tasks = root["tasks"] { try applyTasks(tasks) }
        if let cache = root["cache"] { try applyCache(cache) }
        if let tracing = root["tracing"] { try applyTracing(tracing) }
        if let metrics = root["metrics"] {
            if let enabled = try Self.flag(metrics, "enabled", section: "metrics") { self.metrics.enabled = enabled }
            if let token = metrics["bearer_token"] {
                guard let text = token.stringValue, !text.isEmpty else {
                    throw Invalid("metrics.bearer_token must be a non-empty string")
                }
                self.metrics.bearerToken = Secret(text)
            }
            if let labels = try Self.count(metrics, "max_model_labels", section: "metrics") {
                self.metrics.maximumModelLabels = labels
            }
        }
        if let audit = root["audit"] {
            if let duration = try Self.seconds(audit, "flush_seconds", section: "audit") {
                self.audit.flushInterval = duration
            }
            if let pending = try Self.count(audit, "max_pending_denials", section: "audit") {
                self.audit.maximumPendingDenials = pending
            }
        }
        if let limits = root["limits"] {
            if let calls = try Self.count(limits, "max_concurrent_calls", section: "limits") {
                self.limits.maximumConcurrentCalls = calls
            }
            if let items = try Self.count(limits, "max_batch_items", section: "limits") {
                self.limits.maximumBatchItems = items
            }
            if let width = try Self.count(limits, "batch_concurrency", section: "limits") {
                self.limits.batchConcurrency = width
            }
            if let connections = try Self.count(limits, "upstream_connections_per_host", section: "limits") {
                upstreamConnectionsPerHost = connections
            }
            if let idle = try Self.seconds(limits, "upstream_idle_seconds", section: "limits") {
                upstreamIdleTimeout = idle
            }
            if let depth = try Self.count(limits, "max_extra_depth", section: "limits") { wire.maximumDepth = depth }
            if let values = try Self.count(limits, "max_extra_values", section: "limits") {
                wire.maximumValues = values
            }
        }
        if let caFile = root["upstream_tls"]?["ca_file"] {
            guard let path = caFile.stringValue, !path.isEmpty else {
                throw Invalid("upstream_tls.ca_file must be the path of a PEM file, not \(caFile.jsonText)")
            }
            upstreamCAFile = path
        }
        for (index, entry) in (root["providers"]?.arrayValue ?? []).enumerated() {
            try upsertProvider(entry, index: index, environment: environment)
        }
        if let http = root["http"] {
            if let address = http["address"]?.stringValue { self.http.address = address }
            if let idle = http["idle_timeout_seconds"]?.doubleValue {
                self.http.idleTimeout = Duration.clampedSeconds(idle) ?? self.http.idleTimeout
            }
            if let tls = http["tls"] { self.http.tls = try Self.tls(tls, section: "http.tls") }
        }
        if let usageSettings = root["usage"] {
            if let database = usageSettings["database"]?.stringValue { try setDatabase(database) }
            if let nats = usageSettings["nats_url"]?.stringValue { usage.natsURL = nats }
            if let mqtt = usageSettings["mqtt_url"]?.stringValue { try setMQTT(mqtt) }
            if let mode = usageSettings["ledger_mode"]?.stringValue { try setLedgerMode(mode) }
            if let prices = usageSettings["price_file"]?.stringValue { usage.priceFile = prices }
            if let spill = usageSettings["spill_file"]?.stringValue { usage.spillFile = spill }
            if let retention = usageSettings["outbox_retention_hours"] {
                guard let hours = retention.doubleValue, hours >= 0 else {
                    throw Invalid(
                        "usage.outbox_retention_hours must be a number of hours (0: keep for ever), got \(retention.jsonText)"
                    )
                }
                usage.outboxRetention = hours == 0 ? nil : Duration.clampedSeconds(hours * 3600)
            }
            if let commits = try Self.count(usageSettings, "concurrent_commits", section: "usage") {
                usage.concurrentCommits = commits
            }
            if let names = usageSettings["recorded_headers"] {
                guard let list = names.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw Invalid("usage.recorded_headers must be an array of header names, got \(names.jsonText)")
                }
                recordedHeaders.names = Set(list.compactMap { $0.stringValue?.lowercased() })
            }
        }
        if let cooldown = root["credential_cooldown_seconds"]?.doubleValue {
            credentialCooldown = Duration.clampedSeconds(cooldown) ?? credentialCooldown
        }
        for (name, targets) in root["aliases"]?.objectValue ?? [:] {
            aliases.removeAll { $0.name == name }
            aliases.append(try Self.alias(name, targets))
        }
    }

    /// A positive integer setting, or an error naming it.
    private static func client(_ value: JSONValue, at path: String) throws -> JWTClient {
        guard let name = value["name"]?.stringValue, !name.isEmpty else {
            throw Invalid("\(path).name must be a non-empty string")
        }
        guard let secret = value["secret"]?.stringValue, !secret.isEmpty else {
            throw Invalid("\(path).secret must be a non-empty string")
        }
        var orgIDs: Set<String> = []
        if let orgs = value["orgs"] {
            guard let list = orgs.arrayValue?.compactMap(\.stringValue), list.count == orgs.arrayValue?.count,
                !list.contains("")
            else {
                throw Invalid("\(path).orgs must be an array of non-empty strings, got \(orgs.jsonText)")
            }
            orgIDs = Set(list)
        }
        return JWTClient(name: name, secret: Secret(secret), orgIDs: orgIDs)
    }

    private mutating func applyCache(_ section: JSONValue) throws {
        if let bytes = try Self.count(section, "max_bytes", section: "cache") { cache.maximumBytes = bytes }
        if let ttl = try Self.seconds(section, "default_ttl_seconds", section: "cache") { cache.defaultTTL = ttl }
        if let shared = try Self.flag(section, "shared", section: "cache") { cache.shared = shared }
        if let semantic = section["semantic"] {
            guard let provider = semantic["provider"]?.stringValue, let model = semantic["model"]?.stringValue else {
                throw Invalid(
                    "cache.semantic needs the embeddings route's provider and model, got \(semantic.jsonText)")
            }
            var settings = SemanticCacheSettings(
                provider: Provider(provider), channel: Channel(semantic["channel"]?.stringValue ?? provider),
                model: model)
            settings.dimensions = try Self.count(semantic, "dimensions", section: "cache.semantic")
            if let threshold = semantic["threshold"] {
                guard let value = threshold.doubleValue, value > 0, value <= 1 else {
                    throw Invalid(
                        "cache.semantic.threshold must be a cosine similarity in (0, 1], got \(threshold.jsonText)")
                }
                settings.threshold = value
            }
            if let byDefault = try Self.flag(semantic, "by_default", section: "cache.semantic") {
                settings.byDefault = byDefault
            }
            cache.semantic = settings
        }
        for (name, map) in [("routes", \CacheSettings.routes), ("orgs", \CacheSettings.orgs)] {
            guard let entries = section[name] else { continue }
            guard let object = entries.objectValue else {
                throw Invalid("cache.\(name) must map names to a TTL in seconds, got \(entries.jsonText)")
            }
            for key in object.keys {
                guard let ttl = try Self.seconds(entries, key, section: "cache.\(name)") else { continue }
                cache[keyPath: map][key] = ttl
            }
        }
    }

    private mutating func applyTasks(_ section: JSONValue) throws {
        if let workers = try Self.count(section, "workers", section: "tasks") { tasks.workers = workers }
        if let lease = try Self.seconds(section, "lease_seconds", section: "tasks") { tasks.lease = lease }
        if let poll = try Self.seconds(section, "poll_seconds", section: "tasks") { tasks.pollInterval = poll }
        if let attempts = try Self.count(section, "max_attempts", section: "tasks") { tasks.maximumAttempts = attempts }
        if let most = try Self.count(section, "max_processing_per_org", section: "tasks") {
            tasks.maximumProcessingPerOrg = most
        }
        if let retention = try Self.seconds(section, "retention_hours", section: "tasks", inHours: true) {
            tasks.retention = retention
        }
        if let window = try Self.seconds(section, "idempotency_hours", section: "tasks", inHours: true) {
            tasks.idempotencyWindow = window
        }
        if let secret = section["callback_secret"] {
            guard let text = secret.stringValue, !text.isEmpty else {
                throw Invalid("tasks.callback_secret must be a non-empty string")
            }
            tasks.callbackSecret = Secret(text)
        }
        if let retry = try Self.seconds(section, "callback_retry_seconds", section: "tasks") {
            tasks.callbackRetryFor = retry
        }
        if let timeout = try Self.seconds(section, "callback_timeout_seconds", section: "tasks") {
            tasks.callbackTimeout = timeout
        }
        if let allow = try Self.flag(section, "callback_allow_private", section: "tasks") {
            tasks.callbackAllowPrivate = allow
        }
    }

    private mutating func applyAlerts(_ alerts: JSONValue) throws {
        if let thresholds = alerts["thresholds_percent"] {
            guard let list = thresholds.arrayValue?.compactMap(\.integerValue),
                list.count == thresholds.arrayValue?.count, list.allSatisfy({ (1...100).contains($0) })
            else {
                throw Invalid(
                    "alerts.thresholds_percent must be a list of whole percentages from 1 to 100, got \(thresholds.jsonText)"
                )
            }
            quotas.alertThresholds = Array(Set(list.map(Int.init))).sorted()
        }
        try applyAlertWebhook(url: alerts["webhook_url"]?.stringValue, secret: alerts["webhook_secret"]?.stringValue)
        if let timeout = try Self.seconds(alerts, "webhook_timeout_seconds", section: "alerts") {
            guard alertWebhook != nil else {
                throw Invalid("alerts.webhook_timeout_seconds is set but alerts.webhook_url is not")
            }
            alertWebhook?.timeout = timeout
        }
    }

    private mutating func applyTracing(_ section: JSONValue) throws {
        if let enabled = try Self.flag(section, "enabled", section: "tracing") { tracing.enabled = enabled }
        if let endpoint = section["endpoint"] {
            guard let url = endpoint.stringValue, url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw Invalid("tracing.endpoint must be an http(s) URL of an OTLP collector, got \(endpoint.jsonText)")
            }
            tracing.endpoint = url
        }
        if let encoding = section["encoding"] {
            guard let value = encoding.stringValue.flatMap(TracingSettings.Encoding.init(rawValue:)) else {
                throw Invalid("tracing.encoding must be \"protobuf\" or \"json\", got \(encoding.jsonText)")
            }
            tracing.encoding = value
        }
        if let name = section["service_name"] {
            guard let text = name.stringValue, !text.isEmpty else {
                throw Invalid("tracing.service_name must be a non-empty string, got \(name.jsonText)")
            }
            tracing.serviceName = text
        }
        if let ratio = section["sample_ratio"] {
            guard let value = ratio.doubleValue, (0...1).contains(value) else {
                throw Invalid("tracing.sample_ratio must be a number from 0 to 1, got \(ratio.jsonText)")
            }
            tracing.sampleRatio = value
        }
        if let delay = try Self.seconds(section, "export_delay_seconds", section: "tracing") {
            tracing.exportDelay = delay
        }
        if let spans = try Self.count(section, "max_queued_spans", section: "tracing") {
            tracing.maximumQueuedSpans = spans
        }
    }

    /// A URL or a secret given here replaces the one set before; together they must make a
    /// signed http(s) webhook.
    private mutating func applyAlertWebhook(url: String?, secret: String?) throws {
        let url = url.flatMap { $0.isEmpty ? nil : $0 }
        let secret = secret.flatMap { $0.isEmpty ? nil : $0 }
        guard url != nil || secret != nil else { return }
        guard let url = url ?? alertWebhook?.url else {
            throw Invalid(
                "an alert webhook secret is set but no URL (alerts.webhook_url or MODEL_MANAGER_ALERT_WEBHOOK_URL)")
        }
        guard let scheme = URLComponents(string: url)?.scheme, ["http", "https"].contains(scheme),
            URLComponents(string: url)?.host?.isEmpty == false
        else {
            throw Invalid("the alert webhook URL must be http:// or https:// with a host, got '\(url.prefix(8))…'")
        }
        guard let secret = secret.map { Secret($0) } ?? alertWebhook?.secret else {
            throw Invalid(
                "the alert webhook needs a signing secret (alerts.webhook_secret or MODEL_MANAGER_ALERT_WEBHOOK_SECRET)"
            )
        }
        var settings = WebhookPublisher.Settings(url: url, secret: secret)
        settings.timeout = alertWebhook?.timeout ?? settings.timeout
        alertWebhook = settings
    }

    /// A positive number of seconds (or of hours) at `key`, if there.
    private static func seconds(_ section: JSONValue, _ key: String, section name: String, inHours: Bool = false)
        throws -> Duration?
    {
        guard let value = section[key] else { return nil }
        guard let number = value.doubleValue, number > 0,
            let duration = Duration.clampedSeconds(number * (inHours ? 3600 : 1))
        else {
            throw Invalid(
                "\(name).\(key) must be a positive number of \(inHours ? "hours" : "seconds"), got \(value.jsonText)")
        }
        return duration
    }

    private static func flag(_ section: JSONValue, _ key: String, section name: String) throws -> Bool? {
        guard let value = section[key] else { return nil }
        guard let flag = value.boolValue else {
            throw Invalid("\(name).\(key) must be true or false, got \(value.jsonText)")
        }
        return flag
    }

    private static func count(_ section: JSONValue, _ key: String, section name: String) throws -> Int? {
        guard let value = section[key] else { return nil }
        guard let number = value.integerValue, number >= 1, number <= Int64(Int32.max) else {
            throw Invalid("\(name).\(key) must be a positive integer, got \(value.jsonText)")
        }
        return Int(number)
    }

    /// Checks what no single setting can: the admin secrets are not the clients'.
    public func validate() throws {
        guard !auth.allClientSecrets.isEmpty else {
            throw Invalid(
                "no JWT secret configured: set MODEL_MANAGER_SERVER_JWT_SECRET_KEY or auth.jwt_secrets in the configuration file"
            )
        }
        let names = auth.clients.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw Invalid("auth.clients names '\(repeated)' twice")
        }
        if auth.adminJWTSecrets.contains(where: auth.allClientSecrets.contains) {
            throw Invalid(
                "the admin JWT secret must differ from every client JWT secret, or any client could make itself admin")
        }
        if cache.shared, case .sqlite = usage.database {
            throw Invalid(
                "cache.shared needs the PostgreSQL ledger (usage.database postgres://…): with SQLite there is one instance, and its cache is already whole"
            )
        }
        guard limits.batchConcurrency <= limits.maximumConcurrentCalls else {
            throw Invalid(
                "limits.batch_concurrency (\(limits.batchConcurrency)) exceeds limits.max_concurrent_calls (\(limits.maximumConcurrentCalls))"
            )
        }
    }

    /// `usage` from the file has been applied; the environment wins over it.
    private mutating func applyUsage(environment: [String: String]) throws {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let path = value("MODEL_MANAGER_SQLITE_PATH") { usage.database = .sqlite(path: path) }
        if let url = value("MODEL_MANAGER_DATABASE_URL") { try setDatabase(url) }
        if let url = value("MODEL_MANAGER_NATS_URL") { usage.natsURL = url }
        if let url = value("MODEL_MANAGER_MQTT_URL") { try setMQTT(url) }
        if let mode = value("MODEL_MANAGER_LEDGER_MODE") { try setLedgerMode(mode) }
        if let path = value("MODEL_MANAGER_PRICE_FILE") { usage.priceFile = path }
    }

    /// `postgres://…` for PostgreSQL, `sqlite:PATH` or a plain path for SQLite.
    public mutating func setDatabase(_ url: String) throws {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            usage.database = .postgres(url: url)
        } else if url.hasPrefix("sqlite:") {
            usage.database = .sqlite(path: String(url.dropFirst(7)))
        } else if !url.contains("://") {
            usage.database = .sqlite(path: url)
        } else {
            throw Invalid("database URL must start with postgres:// or sqlite: (got a \(url.prefix { $0 != ":" }) URL)")
        }
    }

    /// `mqtt://host:port[/topic-prefix/]`.
    public mutating func setMQTT(_ url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "mqtt", let host = components.host
        else {
            throw Invalid("MQTT URL must look like mqtt://host:1883/billing/usage/recorded/, got '\(url)'")
        }
        let prefix = components.path.count > 1 ? String(components.path.dropFirst()) : "billing/usage/recorded/"
        usage.mqtt = (host, components.port ?? 1883, prefix.hasSuffix("/") ? prefix : prefix + "/")
    }

    public mutating func setLedgerMode(_ mode: String) throws {
        switch mode {
        case "durable": usage.ledgerMode = .durable
        case "buffered": usage.ledgerMode = .buffered(capacity: 10_000)
        default: throw Invalid("ledger mode must be 'durable' or 'buffered', got '\(mode)'")
        }
    }

    private static func alias(_ name: String, _ targets: JSONValue) throws -> ModelAlias {
        guard case .array(let list) = targets, !list.isEmpty else {
            throw Invalid("aliases.\(name) must be a non-empty array of targets")
        }
        return ModelAlias(
            name: name,
            targets: try list.enumerated().map { index, target in
                guard let provider = target["provider"]?.stringValue, let model = target["model"]?.stringValue else {
                    throw Invalid("aliases.\(name)[\(index)] needs 'provider' and 'model'")
                }
                return ModelAlias.Target(
                    provider: Provider(provider), channel: Channel(target["channel"]?.stringValue ?? "normal"),
                    model: model)
            })
    }

    private mutating func upsertProvider(_ entry: JSONValue, index: Int, environment: [String: String]) throws {
        guard let name = entry["name"]?.stringValue, !name.isEmpty else {
            throw Invalid("providers[\(index)] needs a 'name'")
        }
        let provider = Provider(name)
        let channels = entry["channels"]?.arrayValue?.compactMap { value in value.stringValue.map { Channel($0) } }
        let existing = providers.firstIndex { settings in
            guard settings.provider == provider else { return false }
            guard let first = channels?.first else { return true }
            return settings.channels.contains(first)
        }
        var settings =
            existing.map { providers[$0] }
            ?? ProviderSettings(
                provider: provider, kind: .openAIChat, baseURL: "", credentials: [], channels: [Channel(name)])
        if let kind = entry["kind"]?.stringValue {
            guard let known = ProviderSettings.Kind.all.first(where: { $0.rawValue == kind }) else {
                throw Invalid(
                    "providers[\(index)].kind '\(kind)' is unknown (known: \(ProviderSettings.Kind.all.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            settings.kind = known
        }
        if let baseURL = entry["base_url"]?.stringValue { settings.baseURL = baseURL }
        var credentials: [Credential] = []
        if let variable = entry["api_key_env"]?.stringValue {
            settings.credentialVariables = [variable]
            credentials += (environment[variable] ?? "").split(separator: ",").map {
                .apiKey(Secret($0.trimmingCharacters(in: .whitespaces)))
            }
        }
        if let key = entry["api_key"]?.stringValue { credentials.append(.apiKey(Secret(key))) }
        for key in entry["api_keys"]?.arrayValue ?? [] {
            guard let text = key.stringValue, !text.isEmpty else {
                throw Invalid("providers[\(index)].api_keys must hold non-empty strings")
            }
            credentials.append(.apiKey(Secret(text)))
        }
        if let path = entry["service_account_file"]?.stringValue {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Invalid("cannot read service account file '\(path)'")
            }
            let json = try JSONValue(parsing: [UInt8](data))
            credentials.append(.serviceAccount(try ServiceAccount(json: json, source: path)))
        }
        if !credentials.isEmpty { settings.credentials = credentials }
        if let channels { settings.channels = channels }
        if let models = entry["models"]?.arrayValue { settings.models = Set(models.compactMap(\.stringValue)) }
        if let version = entry["api_version"]?.stringValue { settings.apiVersion = version }
        if let project = entry["project"]?.stringValue { settings.project = project }
        if let location = entry["location"]?.stringValue { settings.location = location }
        for (model, names) in entry["deployments"]?.objectValue ?? [:] {
            settings.deployments[model] =
                names.arrayValue?.compactMap(\.stringValue) ?? names.stringValue.map { [$0] } ?? []
        }
        guard !settings.baseURL.isEmpty else { throw Invalid("providers[\(index)] ('\(name)') needs a 'base_url'") }
        if let existing { providers[existing] = settings } else { providers.append(settings) }
    }

    private static func tls(_ section: JSONValue, section name: String) throws -> TLSServerConfiguration {
        guard let certificate = section["certificate_file"]?.stringValue,
            let key = section["private_key_file"]?.stringValue
        else {
            throw Invalid("\(name) needs 'certificate_file' and 'private_key_file'")
        }
        return try loadTLS(certificate: certificate, privateKey: key)
    }

    public static func loadTLS(certificate: String, privateKey: String) throws -> TLSServerConfiguration {
        guard let chain = try? String(contentsOfFile: certificate, encoding: .utf8) else {
            throw Invalid("cannot read TLS certificate file '\(certificate)'")
        }
        guard let key = try? String(contentsOfFile: privateKey, encoding: .utf8) else {
            throw Invalid("cannot read TLS private key file '\(privateKey)'")
        }
        return TLSServerConfiguration(certificateChainPEM: chain, privateKeyPEM: Secret(key))
    }

    /// Points every provider at the provider emulator (`serve --demo`, tests): `root` is its
    /// base URL, `apiKey` the key it accepts, `serviceAccount` the account its token endpoint trusts.
    public mutating func routeAllProviders(toEmulatorAt root: String, apiKey: String, serviceAccount: ServiceAccount) {
        for index in providers.indices {
            let kind = providers[index].kind
            providers[index].baseURL = kind == .openAI || kind == .openAIChat ? root + "/v1" : root
            providers[index].credentials =
                kind == .googleVertex ? [.serviceAccount(serviceAccount)] : [.apiKey(Secret(apiKey))]
            if kind == .googleVertex { providers[index].project = serviceAccount.projectID }
        }
    }
}
