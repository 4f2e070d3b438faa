/// The ledger's schema, the same on SQLite and PostgreSQL. Indexes for the admin queries
/// are part of the first migration.
enum Schema {
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            statements: [
                """
                CREATE TABLE usage_records (
                    id TEXT PRIMARY KEY,
                    request_id TEXT NOT NULL,
                    origin_request_id TEXT,
                    org_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    client_type TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    invoke_type TEXT NOT NULL,
                    model TEXT NOT NULL,
                    prompt_tokens BIGINT NOT NULL,
                    completion_tokens BIGINT NOT NULL,
                    total_tokens BIGINT NOT NULL,
                    cached_tokens BIGINT NOT NULL,
                    reasoning_tokens BIGINT NOT NULL,
                    image_count BIGINT NOT NULL,
                    cost DOUBLE PRECISION,
                    currency TEXT NOT NULL,
                    latency_ms BIGINT NOT NULL,
                    ttft_ms BIGINT,
                    stream BOOLEAN NOT NULL,
                    success BOOLEAN NOT NULL,
                    error TEXT,
                    metadata TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX usage_records_created_at ON usage_records (created_at)",
                "CREATE INDEX usage_records_user_created ON usage_records (user_id, created_at)",
                "CREATE INDEX usage_records_org_created ON usage_records (org_id, created_at)",
                "CREATE INDEX usage_records_model_created ON usage_records (model, created_at)",
                """
                CREATE TABLE outbox (
                    record_id TEXT NOT NULL,
                    sink TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    sent_at BIGINT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (record_id, sink)
                )
                """,
                "CREATE INDEX outbox_pending ON outbox (sink, created_at) WHERE sent_at IS NULL",
            ]),
        // Records the database refused however often they were retried: kept whole as JSON (NUL
        // and every other byte escaped), out of the way of the records after them.
        Migration(
            version: 2,
            statements: [
                """
                CREATE TABLE dead_letters (
                    record_id TEXT PRIMARY KEY,
                    payload TEXT NOT NULL,
                    error TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "ALTER TABLE usage_records ADD COLUMN token_subject TEXT",
                // Outbox rows are claimed for a while by one relay (several instances share one
                // PostgreSQL); a row a broker refuses for good is set aside with its error.
                "ALTER TABLE outbox ADD COLUMN claimed_until BIGINT",
                "ALTER TABLE outbox ADD COLUMN failed_at BIGINT",
                "ALTER TABLE outbox ADD COLUMN last_error TEXT",
                "DROP INDEX outbox_pending",
                "CREATE INDEX outbox_pending ON outbox (sink, created_at) WHERE sent_at IS NULL AND failed_at IS NULL",
                // One row that /readyz rewrites: readiness means the ledger takes a write now.
                "CREATE TABLE readiness (id INTEGER PRIMARY KEY, checked_at BIGINT NOT NULL)",
            ]),
        // Published rows are deleted once older than the outbox retention, oldest first.
        Migration(
            version: 3,
            statements: ["CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL"]),
        // API keys: only a keyed hash of each key is kept; lists are comma-separated, empty = any.
        Migration(
            version: 4,
            statements: [
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, name TEXT NOT NULL, org_id TEXT NOT NULL,
                    user_id TEXT, scopes TEXT NOT NULL, allowed_providers TEXT NOT NULL,
                    allowed_models TEXT NOT NULL, expires_at BIGINT, revoked_at BIGINT,
                    created_at BIGINT NOT NULL, rotated_at BIGINT)
                """,
                "CREATE INDEX api_keys_org ON api_keys (org_id, created_at)",
            ]),
        // Quotas and rate limits: limits per org, key or user (for one model, or all: '') and what
        // each window has used (reserved before the upstream call, settled on the real usage after it).
        Migration(
            version: 5,
            statements: [
                """
                CREATE TABLE quotas (
                    subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, model TEXT NOT NULL, period TEXT NOT NULL,
                    metric TEXT NOT NULL, amount DOUBLE PRECISION NOT NULL, updated_at BIGINT NOT NULL,
                    PRIMARY KEY (subject_kind, subject_id, model, period, metric))
                """,
                """
                CREATE TABLE quota_usage (
                    subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, window_key TEXT NOT NULL,
                    calls BIGINT NOT NULL, tokens BIGINT NOT NULL, cost DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (subject_kind, subject_id, window_key))
                """,
            ]),
        // The audit log: appended to, never changed.
        Migration(
            version: 6,
            statements: [
                """
                CREATE TABLE audit_log (
                    id TEXT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                    target TEXT NOT NULL, org_id TEXT, details TEXT NOT NULL, address TEXT)
                """,
                "CREATE INDEX audit_log_at ON audit_log (at)",
                "CREATE INDEX audit_log_org ON audit_log (org_id, at)",
            ]),
        // Quota alerts sent: one row per window, metric and threshold, so each goes out once
        // however many instances see the crossing and however often use dips and climbs again.
        Migration(
            version: 7,
            statements: [
                """
                CREATE TABLE quota_alerts (
                    subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, window_key TEXT NOT NULL,
                    metric TEXT NOT NULL, threshold INTEGER NOT NULL, org_id TEXT NOT NULL,
                    used DOUBLE PRECISION NOT NULL, limit_amount DOUBLE PRECISION NOT NULL, at BIGINT NOT NULL,
                    PRIMARY KEY (subject_kind, subject_id, window_key, metric, threshold))
                """
            ]),
        // Asynchronous tasks: the request to run, its lease while a worker runs it, its result,
        // and its callback's delivery. An idempotency key names one task per org (older tasks
        // give their key up when it is used again after the window).
        Migration(
            version: 8,
            statements: [
                """
                CREATE TABLE tasks (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, user_id TEXT NOT NULL, provider TEXT NOT NULL,
                    channel TEXT NOT NULL, invoke_type TEXT NOT NULL, model TEXT NOT NULL, request TEXT NOT NULL,
                    context TEXT NOT NULL, reservation TEXT, idempotency_key TEXT, status TEXT NOT NULL,
                    created_at BIGINT NOT NULL, completed_at BIGINT, lease_owner TEXT, lease_until BIGINT,
                    attempts INTEGER NOT NULL DEFAULT 0, result_data TEXT, error_message TEXT, record_id TEXT,
                    callback_url TEXT, callback_state TEXT, callback_attempts INTEGER NOT NULL DEFAULT 0,
                    callback_next_at BIGINT, callback_error TEXT)
                """,
                "CREATE UNIQUE INDEX tasks_idempotency ON tasks (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
                "CREATE INDEX tasks_runnable ON tasks (created_at) WHERE status = 'processing'",
                "CREATE INDEX tasks_callbacks ON tasks (callback_next_at) WHERE callback_state = 'pending'",
                "CREATE INDEX tasks_finished ON tasks (completed_at) WHERE status <> 'processing'",
            ]),
        // Answers from the response cache: which kind of hit, and what it saved.
        Migration(
            version: 9,
            statements: [
                "ALTER TABLE usage_records ADD COLUMN cache_hit TEXT",
                "ALTER TABLE usage_records ADD COLUMN saved_cost DOUBLE PRECISION",
            ]),
        // The response cache's tier shared by the instances on one PostgreSQL: answers by key.
        Migration(
            version: 10,
            statements: [
                """
                CREATE TABLE response_cache (
                    key TEXT PRIMARY KEY, org_id TEXT NOT NULL, answer TEXT NOT NULL, expires_at BIGINT NOT NULL)
                """,
                "CREATE INDEX response_cache_expiry ON response_cache (expires_at)",
            ]),
    ]

    static let recordColumns = [
        "id", "request_id", "origin_request_id", "org_id", "user_id", "client_type", "provider", "channel",
        "invoke_type", "model",
        "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens", "image_count",
        "cost", "currency",
        "latency_ms", "ttft_ms", "stream", "success", "error", "metadata", "created_at", "token_subject",
        "cache_hit", "saved_cost",
    ]
}
