ALTER TABLE mail_outbox DROP COLUMN attachments;
DROP TABLE meeting_events;
DROP TABLE agenda_amendments;
DROP TABLE agenda_item_drafts;
DROP TABLE agenda_documents;
DROP TABLE agenda_items;
DROP TABLE meeting_attendance;
DROP TABLE meeting_invitations;
DROP TABLE meetings;
