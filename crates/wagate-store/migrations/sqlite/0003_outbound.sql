-- The outbound queue. A message is a row from the moment the API accepts
-- it; workers claim rows, send them and record what WhatsApp answered.
-- Times are milliseconds since the Unix epoch (UTC) so the claim query
-- compares integers.

CREATE TABLE outbound_messages (
    -- The WhatsApp message id, chosen at accept time and reused by every
    -- try, so a resend is the same message to the recipient.
    id              TEXT PRIMARY KEY,
    -- Acceptance order; messages to one recipient go out in this order.
    seq             INTEGER NOT NULL,
    tenant_id       INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'played', 'failed')),
    -- Why a queued message is not going out yet (a cap, a retry wait).
    wait_reason     TEXT,
    -- 1 while it waits after a failed try or a cap: later messages to
    -- the same recipient wait behind it to keep their order.
    held            INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    send_at         INTEGER,
    not_before      INTEGER NOT NULL,
    claimed_by      TEXT,
    claimed_until   INTEGER,
    batch_id        TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    delivered_at    INTEGER,
    read_at         INTEGER,
    played_at       INTEGER,
    failed_at       INTEGER
);

-- What a session's sender looks at: its queued rows in order.
CREATE INDEX outbound_queue_idx ON outbound_messages (tenant_id, session_id, seq)
    WHERE status IN ('queued', 'sending');
-- Rows that hold later messages to the same recipient back.
CREATE INDEX outbound_held_idx ON outbound_messages (tenant_id, session_id, recipient, seq)
    WHERE held = 1 AND status = 'queued';
-- Listings by time, and the hourly cap's count of recent sends.
CREATE INDEX outbound_session_time_idx ON outbound_messages (tenant_id, session_id, created_at);
CREATE INDEX outbound_sent_idx ON outbound_messages (tenant_id, session_id, sent_at)
    WHERE sent_at IS NOT NULL;

-- The first response to a request with an `Idempotency-Key`, replayed to
-- repeats of the same request.
CREATE TABLE idempotency_keys (
    tenant_id       INTEGER NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status_code     INTEGER NOT NULL,
    response        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);

-- Recipients a session has written to, for the first-contact cap.
CREATE TABLE session_contacts (
    tenant_id       INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    first_sent_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, session_id, recipient)
);
CREATE INDEX session_contacts_first_idx ON session_contacts (tenant_id, session_id, first_sent_at);

-- A session's pacing settings over the configured defaults, and why its
-- sender is paused (an hourly cap), shown on its queued messages.
ALTER TABLE sessions ADD COLUMN send_policy TEXT;
ALTER TABLE sessions ADD COLUMN send_paused_until INTEGER;
ALTER TABLE sessions ADD COLUMN send_paused_reason TEXT;
