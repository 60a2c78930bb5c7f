-- What may leave the machine for a project: `local_only` (our engine only)
-- or `upstream` (also the providers named in `providers`, a JSON list).
ALTER TABLE projects ADD COLUMN data_policy TEXT NOT NULL DEFAULT 'local_only'
    CHECK (data_policy IN ('local_only', 'upstream'));
ALTER TABLE projects ADD COLUMN providers TEXT NOT NULL DEFAULT '[]';

-- Answers to identical requests at temperature 0, by a digest of the
-- request; bounded by `[cache]` (time to live, most entries).
CREATE TABLE response_cache (
    key        TEXT PRIMARY KEY,
    served_by  TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX response_cache_age ON response_cache (created_at);

-- Keys may be restricted to our own engine: scope `local` (the `/v1`
-- routes of `inference`, local models only). SQLite changes a CHECK by
-- rebuilding the table; nothing references api_keys.
CREATE TABLE api_keys_new (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    digest       BLOB NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('inference', 'local', 'full')),
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
