-- The update log takes a row per accepted edit, up to a thousand per commit. Its two foreign
-- keys made PostgreSQL check drafts and users once per row (an index probe and a row lock each),
-- which tripled the cost of storing a batch. Both facts are proven once per batch by the
-- transaction that writes it (drafting::store::append): it compares and sets the draft's own
-- row first, and the room has just checked in it that every sender's session is live. Drafts
-- and users are never deleted (users are disabled), so no row can lose its draft or author.
ALTER TABLE draft_updates DROP CONSTRAINT draft_updates_draft_id_fkey;
ALTER TABLE draft_updates DROP CONSTRAINT draft_updates_user_id_fkey;
