-- Bodies (the plenary, working groups, committees, ad hoc groups) as a tree; their member
-- organisations; the terms of their offices (chair, vice-chair, co-chair) with the rule that
-- rotates them; the "acting chair" switch; and the notices already sent about a handover, so
-- that several instances send each exactly once.
CREATE TABLE bodies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    short_name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('plenary', 'working_group', 'committee', 'ad_hoc')),
    mandate TEXT NOT NULL DEFAULT '',
    parent_id BIGINT REFERENCES bodies (id),
    created_on DATE NOT NULL,
    ends_on DATE,
    observers_may_join BOOLEAN NOT NULL DEFAULT 1,
    observers_may_chair BOOLEAN NOT NULL DEFAULT 0,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    rotation_rule TEXT NOT NULL DEFAULT 'elected'
        CHECK (rotation_rule IN ('vice_chair_succeeds', 'fixed_rotation', 'elected', 'previous_chair_of')),
    rotation_order TEXT NOT NULL DEFAULT '[]',
    term_months INTEGER NOT NULL DEFAULT 12,
    lead_days INTEGER NOT NULL DEFAULT 60,
    rotation_source_id BIGINT REFERENCES bodies (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE body_members (
    body_id BIGINT NOT NULL REFERENCES bodies (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    since DATE NOT NULL,
    until DATE,
    provisional BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (body_id, organisation_id)
);

CREATE TABLE chair_terms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body_id BIGINT NOT NULL REFERENCES bodies (id),
    office TEXT NOT NULL CHECK (office IN ('chair', 'vice_chair', 'co_chair')),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    person_user_id BIGINT REFERENCES users (id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('selected', 'succession', 'rotation', 'interim')),
    note TEXT NOT NULL DEFAULT '',
    cancelled BOOLEAN NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX chair_terms_body ON chair_terms (body_id, starts_on);

CREATE TABLE acting_chairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body_id BIGINT NOT NULL REFERENCES bodies (id),
    term_id BIGINT NOT NULL REFERENCES chair_terms (id),
    since TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    reason TEXT NOT NULL,
    set_by BIGINT NOT NULL REFERENCES users (id),
    ended_by BIGINT REFERENCES users (id)
);
CREATE INDEX acting_chairs_body ON acting_chairs (body_id);

CREATE TABLE chair_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body_id BIGINT NOT NULL REFERENCES bodies (id),
    kind TEXT NOT NULL,
    handover_on DATE NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    UNIQUE (body_id, kind, handover_on)
);

-- The body whose chair runs a draft. No foreign key: SQLite cannot drop a column that has one,
-- and the down migration must work; bodies are never deleted, and the service checks the id.
ALTER TABLE drafts ADD COLUMN body_id BIGINT;
