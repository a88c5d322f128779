-- Message history: every session's conversations, readable chat by chat.
-- A received message gets its row in the same commit as its
-- `message.received` event; a sent one when the outcome writer first
-- records it as sent (or failed), off the accept path. The content stays
-- where it already is (the event's data, the queued body); a row holds
-- what a chat list needs and what later changes did to the message.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE chat_messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    -- A direct chat by the contact's phone JID when known (so received
    -- and sent messages meet), else as WhatsApp named it; a group's JID.
    chat_jid        TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    -- WhatsApp's message id; for 'out' also the outbound_messages id.
    message_id      TEXT NOT NULL,
    -- The author of a received message; NULL for the session's own.
    sender_jid      TEXT,
    kind            TEXT NOT NULL,
    -- The text or caption as it reads now (after edits).
    text            TEXT,
    -- When the message was written, for ordering the chat.
    at              INTEGER NOT NULL,
    -- The `message.received` event holding a received message's content.
    event_seq       INTEGER,
    edited_at       INTEGER,
    deleted_at      INTEGER,
    -- JSON object: reactor (JID, or "me") -> emoji.
    reactions       TEXT
);

CREATE UNIQUE INDEX chat_messages_id_idx
    ON chat_messages (tenant_id, session_id, chat_jid, message_id, direction);
-- A chat's page, in time order.
CREATE INDEX chat_messages_chat_time_idx ON chat_messages (tenant_id, session_id, chat_jid, at);
-- What the retention sweeper walks, oldest first.
CREATE INDEX chat_messages_session_time_idx ON chat_messages (tenant_id, session_id, at);

-- One row per chat: its newest message and how many it holds.
CREATE TABLE chats (
    tenant_id       INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    chat_jid        TEXT NOT NULL,
    is_group        INTEGER NOT NULL,
    -- The chat_messages row of its newest message; chats are listed by
    -- it, newest activity first, and it is the listing's cursor.
    last_seq        INTEGER NOT NULL,
    last_at         INTEGER NOT NULL,
    message_count   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, session_id, chat_jid)
);

CREATE INDEX chats_activity_idx ON chats (tenant_id, session_id, last_seq);

-- The sweeper removes the deduplication rows of the events it deletes.
CREATE INDEX inbound_seen_event_idx ON inbound_seen (event_seq);

-- Days of history a tenant keeps; NULL: the configured default; 0: forever.
ALTER TABLE tenants ADD COLUMN history_retention_days INTEGER;
