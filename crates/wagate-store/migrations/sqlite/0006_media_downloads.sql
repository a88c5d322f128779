-- Received media not downloaded yet: what fetching the file again takes
-- (media key, direct path, hashes, length, type), sealed with the master
-- key as WhatsApp state is. Written before its `message.received` event
-- commits, so a held event always finds it after a restart; removed once
-- the download has settled (stored, or given up on).
CREATE TABLE media_downloads (
    event_id        TEXT PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    params          BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);
