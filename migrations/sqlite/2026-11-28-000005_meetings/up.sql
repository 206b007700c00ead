-- Meetings of a body, who is invited and who attends; the agenda as an ordered tree with its
-- documents and linked drafts; the amendments made after the agenda was adopted; and the
-- numbered events of each meeting's live feed (kept so that a follower who reconnects gets what
-- it missed, from whichever instance it reaches). Mail gains attachments (the .ics of a meeting).
CREATE TABLE meetings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body_id BIGINT NOT NULL REFERENCES bodies (id),
    kind TEXT NOT NULL CHECK (kind IN ('plenary', 'intersessional', 'working_group', 'extraordinary', 'special_session')),
    title TEXT NOT NULL,
    venue TEXT NOT NULL DEFAULT '',
    online_url TEXT,
    time_zone TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'convened', 'in_session', 'closed', 'cancelled')),
    agenda_state TEXT NOT NULL DEFAULT 'proposed' CHECK (agenda_state IN ('proposed', 'adopted')),
    agenda_adopted_at TIMESTAMP,
    event_seq BIGINT NOT NULL DEFAULT 0,
    ical_sequence INTEGER NOT NULL DEFAULT 0,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX meetings_body ON meetings (body_id, starts_at);

CREATE TABLE meeting_invitations (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL CHECK (role IN ('member', 'observer', 'guest')),
    PRIMARY KEY (meeting_id, organisation_id)
);

CREATE TABLE meeting_attendance (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    registered_by BIGINT NOT NULL REFERENCES users (id),
    registered_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE agenda_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    parent_id BIGINT REFERENCES agenda_items (id),
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    purpose TEXT NOT NULL CHECK (purpose IN ('for_decision', 'for_discussion', 'for_information')),
    presenter TEXT NOT NULL DEFAULT '',
    duration_minutes INTEGER,
    closed_session BOOLEAN NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'current', 'done', 'deferred')),
    current_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX agenda_items_meeting ON agenda_items (meeting_id);

CREATE TABLE agenda_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id BIGINT NOT NULL REFERENCES agenda_items (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX agenda_documents_item ON agenda_documents (item_id);

CREATE TABLE agenda_item_drafts (
    item_id BIGINT NOT NULL REFERENCES agenda_items (id),
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    PRIMARY KEY (item_id, draft_id)
);

CREATE TABLE agenda_amendments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    at TIMESTAMP NOT NULL,
    user_id BIGINT REFERENCES users (id),
    action TEXT NOT NULL,
    item_id BIGINT,
    number TEXT,
    title TEXT,
    detail TEXT NOT NULL DEFAULT '',
    closed_session BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX agenda_amendments_meeting ON agenda_amendments (meeting_id);

CREATE TABLE meeting_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    seq BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    full_data TEXT NOT NULL,
    public_data TEXT,
    UNIQUE (meeting_id, seq)
);

-- A person's calendar-feed token (stored hashed): calendar applications that cannot send a
-- cookie or a header subscribe to the .ics URLs with `?feed=`; it reads calendars, nothing else.
CREATE TABLE calendar_feeds (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

ALTER TABLE mail_outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
