-- Commands for a session made on a node that does not run it (an API-only
-- node, or another node holds the session's lease): the node running the
-- session — or, when none does, any node that can take it — carries the
-- command out and writes the answer, which the asking node waits for.
CREATE TABLE session_commands (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    session_id  TEXT NOT NULL,
    -- connect, pair_code, logout, remove, move
    command     TEXT NOT NULL,
    -- The phone number of a pair_code, the target node of a move.
    argument    TEXT,
    -- Only this node may carry it out (the target of a move), if set.
    for_node    TEXT,
    created_at  INTEGER NOT NULL,
    -- The node carrying it out, and since when (milliseconds).
    taken_by    TEXT,
    taken_at    INTEGER,
    -- Set once carried out: the answer (a pair code) or why it failed.
    answered_at INTEGER,
    answer      TEXT,
    error_kind  TEXT,
    error       TEXT
);

CREATE INDEX session_commands_open_idx ON session_commands (answered_at, id);
