//! Fan-out: encoded once, queued per connection without waiting, and a connection that cannot
//! keep up is closed rather than allowed to grow memory.

use super::*;

impl Room {
    /// Closes a connection with a code; it is removed from the room at once.
    pub(super) fn kill(&mut self, conn: ConnId, code: u16, reason: &str) {
        if let Some(mut c) = self.conns.remove(&conn) {
            tracing::info!(draft = self.draft_id, conn, user = c.who.user_id, code, reason, "closing connection");
            self.metrics.connections_closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(kill) = c.kill.take() {
                let _ = kill.send((code, reason.to_string()));
            }
            self.drop_presence_of(conn);
        }
    }

    pub(super) fn send(&mut self, conn: ConnId, bytes: Bytes) {
        let Some(c) = self.conns.get(&conn) else { return };
        match c.outbox.try_send(bytes) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kill(conn, close::TOO_SLOW, "too slow: reconnect to resync")
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.conns.remove(&conn);
                self.drop_presence_of(conn);
            }
        }
    }

    pub(super) fn broadcast(&mut self, except: Option<ConnId>, bytes: &Bytes) {
        let targets: Vec<ConnId> = self.conns.keys().copied().filter(|id| Some(*id) != except).collect();
        for id in targets {
            self.send(id, bytes.clone());
        }
    }

    pub(super) fn perform(&mut self, action: After, pending: &[Pending]) {
        match action {
            After::SyncStep1(conn) => {
                let sv = self.doc.transact().state_vector();
                self.send(conn, Bytes::from(Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()));
            }
            After::SyncStep2(conn, sv) => {
                let diff = store::encode_state(&self.doc, &sv);
                self.send(conn, Bytes::from(Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1()));
            }
            After::Update(index) => {
                if let Some(p) = pending.get(index).filter(|p| !p.rejected) {
                    let bytes = Bytes::from(Message::Sync(SyncMessage::Update(p.update.data.clone())).encode_v1());
                    self.broadcast(p.conn, &bytes);
                }
            }
            After::Send(conn, bytes) => self.send(conn, bytes),
            After::Broadcast { except, bytes } => self.broadcast(except, &bytes),
            After::AllPresence(conn) => {
                if !self.presence.is_empty() {
                    let clients = self
                        .presence
                        .iter()
                        .map(|(id, p)| (*id, AwarenessUpdateEntry { clock: p.clock, json: p.json.clone() }))
                        .collect();
                    self.send(conn, Bytes::from(Message::Awareness(AwarenessUpdate { clients }).encode_v1()));
                }
            }
            After::View(reply) => {
                let _ = reply.send(self.view());
            }
        }
    }
}
