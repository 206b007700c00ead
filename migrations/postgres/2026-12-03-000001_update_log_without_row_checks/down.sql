ALTER TABLE draft_updates ADD CONSTRAINT draft_updates_draft_id_fkey FOREIGN KEY (draft_id) REFERENCES drafts (id);
ALTER TABLE draft_updates ADD CONSTRAINT draft_updates_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);
