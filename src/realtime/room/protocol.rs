//! The y-protocols side of a room: one message per frame, document updates applied (or held
//! until their dependencies arrive), and refusals for those who may not write.

use super::*;

impl Room {
    pub(super) fn frame(&mut self, conn: ConnId, data: &[u8], pending: &mut Vec<Pending>, after: &mut Vec<After>) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        // The connection already refused frames over the size limit (1009).
        // One message per frame, as y-websocket sends them: bytes after a complete message are a
        // protocol error, never silently dropped. (yrs's `MessageReader` would take a truncated
        // message for the end of the frame and silently drop it.)
        let mut decoder = DecoderV1::from(Cursor::new(data));
        let Ok(message) = Message::decode(&mut decoder) else {
            self.kill(conn, close::PROTOCOL_ERROR, "malformed y-protocols message");
            return;
        };
        if decoder.read_u8().is_ok() {
            self.kill(conn, close::PROTOCOL_ERROR, "bytes after the end of the message");
            return;
        }
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => after.push(After::SyncStep2(conn, sv)),
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                self.update(conn, update, pending, after)
            }
            Message::Awareness(update) => self.awareness(conn, update, after),
            Message::AwarenessQuery => after.push(After::AllPresence(conn)),
            // Permission is the server's to say, never a client's; and message types this server
            // does not know are ignored, so providers that add their own keep working.
            Message::Auth(_) | Message::Custom(..) => {}
        }
    }

    pub(super) fn update(
        &mut self,
        conn: ConnId,
        mut data: Vec<u8>,
        pending: &mut Vec<Pending>,
        after: &mut Vec<After>,
    ) {
        let size = data.len();
        let Ok(update) = Update::decode_v1(&data) else {
            self.kill(conn, close::PROTOCOL_ERROR, "malformed document update");
            return;
        };
        let Some(c) = self.conns.get(&conn) else { return };
        let (user_id, session_id) = (c.who.user_id, c.who.session_id);
        if !c.who.may_edit(self.gate) {
            if carries_changes(&self.doc, &update) {
                self.metrics.updates_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                after.push(After::Send(conn, permission_denied()));
            }
            return;
        }
        let applied = {
            let mut txn = self.doc.transact_mut();
            let held_before = held_fingerprint(&txn);
            let before = txn.state_vector();
            txn.apply_update(update).ok().map(|()| {
                let changed = txn.state_vector() != before || !txn.delete_set().is_empty();
                let held_after = held_fingerprint(&txn);
                // What this transaction integrated. When nothing is or was held, that is the
                // update as sent (parts the document already had are harmless: updates are
                // idempotent), so it is stored as it came; otherwise the transaction's own delta:
                // this update and any held one it completed, without parts still waiting.
                let delta = match (changed, held_before.is_none() && held_after.is_none()) {
                    (false, _) => None,
                    (true, true) => Some(std::mem::take(&mut data)),
                    (true, false) => Some(txn.encode_update_v1()),
                };
                let held_more = held_after.is_some() && held_after != held_before;
                (delta, held_more, held_after.is_none())
            })
        };
        let Some((delta, held_more, nothing_held)) = applied else {
            // Part of it may already be in the document: rebuild it from what is stored.
            self.must_reload = true;
            self.kill(conn, close::PROTOCOL_ERROR, "the update does not apply to this document");
            return;
        };
        if let Some(data) = delta {
            pending.push(Pending {
                conn: Some(conn),
                session: Some(session_id),
                rejected: false,
                update: NewUpdate { user_id, data },
            });
            after.push(After::Update(pending.len() - 1));
        }
        if nothing_held {
            self.held.clear();
        } else if held_more {
            let held = self.held.entry(conn).or_insert(Held { user_id, bytes: 0, since: Instant::now() });
            held.bytes += size;
            if held.bytes > self.cfg.hold_bytes {
                tracing::info!(draft = self.draft_id, conn, bytes = held.bytes, "held updates over the limit");
                self.must_reload = true;
            }
        }
    }

    /// Drops held updates that waited longer than `--ws-hold-secs` (the document is rebuilt
    /// without them, and their connections are closed so that they resync).
    pub(super) fn expire_held(&mut self) {
        let limit = Duration::from_secs(self.cfg.hold_secs.max(1));
        if self.held.values().any(|h| h.since.elapsed() > limit) {
            tracing::info!(draft = self.draft_id, "held updates waited too long for their dependencies");
            self.must_reload = true;
        }
    }
}

pub(super) fn permission_denied() -> Bytes {
    Bytes::from(Message::Auth(Some("permission-denied".into())).encode_v1())
}

/// What the document holds back for missing dependencies, as comparable bytes (`None`: nothing).
pub(super) fn held_fingerprint<T: ReadTxn>(txn: &T) -> Option<Vec<u8>> {
    let store = txn.store();
    let (update, deletes) = (store.pending_update(), store.pending_ds());
    if update.is_none() && deletes.is_none() {
        return None;
    }
    let mut bytes = update.map(|p| p.update.encode_v1()).unwrap_or_default();
    bytes.extend(deletes.map(|d| d.encode_v1()).unwrap_or_default());
    Some(bytes)
}

/// Whether an update would change the document (new content, or deleting something not yet deleted).
pub(super) fn carries_changes(doc: &Doc, update: &Update) -> bool {
    let txn = doc.transact();
    let sv = txn.state_vector();
    if update.extends(&sv) {
        return true;
    }
    if update.state_vector_lower().iter().any(|(client, clock)| *clock > sv.get(client)) {
        return true;
    }
    let deletes = update.delete_set();
    if deletes.is_empty() {
        return false;
    }
    let snapshot = txn.snapshot();
    for (client, ranges) in deletes.iter() {
        for range in ranges.iter() {
            if range.clone().any(|clock| !snapshot.delete_set.contains(&ID::new(*client, clock))) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_recognised() {
        use yrs::{GetString, Text};
        let server = Doc::new();
        let client = Doc::new();
        let text = client.get_or_insert_text("content");
        let mut txn = client.transact_mut();
        text.insert(&mut txn, 0, "[option A] / [option B]");
        let update = Update::decode_v1(&txn.encode_update_v1()).expect("update");
        drop(txn);
        assert!(carries_changes(&server, &update));
        let full = client.transact().encode_state_as_update_v1(&StateVector::default());
        server.transact_mut().apply_update(Update::decode_v1(&full).expect("decode")).expect("apply");
        assert!(!carries_changes(&server, &Update::decode_v1(&full).expect("decode")), "nothing new");
        let mut txn = client.transact_mut();
        text.remove_range(&mut txn, 0, 1);
        let deletion = Update::decode_v1(&txn.encode_update_v1()).expect("update");
        drop(txn);
        assert!(carries_changes(&server, &deletion), "a new deletion is a change");
        assert_eq!(text.get_string(&client.transact()), "option A] / [option B]");
    }
}
