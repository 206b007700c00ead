-- A row of the update log may hold a whole stored batch: `updates` says how many updates it
-- holds. One row holds one update (its bytes, as before); a row of several holds, for each in
-- order, its sender's user id, its length and its bytes (lib0 varints, as Yjs writes them), and
-- `user_id` names the first one's sender. A row per update cost a statement, an index entry and
-- later a deletion per keystroke, which made storing a fast burst of edits (an upload, a paste)
-- slower than applying it (drafting::store::append).
ALTER TABLE draft_updates ADD COLUMN updates INTEGER NOT NULL DEFAULT 1;
