-- Older versions read one update per row: going back is refused while a row holds several;
-- restore the backup taken before the upgrade instead (README, Upgrading).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM draft_updates WHERE updates > 1) THEN
        RAISE EXCEPTION 'the update log holds rows of several updates, which older versions cannot read: restore the backup taken before the upgrade instead';
    END IF;
END
$$;
ALTER TABLE draft_updates DROP COLUMN updates;
