import ModelManagerCore

/// Every key the configuration file may hold. A key outside it is an error naming the key and
/// the file: a misspelt `max_concurrent_calls` must not silently leave the default in force.
/// Keys starting with `_` are comments.
enum ConfigurationSchema {
    /// Section pattern → its keys. `providers[]` is each element of `providers`; a section whose
    /// keys are free names (an alias, a model's deployments) is absent, and so is not checked.
    static let sections: [String: Set<String>] = [
        "": [
            "grpc", "http", "auth", "usage", "limits", "quotas", "alerts", "tasks", "cache", "audit", "providers",
            "aliases", "metrics", "tracing", "upstream_tls",
            "credential_cooldown_seconds",
        ],
        "quotas": ["time_zone", "default_max_tokens", "cache_seconds", "cache_size", "counter_flush_seconds"],
        "alerts": ["thresholds_percent", "webhook_url", "webhook_secret", "webhook_timeout_seconds"],
        "audit": ["flush_seconds", "max_pending_denials"],
        "metrics": ["enabled", "bearer_token", "max_model_labels"],
        "tracing": [
            "enabled", "endpoint", "encoding", "service_name", "sample_ratio", "export_delay_seconds",
            "max_queued_spans",
        ],
        "cache": ["max_bytes", "default_ttl_seconds", "routes", "orgs", "semantic", "shared"],
        "cache.semantic": ["provider", "channel", "model", "dimensions", "threshold", "by_default"],
        "tasks": [
            "workers", "lease_seconds", "poll_seconds", "max_attempts", "max_processing_per_org", "retention_hours",
            "idempotency_hours", "callback_secret", "callback_retry_seconds", "callback_timeout_seconds",
            "callback_allow_private",
        ],
        "grpc": ["address", "max_receive_message_bytes", "shutdown_grace_seconds", "tls", "max_concurrent_streams"],
        "grpc.tls": ["certificate_file", "private_key_file"],
        "http": ["address", "idle_timeout_seconds", "tls"],
        "http.tls": ["certificate_file", "private_key_file"],
        "auth": [
            "jwt_secrets", "admin_jwt_secrets", "leeway_seconds", "api_key_pepper", "api_key_cache_seconds",
            "api_key_cache_size", "clients",
        ],
        "auth.clients[]": ["name", "secret", "orgs"],
        "usage": [
            "database", "nats_url", "mqtt_url", "ledger_mode", "price_file", "recorded_headers", "spill_file",
            "outbox_retention_hours", "concurrent_commits",
        ],
        "limits": [
            "max_concurrent_calls", "max_batch_items", "batch_concurrency", "upstream_connections_per_host",
            "upstream_idle_seconds", "max_extra_depth", "max_extra_values",
        ],
        "upstream_tls": ["ca_file"],
        "providers[]": [
            "name", "kind", "base_url", "api_key_env", "api_key", "api_keys", "service_account_file", "channels",
            "models",
            "api_version", "project", "location", "deployments",
        ],
        "aliases.*[]": ["provider", "channel", "model"],
    ]

    /// The dotted paths of keys the schema does not know, in file order of discovery.
    static func unknownKeys(in value: JSONValue, pattern: String = "", path: String = "") -> [String] {
        switch value {
        case .object(let object):
            let known = sections[pattern]
            var unknown: [String] = []
            for key in object.keys.sorted() {
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                // `_comment` and any other key starting with '_' is a comment, at any level.
                if key.hasPrefix("_") { continue }
                if let known, !known.contains(key) {
                    unknown.append(keyPath)
                    continue
                }
                let childPattern = known == nil ? "\(pattern).*" : pattern.isEmpty ? key : "\(pattern).\(key)"
                unknown += unknownKeys(in: object[key]!, pattern: childPattern, path: keyPath)
            }
            return unknown
        case .array(let elements):
            return elements.enumerated().flatMap { index, element in
                unknownKeys(in: element, pattern: pattern + "[]", path: "\(path)[\(index)]")
            }
        default:
            return []
        }
    }
}
