-- The gateway processes that have served this database. Each one adds its
-- row at start, refreshes its heartbeat while it runs and marks the row
-- stopped on a clean shutdown; a row neither stopped nor refreshed tells
-- of a process that died. Times are milliseconds since the Unix epoch.
--
-- PostgreSQL form of migrations/sqlite/0010_nodes.sql; the store binds
-- every time here as i64 milliseconds, so they are BIGINT.

CREATE TABLE nodes (
    -- Made at start: `node_` and 16 hex digits.
    id              TEXT PRIMARY KEY,
    -- Where the node's API is reached.
    address         TEXT NOT NULL,
    version         TEXT NOT NULL,
    -- Comma-separated: what the node does (api, engine, sender, webhooks).
    roles           TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    last_heartbeat  BIGINT NOT NULL,
    -- Connected sessions at the last heartbeat.
    session_count   BIGINT NOT NULL DEFAULT 0 CHECK (session_count >= 0),
    -- NULL while the node runs.
    stopped_at      BIGINT
);

CREATE INDEX nodes_last_heartbeat ON nodes (last_heartbeat DESC);
