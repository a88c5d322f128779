-- Every statement the single database writer runs is a round trip to the
-- connection's thread, and a sent message used to cost a dozen of them.
-- Bookkeeping that follows from a row change now happens inside that
-- change's own statement.

-- The status a message had before the latest outcome was applied to it.
-- An outcome's UPDATE sets it from the old status and reads both back with
-- RETURNING (which shows new values only), so one statement tells whether
-- the status moved: no SELECT before every UPDATE.
ALTER TABLE outbound_messages ADD COLUMN status_before TEXT;

-- A recipient becomes a session's contact when the first message to it
-- is sent (by the server's ack or, when a receipt comes first, by that).
CREATE TRIGGER outbound_first_contact
AFTER UPDATE OF sent_at ON outbound_messages
WHEN OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO session_contacts (tenant_id, session_id, recipient, first_sent_at)
    VALUES (NEW.tenant_id, NEW.session_id, NEW.recipient, NEW.sent_at);
END;

-- A message in a chat's history counts in its chat and may be its newest.
CREATE TRIGGER chat_messages_count_in_chat
AFTER INSERT ON chat_messages
BEGIN
    INSERT INTO chats (tenant_id, session_id, chat_jid, is_group, last_seq, last_at, message_count)
    VALUES (NEW.tenant_id, NEW.session_id, NEW.chat_jid, NEW.chat_jid LIKE '%@g.us',
            NEW.seq, NEW.at, 1)
    ON CONFLICT (tenant_id, session_id, chat_jid) DO UPDATE SET
        message_count = message_count + 1,
        last_seq = CASE WHEN excluded.last_at >= chats.last_at
                        THEN excluded.last_seq ELSE chats.last_seq END,
        last_at = MAX(chats.last_at, excluded.last_at);
END;
