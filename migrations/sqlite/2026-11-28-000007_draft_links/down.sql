-- The reference comes back as the title of the draft's meeting (or empty).
ALTER TABLE drafts ADD COLUMN reference TEXT NOT NULL DEFAULT '';
UPDATE drafts SET reference = COALESCE((SELECT m.title FROM meetings m WHERE m.id = drafts.meeting_id), '');
DROP INDEX drafts_agenda_item;
DROP INDEX drafts_meeting;
ALTER TABLE drafts DROP COLUMN agenda_item_id;
ALTER TABLE drafts DROP COLUMN meeting_id;
