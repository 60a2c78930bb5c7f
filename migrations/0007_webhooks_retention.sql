-- Endpoints administrators register for events, and the queue of signed
-- deliveries to them: a row per (event, endpoint), retried with backoff
-- until delivered or given up, so a restart loses nothing queued.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    -- A JSON list of event types.
    events     TEXT NOT NULL,
    -- HMAC-SHA256 key for the x-bacopilot-signature header; shown once.
    secret     TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    webhook_id  TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    -- The exact bytes sent (and signed) on every attempt.
    body        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds of the next attempt.
    next_at     INTEGER NOT NULL,
    last_status INTEGER,
    last_error  TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (webhook_id, created_at);

-- Keys may be for Prometheus alone: scope `metrics` reads /metrics and
-- nothing else. SQLite changes a CHECK by rebuilding the table.
CREATE TABLE api_keys_new (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    digest       BLOB NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('inference', 'local', 'full', 'metrics')),
    expires_at   TEXT,
    revoked_at   TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at TEXT
);
INSERT INTO api_keys_new (id, user_id, name, digest, scope, expires_at, revoked_at, created_at, last_used_at)
    SELECT id, user_id, name, digest, scope, expires_at, revoked_at, created_at, last_used_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE INDEX api_keys_by_user ON api_keys (user_id);

-- Retention: a project may keep conversations for its own number of days
-- (NULL: the global [retention] conversations_days; 0: forever).
ALTER TABLE projects ADD COLUMN retention_days INTEGER CHECK (retention_days >= 0);

-- Where the live audit chain starts once older rows are archived: the seq
-- and hash of the last archived row (the first live row links to it).
CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    hash       BLOB NOT NULL,
    rows       INTEGER NOT NULL,
    archive    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
