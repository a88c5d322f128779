-- WhatsApp auth state (wacore storage traits) of every session.
--
-- Every row is scoped by (tenant_id, session_id), the leading columns of
-- every primary key, so one session's rows are one index range and
-- deleting a session is one range delete per table.
--
-- Columns named in a WHERE clause (addresses, ids, JIDs, timestamps) are
-- plain; every value blob is sealed with XChaCha20-Poly1305 (nonce ||
-- ciphertext || tag) under the master key, with tenant, session, record
-- kind and row key as associated data. See src/cipher.rs.
--
-- PostgreSQL form of migrations/sqlite/0002_wa_state.sql: BLOB is BYTEA,
-- integers are BIGINT, and the flags the store binds as Rust bools
-- (`paired`, `uploaded`, `has_key`) are BOOLEAN. The timestamps here are
-- wacore's unix seconds (i64), so they stay BIGINT.

-- The device: noise, identity and signed prekey pairs, ADV secret, account.
-- `paired` mirrors "the device has a phone number", so the engine can tell a
-- restorable session from one that still needs a QR without decrypting.
CREATE TABLE wa_device (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    device      BYTEA NOT NULL,
    paired      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, session_id)
);

CREATE TABLE wa_identity (
    tenant_id     BIGINT NOT NULL,
    session_id    TEXT NOT NULL,
    address       TEXT NOT NULL,
    identity_key  BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, address)
);

CREATE TABLE wa_signal_session (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    address     TEXT NOT NULL,
    record      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, address)
);

CREATE TABLE wa_prekey (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    prekey_id   BIGINT NOT NULL,
    record      BYTEA NOT NULL,
    uploaded    BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, session_id, prekey_id)
);

CREATE TABLE wa_signed_prekey (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    prekey_id   BIGINT NOT NULL,
    record      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, prekey_id)
);

CREATE TABLE wa_sender_key (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    address     TEXT NOT NULL,
    record      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, address)
);

-- `set_seq` orders keys by when they were last set, for "latest key id".
CREATE TABLE wa_app_sync_key (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    key_id      BYTEA NOT NULL,
    sync_key    BYTEA NOT NULL,
    set_seq     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, key_id)
);

CREATE TABLE wa_app_state_version (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    collection  TEXT NOT NULL,
    hash_state  BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, collection)
);

CREATE TABLE wa_app_state_mutation_mac (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    collection  TEXT NOT NULL,
    index_mac   BYTEA NOT NULL,
    version     BIGINT NOT NULL,
    value_mac   BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, collection, index_mac)
);

CREATE TABLE wa_sender_key_device (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    group_jid   TEXT NOT NULL,
    device_jid  TEXT NOT NULL,
    has_key     BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, session_id, group_jid, device_jid)
);

CREATE TABLE wa_lid_mapping (
    tenant_id        BIGINT NOT NULL,
    session_id       TEXT NOT NULL,
    lid              TEXT NOT NULL,
    phone_number     TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    learning_source  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, lid)
);

-- Which LID a phone number resolves to: the one most recently stored for it.
-- Kept as its own table because several LIDs may have named the same phone.
CREATE TABLE wa_pn_lid (
    tenant_id     BIGINT NOT NULL,
    session_id    TEXT NOT NULL,
    phone_number  TEXT NOT NULL,
    lid           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, phone_number)
);

CREATE TABLE wa_base_key (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    address     TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    base_key    BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, address, message_id)
);

CREATE TABLE wa_device_list (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    record      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, user_id)
);

CREATE TABLE wa_group_metadata (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    group_jid   TEXT NOT NULL,
    metadata    BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, session_id, group_jid)
);

-- `token` is NULL for a byte-less placeholder (only the sender bucket known).
CREATE TABLE wa_tc_token (
    tenant_id         BIGINT NOT NULL,
    session_id        TEXT NOT NULL,
    jid               TEXT NOT NULL,
    token             BYTEA,
    token_timestamp   BIGINT NOT NULL,
    sender_timestamp  BIGINT,
    PRIMARY KEY (tenant_id, session_id, jid)
);

CREATE TABLE wa_sent_message (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    chat_jid    TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    payload     BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, chat_jid, message_id)
);

CREATE TABLE wa_pending_inbound (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    chat_jid    TEXT NOT NULL,
    sender_jid  TEXT NOT NULL,
    stanza_id   TEXT NOT NULL,
    message     BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, chat_jid, sender_jid, stanza_id)
);

-- expires_at = 0 means never; message_ts = 0 means unknown.
CREATE TABLE wa_msg_secret (
    tenant_id   BIGINT NOT NULL,
    session_id  TEXT NOT NULL,
    chat_jid    TEXT NOT NULL,
    sender_jid  TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    secret      BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL,
    message_ts  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, chat_jid, sender_jid, message_id)
);

-- History sync can store many thousands of secrets; the expiry sweep should
-- not scan them all.
CREATE INDEX wa_msg_secret_expiry_idx ON wa_msg_secret (tenant_id, session_id, expires_at);
