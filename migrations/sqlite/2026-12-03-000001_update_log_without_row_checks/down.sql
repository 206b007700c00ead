CREATE TABLE draft_updates_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    seq BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (draft_id, seq)
);
INSERT INTO draft_updates_old (id, draft_id, seq, user_id, created_at, data)
    SELECT id, draft_id, seq, user_id, created_at, data FROM draft_updates;
DROP TABLE draft_updates;
ALTER TABLE draft_updates_old RENAME TO draft_updates;
