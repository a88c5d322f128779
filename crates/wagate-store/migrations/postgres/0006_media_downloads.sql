-- Received media not downloaded yet: what fetching the file again takes
-- (media key, direct path, hashes, length, type), sealed with the master
-- key as WhatsApp state is. Written before its `message.received` event
-- commits, so a held event always finds it after a restart; removed once
-- the download has settled (stored, or given up on).
--
-- PostgreSQL form of migrations/sqlite/0006_media_downloads.sql;
-- `created_at` is milliseconds since the Unix epoch.
CREATE TABLE media_downloads (
    event_id        TEXT PRIMARY KEY,
    tenant_id       BIGINT NOT NULL,
    session_id      TEXT NOT NULL,
    params          BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);
