ALTER TABLE drafts DROP COLUMN body_id;
DROP TABLE chair_notices;
DROP TABLE acting_chairs;
DROP TABLE chair_terms;
DROP TABLE body_members;
DROP TABLE bodies;
