import Foundation
import ModelManagerServer
import Testing

@Suite struct ConfigurationFileTests {
    static func load(_ json: String) throws -> ServerConfiguration {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mm-config-\(UUID().uuidString).json")
            .path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ServerConfiguration.load(file: path, environment: [:])
    }

    @Test func outboxRetentionIsReadInHoursAndZeroKeepsEventsForEver() throws {
        #expect(try Self.load("{}").usage.outboxRetention == .seconds(7 * 86_400))
        #expect(try Self.load(#"{"usage": {"outbox_retention_hours": 24}}"#).usage.outboxRetention == .seconds(86_400))
        #expect(try Self.load(#"{"usage": {"outbox_retention_hours": 0}}"#).usage.outboxRetention == nil)
        #expect(throws: ServerConfiguration.Invalid.self) {
            try Self.load(#"{"usage": {"outbox_retention_hours": -1}}"#)
        }
        #expect(throws: ServerConfiguration.Invalid.self) {
            try Self.load(#"{"usage": {"outbox_retention_hours": "a week"}}"#)
        }
    }

    @Test func concurrentCommitsIsAPositiveCount() throws {
        #expect(try Self.load("{}").usage.concurrentCommits == 2)
        #expect(try Self.load(#"{"usage": {"concurrent_commits": 4}}"#).usage.concurrentCommits == 4)
        let error = #expect(throws: ServerConfiguration.Invalid.self) {
            try Self.load(#"{"usage": {"concurrent_commits": 0}}"#)
        }
        #expect("\(error!)".contains("usage.concurrent_commits must be a positive integer, got 0"))
    }

