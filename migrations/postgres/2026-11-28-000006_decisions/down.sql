DROP TABLE draft_authors;
DROP TABLE decisions;
DROP TABLE draft_objections;
DROP TABLE draft_versions;
ALTER TABLE drafts DROP COLUMN reminded_at;
ALTER TABLE drafts DROP COLUMN deadline;
ALTER TABLE drafts DROP COLUMN objections_until;
ALTER TABLE drafts DROP COLUMN round;
ALTER TABLE drafts DROP COLUMN stage;
