-- Tenants, API keys and sessions: the accounts side of wagate.
-- Every row carries its tenant. Unique constraints are named so the store
-- can turn a violation into a precise client error (PostgreSQL reports the
-- name; SQLite reports the columns, which the store maps back to the name).

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    CONSTRAINT tenants_name_key UNIQUE (name)
);

CREATE TABLE sessions (
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    session_id      TEXT NOT NULL,
    name            TEXT,
    status          TEXT NOT NULL DEFAULT 'disconnected'
                    CHECK (status IN ('disconnected', 'connecting', 'qr', 'connected', 'logged_out')),
    qr              TEXT,
    pair_code       TEXT,
    phone           TEXT,
    last_connected  TEXT,
    webhook_url     TEXT,
    created_at      TEXT NOT NULL,
    CONSTRAINT sessions_tenant_session_key UNIQUE (tenant_id, session_id)
);

-- Only the SHA-256 digest of a key is kept, plus its last four characters
-- so listings can show `***abcd`.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    scope       TEXT NOT NULL CHECK (scope IN ('admin', 'tenant', 'session')),
    session_id  TEXT,
    digest      TEXT NOT NULL,
    tail        TEXT NOT NULL,
    name        TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    CONSTRAINT api_keys_digest_key UNIQUE (digest),
    CONSTRAINT api_keys_session_scope CHECK ((scope = 'session') = (session_id IS NOT NULL))
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
