-- The durable outbox of events and their webhook deliveries. An event is
-- a row before anyone is told about it (an inbound message is written
-- before WhatsApp gets its ack); each matching webhook endpoint gets a
-- delivery row in the same transaction, so a crash loses neither.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE events (
    -- Global order; the live stream's `Last-Event-ID`.
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- `evt_…`, sent as `webhook-id`: the same for every delivery of the
    -- event, so receivers can drop duplicates.
    id              TEXT NOT NULL UNIQUE,
    tenant_id       INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    -- The native payload's `data`, as JSON.
    data            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE INDEX events_session_idx ON events (tenant_id, session_id, seq);
CREATE INDEX events_tenant_time_idx ON events (tenant_id, created_at);

-- Inbound messages already turned into events: WhatsApp redelivers a
-- message whose ack was lost, and ids are unique only per chat and sender.
CREATE TABLE inbound_seen (
    tenant_id       INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    chat_jid        TEXT NOT NULL,
    sender_jid      TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, session_id, chat_jid, sender_jid, message_id)
);

CREATE TABLE webhook_endpoints (
    -- `wh_…`
    id              TEXT PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    -- NULL: every session of the tenant.
    session_id      TEXT,
    url             TEXT NOT NULL,
    -- JSON array of event names, or ["*"].
    events          TEXT NOT NULL,
    -- The `whsec_…` secret, sealed with the master key.
    secret          BLOB NOT NULL,
    -- JSON array of [name, value] pairs sent with every delivery.
    headers         TEXT NOT NULL DEFAULT '[]',
    -- native | seed000 | seed003
    shape           TEXT NOT NULL DEFAULT 'native',
    enabled         INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    -- Start of the current run of failed attempts; NULL after a success.
    failing_since   INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, session_id);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivering', 'delivered', 'failed', 'cancelled', 'skipped')),
    -- skipped: the endpoint's payload shape has no form for this event.
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL,
    claimed_until   INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    -- Why a delivery waits before its first try (inbound media still
    -- downloading); NULL when it is free to go.
    held_for        TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);

-- What the dispatcher claims: due rows in order.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_at)
    WHERE status IN ('pending', 'delivering');
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_seq);

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     INTEGER NOT NULL,
    endpoint_id     TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    status_code     INTEGER,
    latency_ms      INTEGER NOT NULL,
    -- At most 20 KB of what the receiver answered.
    response_body   TEXT,
    error           TEXT,
    verdict         TEXT NOT NULL
);

CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
