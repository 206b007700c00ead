//! Fan-out: every message encoded once; a batch's messages are staged and handed to each
//! connection as one queue item at the batch's end (the connection writes them as consecutive
//! frames, which the socket takes in one write), without waiting; a connection that cannot keep
//! up is closed rather than allowed to grow memory.

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

    /// Queues a message for one connection, sent with the rest of the batch (see [`Room::flush`]).
    pub(super) fn send(&mut self, conn: ConnId, bytes: Bytes) {
        if self.conns.contains_key(&conn) {
            self.staged.push((Dest::One(conn), bytes));
        }
    }

    /// Queues a message for every connection but `except`, encoded once.
    pub(super) fn broadcast(&mut self, except: Option<ConnId>, bytes: &Bytes) {
        self.staged.push((Dest::All { except }, bytes.clone()));
    }

    /// Hands every connection the batch's messages for it as one queue item, without waiting:
    /// the connections that no message singles out (nearly all of them) share one list. A
    /// connection whose queue is full is closed (4000, it resyncs when it reconnects) instead of
    /// letting the room's memory grow.
    pub(super) fn flush(&mut self) {
        if self.staged.is_empty() {
            return;
        }
        let staged = std::mem::take(&mut self.staged);
        let singled_out: std::collections::HashSet<ConnId> = staged
            .iter()
            .filter_map(|(dest, _)| match dest {
                Dest::One(c) | Dest::All { except: Some(c) } => Some(*c),
                Dest::All { except: None } => None,
            })
            .collect();
        let common: Outgoing =
            staged.iter().filter(|(dest, _)| matches!(dest, Dest::All { .. })).map(|(_, b)| b.clone()).collect();
        let mut full = Vec::new();
        let mut gone = Vec::new();
        for (id, c) in &self.conns {
            let item = if singled_out.contains(id) {
                let own: Outgoing =
                    staged.iter().filter(|(dest, _)| dest.reaches(*id)).map(|(_, b)| b.clone()).collect();
                own
            } else {
                common.clone()
            };
            if item.is_empty() {
                continue;
            }
            match c.outbox.try_send(item) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => full.push(*id),
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(*id),
            }
        }
        for id in full {
            self.kill(id, close::TOO_SLOW, "too slow: reconnect to resync");
        }
        for id in gone {
            self.conns.remove(&id);
            self.drop_presence_of(id);
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
