-- How a draft becomes a decision. `stage` is where the draft is in its life (the chair's
-- lock stays in `state`); a call for objections has a round number and an optional end; a
-- written procedure has a deadline and a reminder sent once. Versions are saved states of the
-- document; objections and abstentions are recorded per round; adopted decisions are numbered
-- per body and year.
ALTER TABLE drafts ADD COLUMN stage TEXT NOT NULL DEFAULT 'drafting'
    CHECK (stage IN ('drafting', 'final_reading', 'call_for_objections', 'written_procedure', 'silence_broken', 'adopted', 'withdrawn'));
ALTER TABLE drafts ADD COLUMN round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN objections_until TIMESTAMP;
ALTER TABLE drafts ADD COLUMN deadline TIMESTAMP;
ALTER TABLE drafts ADD COLUMN reminded_at TIMESTAMP;

CREATE TABLE draft_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    n INTEGER NOT NULL,
    label TEXT NOT NULL,
    stage TEXT NOT NULL,
    text TEXT NOT NULL,
    data BLOB NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (draft_id, n)
);

CREATE TABLE draft_objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    round INTEGER NOT NULL,
    procedure TEXT NOT NULL CHECK (procedure IN ('consensus', 'written')),
    kind TEXT NOT NULL CHECK (kind IN ('objection', 'abstention')),
    user_id BIGINT NOT NULL REFERENCES users (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX draft_objections_draft ON draft_objections (draft_id);

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL UNIQUE REFERENCES drafts (id),
    body_id BIGINT REFERENCES bodies (id),
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    procedure TEXT NOT NULL CHECK (procedure IN ('consensus', 'written')),
    adopted_at TIMESTAMP NOT NULL,
    adopted_by BIGINT REFERENCES users (id),
    version_n INTEGER NOT NULL,
    UNIQUE (body_id, year, seq)
);

-- Who wrote what: for each Yjs client id and clock range of a draft's stored updates, the user who
-- sent them. Compaction folds the update log into a snapshot; this index stays, so every passage
-- of the current text or of a version can be traced to its author's organisation.
CREATE TABLE draft_authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    client_id BIGINT NOT NULL,
    clock_start BIGINT NOT NULL,
    clock_end BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id)
);
CREATE INDEX draft_authors_draft ON draft_authors (draft_id, client_id);

-- Decisions amend or repeal earlier ones: a draft declares it before adoption, and the
-- decision keeps it (links both ways are read from here).
CREATE TABLE decision_relations (
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    target_id BIGINT NOT NULL REFERENCES decisions (id),
    kind TEXT NOT NULL CHECK (kind IN ('amends', 'repeals')),
    PRIMARY KEY (draft_id, target_id)
);
