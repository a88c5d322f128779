-- Every statement the single database writer runs is a round trip to the
-- connection's thread, and a sent message used to cost a dozen of them.
-- Bookkeeping that follows from a row change now happens inside that
-- change's own statement.
--
-- PostgreSQL form of migrations/sqlite/0009_fewer_round_trips.sql: each
-- SQLite trigger is a PL/pgSQL function and a row trigger calling it.

-- The status a message had before the latest outcome was applied to it.
-- An outcome's UPDATE sets it from the old status and reads both back with
-- RETURNING (which shows new values only), so one statement tells whether
-- the status moved: no SELECT before every UPDATE.
ALTER TABLE outbound_messages ADD COLUMN status_before TEXT;

-- A recipient becomes a session's contact when the first message to it
-- is sent (by the server's ack or, when a receipt comes first, by that).
-- SQLite's INSERT OR IGNORE: a recipient already known keeps its first
-- time.
CREATE FUNCTION outbound_first_contact() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO session_contacts (tenant_id, session_id, recipient, first_sent_at)
    VALUES (NEW.tenant_id, NEW.session_id, NEW.recipient, NEW.sent_at)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbound_first_contact
AFTER UPDATE OF sent_at ON outbound_messages
FOR EACH ROW
WHEN (OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL)
EXECUTE FUNCTION outbound_first_contact();

-- A message in a chat's history counts in its chat and may be its newest.
-- (An insert that ON CONFLICT DO NOTHING skips fires no row trigger, as
-- in SQLite.) ILIKE, because SQLite's LIKE ignores ASCII case and
-- PostgreSQL's does not: a group is told apart the same on both.
CREATE FUNCTION chat_messages_count_in_chat() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chats (tenant_id, session_id, chat_jid, is_group, last_seq, last_at, message_count)
    VALUES (NEW.tenant_id, NEW.session_id, NEW.chat_jid, NEW.chat_jid ILIKE '%@g.us',
            NEW.seq, NEW.at, 1)
    ON CONFLICT (tenant_id, session_id, chat_jid) DO UPDATE SET
        message_count = chats.message_count + 1,
        last_seq = CASE WHEN EXCLUDED.last_at >= chats.last_at
                        THEN EXCLUDED.last_seq ELSE chats.last_seq END,
        last_at = GREATEST(chats.last_at, EXCLUDED.last_at);
    RETURN NULL;
END;
$$;

CREATE TRIGGER chat_messages_count_in_chat
AFTER INSERT ON chat_messages
FOR EACH ROW
EXECUTE FUNCTION chat_messages_count_in_chat();
