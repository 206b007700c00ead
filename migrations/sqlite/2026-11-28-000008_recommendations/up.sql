-- Recommendations and their implementation. A vocabulary is the list of statuses a
-- recommendation is tracked with (each with a label, an order, a progress weight and whether it
-- is final); three are shipped. A review visit goes to one participant, with a team, and its
-- report issues recommendations. A recommendation is addressed to participants (every one at the
-- time of issue, or named ones) or to a body; each addressee has an implementation record, whose
-- history is the append-only list of entries (a correction is a new entry). Evidence is links
-- and uploaded files.
CREATE TABLE vocabularies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    body_id BIGINT REFERENCES bodies (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE vocabulary_statuses (
    vocabulary_id BIGINT NOT NULL REFERENCES vocabularies (id),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    position INTEGER NOT NULL,
    weight INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),
    final BOOLEAN NOT NULL,
    PRIMARY KEY (vocabulary_id, key)
);

INSERT INTO vocabularies (key, name, description) VALUES
    ('simple', 'Implementation tracker', 'Not started, in progress, partially implemented, implemented, not implemented, superseded.'),
    ('upr', 'Universal Periodic Review', 'First the response (supported or noted), then the implementation (not, partially or fully implemented).'),
    ('fatf', 'FATF-style ratings', 'Technical compliance: compliant, largely, partially or non-compliant, or not applicable; re-rated in follow-up reports.');
WITH s (vocabulary, key, label, position, weight, final) AS (VALUES
    ('simple', 'not_started', 'Not started', 0, 0, 0),
    ('simple', 'in_progress', 'In progress', 1, 40, 0),
    ('simple', 'partially_implemented', 'Partially implemented', 2, 60, 0),
    ('simple', 'implemented', 'Implemented', 3, 100, 1),
    ('simple', 'not_implemented', 'Not implemented', 4, 0, 1),
    ('simple', 'superseded', 'Superseded', 5, 100, 1),
    ('upr', 'awaiting_response', 'Awaiting a response', 0, 0, 0),
    ('upr', 'supported', 'Supported', 1, 10, 0),
    ('upr', 'noted', 'Noted', 2, 0, 1),
    ('upr', 'not_implemented', 'Not implemented', 3, 10, 0),
    ('upr', 'partially_implemented', 'Partially implemented', 4, 50, 0),
    ('upr', 'fully_implemented', 'Fully implemented', 5, 100, 1),
    ('fatf', 'not_rated', 'Not yet rated', 0, 0, 0),
    ('fatf', 'non_compliant', 'Non-compliant', 1, 0, 0),
    ('fatf', 'partially_compliant', 'Partially compliant', 2, 40, 0),
    ('fatf', 'largely_compliant', 'Largely compliant', 3, 80, 0),
    ('fatf', 'compliant', 'Compliant', 4, 100, 1),
    ('fatf', 'not_applicable', 'Not applicable', 5, 100, 1)
)
INSERT INTO vocabulary_statuses (vocabulary_id, key, label, position, weight, final)
SELECT v.id, s.key, s.label, s.position, s.weight, s.final
FROM vocabularies v JOIN s ON s.vocabulary = v.key;

-- Uploaded files: evidence of implementation and review-visit reports (checked like agenda
-- documents: known kinds by extension and first bytes, with a SHA-256).
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    uploaded_at TIMESTAMP NOT NULL
);

CREATE TABLE review_visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id BIGINT NOT NULL REFERENCES organisations (id),
    body_id BIGINT NOT NULL REFERENCES bodies (id),
    origin TEXT NOT NULL CHECK (origin IN ('requested', 'invited')),
    state TEXT NOT NULL CHECK (state IN ('planned', 'visited', 'report_adopted')),
    starts_on DATE,
    ends_on DATE,
    report_title TEXT NOT NULL DEFAULT '',
    report_upload_id BIGINT REFERENCES uploads (id),
    report_adopted_on DATE,
    vocabulary_id BIGINT REFERENCES vocabularies (id),
    notes TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE review_visit_members (
    visit_id BIGINT NOT NULL REFERENCES review_visits (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL CHECK (role IN ('leader', 'member')),
    PRIMARY KEY (visit_id, organisation_id)
);

CREATE TABLE recommendations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    body_id BIGINT NOT NULL REFERENCES bodies (id),
    issued_on DATE NOT NULL,
    due_on DATE,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high')),
    vocabulary_id BIGINT NOT NULL REFERENCES vocabularies (id),
    parent_id BIGINT REFERENCES recommendations (id),
    source_kind TEXT NOT NULL CHECK (source_kind IN ('meeting', 'decision', 'review_visit', 'report')),
    source_meeting_id BIGINT REFERENCES meetings (id),
    source_decision_id BIGINT REFERENCES decisions (id),
    source_visit_id BIGINT REFERENCES review_visits (id),
    source_body_id BIGINT REFERENCES bodies (id),
    source_title TEXT NOT NULL DEFAULT '',
    addressed_to TEXT NOT NULL CHECK (addressed_to IN ('all_participants', 'participants', 'body')),
    restricted BOOLEAN NOT NULL DEFAULT 0,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX recommendations_body ON recommendations (body_id);
CREATE INDEX recommendations_parent ON recommendations (parent_id);

CREATE TABLE recommendation_themes (
    recommendation_id BIGINT NOT NULL REFERENCES recommendations (id),
    theme TEXT NOT NULL,
    PRIMARY KEY (recommendation_id, theme)
);

-- One row per addressee: an organisation (a participant) or a body.
CREATE TABLE recommendation_addressees (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recommendation_id BIGINT NOT NULL REFERENCES recommendations (id),
    organisation_id BIGINT REFERENCES organisations (id),
    body_id BIGINT REFERENCES bodies (id),
    CHECK ((organisation_id IS NULL) <> (body_id IS NULL)),
    UNIQUE (recommendation_id, organisation_id),
    UNIQUE (recommendation_id, body_id)
);
CREATE INDEX recommendation_addressees_organisation ON recommendation_addressees (organisation_id);

-- The implementation record of one addressee: append-only. `recorded_at` (the clock's instant)
-- dates an entry: the state as of a day is the last entry recorded by its end.
CREATE TABLE implementation_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    addressee_id BIGINT NOT NULL REFERENCES recommendation_addressees (id),
    recommendation_id BIGINT NOT NULL REFERENCES recommendations (id),
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    corrects_id BIGINT REFERENCES implementation_entries (id),
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_for BIGINT NOT NULL REFERENCES organisations (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX implementation_entries_addressee ON implementation_entries (addressee_id, recorded_at);
CREATE INDEX implementation_entries_recommendation ON implementation_entries (recommendation_id);

CREATE TABLE implementation_evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id BIGINT NOT NULL REFERENCES implementation_entries (id),
    label TEXT NOT NULL DEFAULT '',
    url TEXT,
    upload_id BIGINT REFERENCES uploads (id),
    CHECK ((url IS NULL) <> (upload_id IS NULL))
);
CREATE INDEX implementation_evidence_entry ON implementation_evidence (entry_id);

-- The digest of open and overdue recommendations, mailed once per meeting and participant.
CREATE TABLE recommendation_digests (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, organisation_id)
);
