-- Decision drafts co-edited live: the draft, the append-only log of accepted Yjs updates
-- (one row per update, numbered per draft), and snapshots that fold the log.
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'drafting' CHECK (state IN ('drafting', 'locked')),
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE draft_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    seq BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (draft_id, seq)
);

CREATE TABLE draft_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    seq BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (draft_id, seq)
);
