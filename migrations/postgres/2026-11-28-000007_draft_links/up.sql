-- A draft belongs to its body and, optionally, to one of the body's meetings and an item of
-- that meeting's agenda; the free-text `reference` gives way to these links. Existing drafts
-- take them from what is known: the lowest-numbered agenda item that lists the draft (and that
-- item's meeting), or else the one meeting whose title is the reference (case and surrounding
-- blanks aside). Only meetings of the draft's own body count.
ALTER TABLE drafts ADD COLUMN meeting_id BIGINT REFERENCES meetings (id);
ALTER TABLE drafts ADD COLUMN agenda_item_id BIGINT REFERENCES agenda_items (id);

UPDATE drafts SET agenda_item_id = (
    SELECT MIN(l.item_id) FROM agenda_item_drafts l
    JOIN agenda_items i ON i.id = l.item_id
    JOIN meetings m ON m.id = i.meeting_id
    WHERE l.draft_id = drafts.id AND (drafts.body_id IS NULL OR m.body_id = drafts.body_id)
);
UPDATE drafts SET meeting_id = (SELECT i.meeting_id FROM agenda_items i WHERE i.id = drafts.agenda_item_id)
    WHERE agenda_item_id IS NOT NULL;
UPDATE drafts SET meeting_id = (
    SELECT MIN(m.id) FROM meetings m
    WHERE LOWER(TRIM(m.title)) = LOWER(TRIM(drafts.reference)) AND (drafts.body_id IS NULL OR m.body_id = drafts.body_id)
)
    WHERE meeting_id IS NULL AND TRIM(reference) <> '' AND (
        SELECT COUNT(*) FROM meetings m
        WHERE LOWER(TRIM(m.title)) = LOWER(TRIM(drafts.reference)) AND (drafts.body_id IS NULL OR m.body_id = drafts.body_id)
    ) = 1;

ALTER TABLE drafts DROP COLUMN reference;
CREATE INDEX drafts_meeting ON drafts (meeting_id);
CREATE INDEX drafts_agenda_item ON drafts (agenda_item_id);