    @Test func alertThresholdsAndASignedWebhookAreReadAndCheckedWithoutShowingTheSecret() throws {
        #expect(try Self.load("{}").quotas.alertThresholds == [80, 90, 100])
        #expect(try Self.load("{}").alertWebhook == nil)
        let loaded = try Self.load(
            #"""
            {"alerts": {"thresholds_percent": [100, 50, 75, 50], "webhook_url": "https://hooks.example/T0/secret-path",
                        "webhook_secret": "hook-secret", "webhook_timeout_seconds": 2.5}}
            """#)
        #expect(loaded.quotas.alertThresholds == [50, 75, 100])
        #expect(loaded.alertWebhook?.url == "https://hooks.example/T0/secret-path")
        #expect(loaded.alertWebhook?.secret.revealed == "hook-secret")
        #expect(loaded.alertWebhook?.timeout == .milliseconds(2500))
        #expect(try Self.load(#"{"alerts": {"thresholds_percent": []}}"#).quotas.alertThresholds.isEmpty)
        for (json, message) in [
            (#"{"alerts": {"thresholds_percent": [80, 120]}}"#, "whole percentages from 1 to 100, got [80,120]"),
            (#"{"alerts": {"webhook_url": "https://hooks.example/x"}}"#, "needs a signing secret"),
            (#"{"alerts": {"webhook_secret": "s"}}"#, "secret is set but no URL"),
            (#"{"alerts": {"webhook_url": "ftp://hooks.example/x", "webhook_secret": "s"}}"#, "http:// or https://"),
            (#"{"alerts": {"webhook_timeout_seconds": 3}}"#, "webhook_url is not"),
        ] {
            let error = #expect(throws: ServerConfiguration.Invalid.self) { try Self.load(json) }
            #expect("\(error!)".contains(message), "\(error!)")
            #expect(!"\(error!)".contains("hooks.example/x"), "the URL's path may be a secret")
        }
        let fromEnvironment = try ServerConfiguration.load(
            file: nil,
            environment: [
                "MODEL_MANAGER_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/alerts",
                "MODEL_MANAGER_ALERT_WEBHOOK_SECRET": "env-secret",
            ])
        #expect(fromEnvironment.alertWebhook?.url == "http://127.0.0.1:9/alerts")
        #expect("\(fromEnvironment.alertWebhook!.secret)" == "<redacted>")
    }

    @Test func theCacheAndTasksSectionsAreReadAndChecked() throws {
        let loaded = try Self.load(
            #"""
            {"cache": {"max_bytes": 1048576, "default_ttl_seconds": 30, "routes": {"openai/*": 60}, "orgs": {"acme": 5},
                       "semantic": {"provider": "openai", "model": "text-embedding-3-small", "dimensions": 256,
                                    "threshold": 0.9, "by_default": true}},
             "tasks": {"workers": 2, "lease_seconds": 30, "retention_hours": 2, "idempotency_hours": 1,
                       "callback_secret": "s", "callback_allow_private": true}}
            """#)
        #expect(loaded.cache.maximumBytes == 1_048_576 && loaded.cache.defaultTTL == .seconds(30))
        #expect(loaded.cache.routes == ["openai/*": .seconds(60)] && loaded.cache.orgs == ["acme": .seconds(5)])
        #expect(loaded.cache.semantic?.channel == "openai" && loaded.cache.semantic?.dimensions == 256)
        #expect(loaded.cache.semantic?.threshold == 0.9 && loaded.cache.semantic?.byDefault == true)
        #expect(loaded.tasks.workers == 2 && loaded.tasks.lease == .seconds(30))
        #expect(loaded.tasks.retention == .seconds(7200) && loaded.tasks.idempotencyWindow == .seconds(3600))
        #expect(loaded.tasks.callbackSecret?.revealed == "s" && loaded.tasks.callbackAllowPrivate)
        for (json, message) in [
            (#"{"cache": {"semantic": {"provider": "openai"}}}"#, "needs the embeddings route's provider and model"),
            (#"{"cache": {"semantic": {"provider": "openai", "model": "m", "threshold": 1.5}}}"#, "got 1.5"),
            (#"{"cache": {"routes": {"openai/*": -1}}}"#, "cache.routes.openai/* must be a positive number"),
            (#"{"tasks": {"retention_hours": 0}}"#, "tasks.retention_hours must be a positive number of hours"),
            (#"{"tasks": {"callback_allow_private": "yes"}}"#, "must be true or false"),
        ] {
            let error = #expect(throws: ServerConfiguration.Invalid.self) { try Self.load(json) }
            #expect("\(error!)".contains(message), "\(error!)")
        }
    }

    @Test func theSharedCacheTierNeedsPostgreSQL() throws {
        let onSQLite = try Self.load(#"{"auth": {"jwt_secrets": ["s"]}, "cache": {"shared": true}}"#)
        let error = #expect(throws: ServerConfiguration.Invalid.self) { try onSQLite.validate() }
        #expect("\(error!)".contains("cache.shared needs the PostgreSQL ledger"))
        let onPostgres = try Self.load(
            #"{"auth": {"jwt_secrets": ["s"]}, "cache": {"shared": true}, "usage": {"database": "postgres://db/mm"}}"#)
        try onPostgres.validate()
    }

    @Test func namedClientsAndAPIKeySettingsAreReadAndCheckedNamingTheKey() throws {
        let loaded = try Self.load(
            #"""
            {"auth": {"jwt_secrets": ["plain-secret"], "api_key_pepper": "pepper", "api_key_cache_seconds": 0.5,
                      "api_key_cache_size": 50,
                      "clients": [{"name": "billing", "secret": "billing-secret", "orgs": ["org-a", "org-b"]},
                                  {"name": "reports", "secret": "reports-secret"}]}}
            """#)
        #expect(loaded.auth.apiKeyPepper?.revealed == "pepper")
        #expect(loaded.auth.apiKeyCacheLifetime == .milliseconds(500))
        #expect(loaded.auth.apiKeyCacheSize == 50)
        #expect(loaded.auth.clients.map(\.name) == ["billing", "reports"])
        #expect(loaded.auth.clients[0].orgIDs == ["org-a", "org-b"] && loaded.auth.clients[1].orgIDs.isEmpty)
        #expect(loaded.auth.allClientSecrets.map(\.revealed) == ["plain-secret", "billing-secret", "reports-secret"])
        try loaded.validate()

        let refusals: [(String, String)] = [
            (#"{"auth": {"clients": [{"name": "x"}]}}"#, "auth.clients[0].secret"),
            (#"{"auth": {"clients": [{"name": "x", "secret": "s", "org": ["a"]}]}}"#, "auth.clients[0].org"),
            (#"{"auth": {"clients": [{"name": "x", "secret": "s", "orgs": "a"}]}}"#, "auth.clients[0].orgs"),
            (#"{"auth": {"api_key_cache_seconds": 0}}"#, "auth.api_key_cache_seconds"),
            (#"{"auth": {"api_key_pepper": ""}}"#, "auth.api_key_pepper"),
        ]
        for (json, named) in refusals {
            let error = #expect(throws: (any Error).self) { try Self.load(json) }
            #expect("\(error.map { "\($0)" } ?? "")".contains(named), "\(json): \(error.map { "\($0)" } ?? "")")
        }
        let twice = try Self.load(
            #"{"auth": {"clients": [{"name": "x", "secret": "s1"}, {"name": "x", "secret": "s2"}]}}"#)
        let error = #expect(throws: ServerConfiguration.Invalid.self) { try twice.validate() }
        #expect("\(error!)".contains("'x' twice"))
        var sharesAdmin = try Self.load(#"{"auth": {"clients": [{"name": "x", "secret": "same"}]}}"#)
        sharesAdmin.auth.adminJWTSecrets = ["same"]
        #expect(throws: ServerConfiguration.Invalid.self) { try sharesAdmin.validate() }
    }
}
