-- The newest sequence number ever given to one of the draft's updates. An append takes it in
-- the same transaction as it inserts the rows (compare-and-set on this row), so a sequence number
-- is never handed out twice, even after compaction has deleted the rows that carried it.
ALTER TABLE drafts ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
UPDATE drafts SET last_seq = COALESCE((SELECT MAX(seq) FROM draft_updates WHERE draft_updates.draft_id = drafts.id), 0);
UPDATE drafts SET last_seq = COALESCE((SELECT MAX(seq) FROM draft_snapshots WHERE draft_snapshots.draft_id = drafts.id), 0)
    WHERE last_seq < COALESCE((SELECT MAX(seq) FROM draft_snapshots WHERE draft_snapshots.draft_id = drafts.id), 0);
