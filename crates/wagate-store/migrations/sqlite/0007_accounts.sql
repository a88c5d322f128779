-- Users who log in with an email and a password (the dashboard side of the
-- API), and the refresh tokens their logins hold.

-- Emails are stored lower-cased, so the unique constraint is also
-- case-insensitive. Passwords are Argon2id PHC strings, never the
-- password. An admin belongs to a tenant too (the default one unless
-- given another), so every row still carries its tenant.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    email           TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'customer')),
    created_at      TEXT NOT NULL,
    disabled_at     TEXT,
    last_login_at   TEXT,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE INDEX users_tenant_idx ON users (tenant_id);

-- Only the SHA-256 digest of a refresh token is kept. Each use replaces
-- the token with a new one of the same family (one login); a token used a
-- second time means it was copied, and revokes its whole family.
CREATE TABLE refresh_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    -- Unix seconds, as the token's own `exp` claim.
    expires_at  INTEGER NOT NULL,
    -- Set when the token was exchanged for a new one.
    used_at     TEXT,
    -- Set when the token can no longer be exchanged: used, logged out,
    -- its family revoked, or its user's password changed.
    revoked_at  TEXT,
    CONSTRAINT refresh_tokens_digest_key UNIQUE (digest)
);

CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
