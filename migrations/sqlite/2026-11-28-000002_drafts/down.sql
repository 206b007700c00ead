DROP TABLE draft_snapshots;
DROP TABLE draft_updates;
DROP TABLE drafts;
