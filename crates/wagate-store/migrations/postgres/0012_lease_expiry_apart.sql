-- A lease's expiry moves out of the session's row. Every write of a
-- session's WhatsApp state share-locks that row to check the fence
-- (owner_node, lease_epoch) inside its transaction; renewals that rewrote
-- the row every few seconds queued behind those locks, and renewing a
-- node's many rows at once could deadlock with batched status updates.
-- The fence now changes only when the session changes hands; the expiry,
-- renewed all the time, lives here.
DROP INDEX sessions_owner_idx;
ALTER TABLE sessions DROP COLUMN lease_expires_at;

CREATE TABLE session_leases (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    owner_node  TEXT NOT NULL,
    -- The epoch of sessions.lease_epoch this lease was granted under.
    epoch       BIGINT NOT NULL,
    -- Milliseconds since the Unix epoch, by the database's clock.
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, session_id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, session_id)
        ON DELETE CASCADE
);

-- A node's renewal reads its own leases; the others look for run-out ones.
CREATE INDEX session_leases_owner_idx ON session_leases (owner_node, expires_at);
CREATE INDEX session_leases_expiry_idx ON session_leases (expires_at);
