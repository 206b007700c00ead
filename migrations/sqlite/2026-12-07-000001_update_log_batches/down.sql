-- Older versions read one update per row: going back is refused while a row holds several (the
-- CHECK fails); restore the backup taken before the upgrade instead (README, Upgrading).
CREATE TEMP TABLE update_log_batches_guard (rows_of_several INTEGER NOT NULL CHECK (rows_of_several = 0));
INSERT INTO update_log_batches_guard SELECT count(*) FROM draft_updates WHERE updates > 1;
DROP TABLE update_log_batches_guard;
ALTER TABLE draft_updates DROP COLUMN updates;
