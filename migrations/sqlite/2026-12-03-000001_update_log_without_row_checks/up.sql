-- The update log without its per-row foreign keys, as on PostgreSQL (see its migration for
-- why: drafting::store::append proves both once per batch). SQLite cannot drop a constraint,
-- so the table is rebuilt with the same columns, ids and rows.
CREATE TABLE draft_updates_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (draft_id, seq)
);
INSERT INTO draft_updates_new (id, draft_id, seq, user_id, created_at, data)
    SELECT id, draft_id, seq, user_id, created_at, data FROM draft_updates;
DROP TABLE draft_updates;
ALTER TABLE draft_updates_new RENAME TO draft_updates;
