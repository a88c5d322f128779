-- Which node runs each session. A node holds a session's lease while it
-- renews it before `lease_expires_at` (milliseconds since the Unix epoch,
-- by the database's clock, so nodes' clocks need not agree); once it ran
-- out another node may take it. Each taking raises `lease_epoch`: writes
-- of a session's state name the epoch they were made under, and one from
-- an older epoch fails, so a node that lost a session cannot write over
-- its new owner (fencing).
ALTER TABLE sessions ADD COLUMN owner_node TEXT;
ALTER TABLE sessions ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN lease_expires_at BIGINT;

-- A node's renewal reads its own leases; the others look for run-out ones.
CREATE INDEX sessions_owner_idx ON sessions (owner_node, lease_expires_at);
