-- The outbound queue. A message is a row from the moment the API accepts
-- it; workers claim rows, send them and record what WhatsApp answered.
-- Times are milliseconds since the Unix epoch (UTC) so the claim query
-- compares integers.
--
-- PostgreSQL form of migrations/sqlite/0003_outbound.sql. Every time here
-- is bound by the store as i64 milliseconds, so it is BIGINT, not
-- TIMESTAMPTZ.

CREATE TABLE outbound_messages (
    -- The WhatsApp message id, chosen at accept time and reused by every
    -- try, so a resend is the same message to the recipient.
    id              TEXT PRIMARY KEY,
    -- Acceptance order; messages to one recipient go out in this order.
    -- On SQLite the single writer numbers them; on PostgreSQL, where
    -- several nodes accept at once, the insert takes
    -- nextval('outbound_messages_seq') (below).
    seq             BIGINT NOT NULL,
    tenant_id       BIGINT NOT NULL,
    session_id      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'played', 'failed')),
    -- Why a queued message is not going out yet (a cap, a retry wait).
    wait_reason     TEXT,
    -- TRUE while it waits after a failed try or a cap: later messages to
    -- the same recipient wait behind it to keep their order.
    held            BOOLEAN NOT NULL DEFAULT FALSE,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    send_at         BIGINT,
    not_before      BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_until   BIGINT,
    batch_id        TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    delivered_at    BIGINT,
    read_at         BIGINT,
    played_at       BIGINT,
    failed_at       BIGINT
);

-- Numbers messages in acceptance order across every node accepting them
-- (`seq` above); dropped with the column.
CREATE SEQUENCE outbound_messages_seq AS BIGINT OWNED BY outbound_messages.seq;

-- What a session's sender looks at: its queued rows in order.
CREATE INDEX outbound_queue_idx ON outbound_messages (tenant_id, session_id, seq)
    WHERE status IN ('queued', 'sending');
-- Rows that hold later messages to the same recipient back.
CREATE INDEX outbound_held_idx ON outbound_messages (tenant_id, session_id, recipient, seq)
    WHERE held AND status = 'queued';
-- Listings by time, and the hourly cap's count of recent sends.
CREATE INDEX outbound_session_time_idx ON outbound_messages (tenant_id, session_id, created_at);
CREATE INDEX outbound_sent_idx ON outbound_messages (tenant_id, session_id, sent_at)
    WHERE sent_at IS NOT NULL;
-- PostgreSQL only: SQLite reads the newest messages back by rowid (the
-- table's own b-tree) when it rebuilds the hourly counts at start;
-- PostgreSQL has no rowid and reads them by `seq`, which needs an index.
CREATE INDEX outbound_seq_idx ON outbound_messages (seq);

-- The first response to a request with an `Idempotency-Key`, replayed to
-- repeats of the same request.
CREATE TABLE idempotency_keys (
    tenant_id       BIGINT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status_code     BIGINT NOT NULL,
    response        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);

-- Recipients a session has written to, for the first-contact cap.
CREATE TABLE session_contacts (
    tenant_id       BIGINT NOT NULL,
    session_id      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    first_sent_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, recipient)
);
CREATE INDEX session_contacts_first_idx ON session_contacts (tenant_id, session_id, first_sent_at);

-- A session's pacing settings over the configured defaults, and why its
-- sender is paused (an hourly cap), shown on its queued messages.
-- `send_policy` is JSON as text; `send_paused_until` is milliseconds.
ALTER TABLE sessions ADD COLUMN send_policy TEXT;
ALTER TABLE sessions ADD COLUMN send_paused_until BIGINT;
ALTER TABLE sessions ADD COLUMN send_paused_reason TEXT;
