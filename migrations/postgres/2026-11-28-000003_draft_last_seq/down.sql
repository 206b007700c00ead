ALTER TABLE drafts DROP COLUMN last_seq;
