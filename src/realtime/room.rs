//! One draft's live room: its document, its connections and their presence, owned by one task.
//!
//! Connections talk to the room through [`RoomCommand`]s. The room takes every command waiting
//! in its inbox as one batch, applies the document updates of participants who may write, then
//! appends all of them to the database in **one committed transaction** (a group commit) and only
//! then broadcasts them, answers sync requests and forwards presence. So nothing a client received
//! is missing from the database, whatever crashes. Updates from read-only users are refused
//! (y-protocols auth message `permission-denied`) and never applied or stored.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use tokio::sync::{mpsc, oneshot};
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::protocol::SyncMessage;
use yrs::sync::{AwarenessUpdate, Message};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, ID, ReadTxn, StateVector, Transact, Update};

use crate::config::DraftingConfig;
use crate::db::Db;
use crate::drafting::store::{self, NewUpdate};
use crate::http::error::ApiError;

/// Identifies one websocket connection.
pub type ConnId = u64;

/// Close codes sent to clients.
pub mod close {
    /// The message could not be decoded, or its update does not fit the document.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Text frames are not part of the protocol.
    pub const UNSUPPORTED: u16 = 1003;
    /// The message is over the configured size.
    pub const TOO_BIG: u16 = 1009;
    /// The server could not store an update; reconnect to resync.
    pub const SERVER_ERROR: u16 = 1011;
    /// The client did not keep up with the room; reconnect to resync.
    pub const TOO_SLOW: u16 = 4000;
}

/// Who is behind a connection, from the server-side session.
#[derive(Clone, Debug)]
pub struct Participant {
    pub user_id: i64,
    pub name: String,
    pub organisation: String,
    pub kind: String,
    /// May this person change the text (before the draft's own lock is considered)?
    pub may_write: bool,
}

impl Participant {
    fn color(&self) -> (&'static str, &'static str) {
        const COLORS: [(&str, &str); 8] = [
            ("#1f77b4", "#1f77b433"),
            ("#d62728", "#d6272833"),
            ("#2ca02c", "#2ca02c33"),
            ("#9467bd", "#9467bd33"),
            ("#8c564b", "#8c564b33"),
            ("#e377c2", "#e377c233"),
            ("#ff7f0e", "#ff7f0e33"),
            ("#17becf", "#17becf33"),
        ];
        COLORS[usize::try_from(self.user_id.rem_euclid(8)).unwrap_or(0)]
    }
}

/// A person connected to the room, as `GET /api/drafts/{id}` shows it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Connected {
    pub user_id: i64,
    pub name: String,
    pub organisation: String,
    /// How many connections (tabs, devices) this person has open.
    pub connections: usize,
}

/// What the room knows right now.
#[derive(Clone, Debug)]
pub struct RoomView {
    pub text: String,
    pub connected: Vec<Connected>,
}

/// Why a connection is being closed: a websocket close code and a reason.
pub type CloseSignal = (u16, String);

/// A command to a room.
pub enum RoomCommand {
    /// A new connection: the room sends it the sync step 1 and everyone's presence.
    Join { conn: ConnId, who: Participant, outbox: mpsc::Sender<Bytes>, kill: oneshot::Sender<CloseSignal> },
    /// The connection ended; its presence is removed for everyone.
    Leave { conn: ConnId },
    /// A binary websocket message from a connection.
    Frame { conn: ConnId, data: Bytes },
    /// The draft was locked (read-only for all) or unlocked.
    SetLocked(bool),
    /// Reports the text and who is connected.
    View(oneshot::Sender<RoomView>),
    /// Another instance stored updates up to this sequence number: read and forward them.
    Remote { seq: i64 },
}

struct Conn {
    who: Participant,
    outbox: mpsc::Sender<Bytes>,
    kill: Option<oneshot::Sender<CloseSignal>>,
    /// The awareness client id this connection owns: the first it announced.
    client_id: Option<ClientID>,
    awareness_budget: f64,
    awareness_at: Instant,
}

struct Presence {
    clock: u32,
    json: Arc<str>,
    owner: ConnId,
}

/// Work that must wait until the batch's updates are committed.
enum After {
    SyncStep1(ConnId),
    SyncStep2(ConnId, StateVector),
    /// Broadcast the pending update at this index to everyone but its sender.
    Update(usize),
    Send(ConnId, Bytes),
    Broadcast {
        except: Option<ConnId>,
        bytes: Bytes,
    },
    AllPresence(ConnId),
    View(oneshot::Sender<RoomView>),
}

struct Pending {
    conn: ConnId,
    update: NewUpdate,
}

/// The state of one loaded draft.
pub struct Room {
    draft_id: i64,
    /// This server instance, named in the notifications it sends.
    instance: u64,
    db: Db,
    cfg: DraftingConfig,
    doc: Doc,
    last_seq: i64,
    since_compaction: usize,
    locked: bool,
    conns: HashMap<ConnId, Conn>,
    presence: HashMap<ClientID, Presence>,
    /// Set when a refused update left the document in a state that must be rebuilt.
    must_reload: bool,
    /// Messages produced while closing connections, sent at the end of the batch.
    deferred: Vec<After>,
    metrics: Arc<crate::http::metrics::Metrics>,
}

/// The room's answer when it cannot go on (its document may hold updates the database refused).
#[derive(Debug)]
pub struct Fatal(pub ApiError);

const MAX_BATCH: usize = 1024;

fn permission_denied() -> Bytes {
    Bytes::from(Message::Auth(Some("permission-denied".into())).encode_v1())
}

/// A draft as loaded from the database when its room starts.
pub struct Loaded {
    pub draft_id: i64,
    /// The document rebuilt from the snapshot and the log.
    pub doc: Doc,
    /// The sequence number of the newest stored update.
    pub last_seq: i64,
    /// How many updates follow the snapshot (counted towards the next compaction).
    pub log_len: usize,
    pub locked: bool,
}

impl Room {
    /// A room for a loaded draft, on this server `instance`.
    pub fn new(
        loaded: Loaded,
        instance: u64,
        db: Db,
        cfg: DraftingConfig,
        metrics: Arc<crate::http::metrics::Metrics>,
    ) -> Self {
        Self {
            draft_id: loaded.draft_id,
            instance,
            db,
            cfg,
            doc: loaded.doc,
            last_seq: loaded.last_seq,
            since_compaction: loaded.log_len,
            locked: loaded.locked,
            conns: HashMap::new(),
            presence: HashMap::new(),
            must_reload: false,
            deferred: Vec::new(),
            metrics,
        }
    }

    /// Runs the room until it has been idle long enough (`unload` agrees) or its inbox closes.
    pub async fn run(
        mut self,
        mut inbox: mpsc::Receiver<RoomCommand>,
        unload: impl Fn(&mpsc::Receiver<RoomCommand>) -> bool,
    ) {
        let idle = Duration::from_secs(self.cfg.room_idle_secs.max(1));
        loop {
            let first = if self.conns.is_empty() {
                match tokio::time::timeout(idle, inbox.recv()).await {
                    Ok(Some(cmd)) => cmd,
                    Ok(None) => break,
                    Err(_) if unload(&inbox) => break,
                    Err(_) => continue,
                }
            } else {
                match inbox.recv().await {
                    Some(cmd) => cmd,
                    None => break,
                }
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match inbox.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            if let Err(Fatal(err)) = self.process(batch).await {
                tracing::error!(draft = self.draft_id, error = %err, "room stopped: could not store updates");
                for id in self.conns.keys().copied().collect::<Vec<_>>() {
                    self.kill(id, close::SERVER_ERROR, "the server could not store an update; reconnect");
                }
                // Stop taking commands; the hub starts a fresh room from the database.
                inbox.close();
                let _ = unload(&inbox);
                break;
            }
        }
        tracing::debug!(draft = self.draft_id, "room unloaded");
    }

    /// Handles one batch: apply, persist (one transaction), then answer and broadcast.
    pub async fn process(&mut self, batch: Vec<RoomCommand>) -> Result<(), Fatal> {
        let mut pending: Vec<Pending> = Vec::new();
        let mut after: Vec<After> = Vec::new();
        let mut remote_seq = 0;
        for cmd in batch {
            match cmd {
                RoomCommand::Join { conn, who, outbox, kill } => {
                    let budget = f64::from(self.cfg.awareness_per_sec.max(1));
                    self.conns.insert(
                        conn,
                        Conn {
                            who,
                            outbox,
                            kill: Some(kill),
                            client_id: None,
                            awareness_budget: budget,
                            awareness_at: Instant::now(),
                        },
                    );
                    after.push(After::SyncStep1(conn));
                    after.push(After::AllPresence(conn));
                }
                RoomCommand::Leave { conn } => {
                    if self.conns.remove(&conn).is_some() {
                        self.drop_presence_of(conn);
                    }
                }
                RoomCommand::Frame { conn, data } => self.frame(conn, &data, &mut pending, &mut after),
                RoomCommand::SetLocked(locked) => self.locked = locked,
                RoomCommand::View(reply) => after.push(After::View(reply)),
                RoomCommand::Remote { seq } => remote_seq = remote_seq.max(seq),
            }
        }
        if self.must_reload {
            self.reload(&pending).await?;
        }
        let mut remote = Vec::new();
        if remote_seq > self.last_seq {
            self.catch_up(&mut remote).await?;
        }
        if !pending.is_empty() {
            self.append(&pending, &mut remote).await?;
        }
        // What other instances stored goes out first: local updates may build on it.
        for update in remote {
            let bytes = Bytes::from(Message::Sync(SyncMessage::Update(update)).encode_v1());
            self.broadcast(None, &bytes);
        }
        for action in after.into_iter().chain(std::mem::take(&mut self.deferred)) {
            self.perform(action, &pending);
        }
        // Closing slow connections may have produced presence removals.
        for action in std::mem::take(&mut self.deferred) {
            self.perform(action, &pending);
        }
        if self.since_compaction >= self.cfg.compact_after.max(1) {
            self.compact().await;
        }
        Ok(())
    }

    /// Appends this batch's updates in one transaction. If another instance stored updates
    /// meanwhile (the sequence number is taken), read those first and try again.
    async fn append(&mut self, pending: &[Pending], remote: &mut Vec<Vec<u8>>) -> Result<(), Fatal> {
        let updates: Vec<NewUpdate> = pending.iter().map(|p| p.update.clone()).collect();
        for _ in 0..10 {
            let (draft_id, last_seq, instance, batch) = (self.draft_id, self.last_seq, self.instance, updates.clone());
            match self.db.write(move |c| store::append(c, draft_id, last_seq, &batch, instance)).await {
                Ok(seq) => {
                    self.last_seq = seq;
                    self.metrics.updates_stored.fetch_add(pending.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    self.since_compaction += pending.len();
                    return Ok(());
                }
                Err(ApiError::Conflict(_)) => self.catch_up(remote).await?,
                Err(err) => return Err(Fatal(err)),
            }
        }
        Err(Fatal(ApiError::internal(anyhow::anyhow!("could not append after 10 attempts: the log keeps moving"))))
    }

    /// Reads what other instances stored after our last sequence number into the document.
    async fn catch_up(&mut self, remote: &mut Vec<Vec<u8>>) -> Result<(), Fatal> {
        let (draft_id, after) = (self.draft_id, self.last_seq);
        let stored = self.db.read(move |c| store::load_after(c, draft_id, after)).await.map_err(Fatal)?;
        let newest = stored.last_seq();
        let received: Vec<Vec<u8>> = stored.snapshot.into_iter().chain(stored.updates).map(|(_, d)| d).collect();
        store::apply_updates(&self.doc, received.iter().map(Vec::as_slice)).map_err(Fatal)?;
        remote.extend(received);
        if newest > self.last_seq {
            self.last_seq = newest;
        }
        Ok(())
    }

    fn frame(&mut self, conn: ConnId, data: &[u8], pending: &mut Vec<Pending>, after: &mut Vec<After>) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        // The connection already refused frames over the size limit (1009).
        // One message per frame, as y-websocket sends them. (yrs's `MessageReader` would take a
        // truncated message for the end of the frame and silently drop it.)
        let Ok(message) = Message::decode_v1(data) else {
            self.kill(conn, close::PROTOCOL_ERROR, "malformed y-protocols message");
            return;
        };
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => after.push(After::SyncStep2(conn, sv)),
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                self.update(conn, update, pending, after)
            }
            Message::Awareness(update) => self.awareness(conn, update, after),
            Message::AwarenessQuery => after.push(After::AllPresence(conn)),
            Message::Auth(_) | Message::Custom(..) => {}
        }
    }

    fn update(&mut self, conn: ConnId, data: Vec<u8>, pending: &mut Vec<Pending>, after: &mut Vec<After>) {
        let Ok(update) = Update::decode_v1(&data) else {
            self.kill(conn, close::PROTOCOL_ERROR, "malformed document update");
            return;
        };
        let Some(c) = self.conns.get(&conn) else { return };
        let user_id = c.who.user_id;
        if !c.who.may_write || self.locked {
            if carries_changes(&self.doc, &update) {
                self.metrics.updates_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                after.push(After::Send(conn, permission_denied()));
            }
            return;
        }
        let (applied, missing, changed) = {
            let mut txn = self.doc.transact_mut();
            let before = txn.state_vector();
            let applied = txn.apply_update(update).is_ok();
            let missing = txn.store().pending_update().is_some() || txn.store().pending_ds().is_some();
            let changed = txn.state_vector() != before || !txn.delete_set().is_empty();
            (applied, missing, changed)
        };
        if !applied || missing {
            // Part of it may already be in the document: rebuild it from what is stored.
            self.must_reload = true;
            self.kill(conn, close::PROTOCOL_ERROR, "the update refers to content this document does not have");
            return;
        }
        if changed {
            pending.push(Pending { conn, update: NewUpdate { user_id, data } });
            after.push(After::Update(pending.len() - 1));
        }
    }

    fn awareness(&mut self, conn: ConnId, update: AwarenessUpdate, after: &mut Vec<After>) {
        let rate = f64::from(self.cfg.awareness_per_sec.max(1));
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let now = Instant::now();
        c.awareness_budget = (c.awareness_budget + now.duration_since(c.awareness_at).as_secs_f64() * rate).min(rate);
        c.awareness_at = now;
        if c.awareness_budget < 1.0 {
            return;
        }
        c.awareness_budget -= 1.0;
        let mut out = HashMap::new();
        for (client_id, entry) in update.clients {
            let claimed_by_other = self.presence.get(&client_id).is_some_and(|p| p.owner != conn);
            let Some(c) = self.conns.get_mut(&conn) else { return };
            if c.client_id.is_none() && !claimed_by_other {
                c.client_id = Some(client_id);
            }
            if c.client_id != Some(client_id) {
                continue;
            }
            if self.presence.get(&client_id).is_some_and(|p| entry.clock < p.clock) {
                continue;
            }
            if &*entry.json == "null" {
                self.presence.remove(&client_id);
                out.insert(client_id, entry);
                continue;
            }
            let Some(json) = stamp_user(&entry.json, &c.who, self.locked) else { continue };
            self.presence.insert(client_id, Presence { clock: entry.clock, json: json.clone(), owner: conn });
            out.insert(client_id, AwarenessUpdateEntry { clock: entry.clock, json });
        }
        if !out.is_empty() {
            let bytes = Bytes::from(Message::Awareness(AwarenessUpdate { clients: out }).encode_v1());
            after.push(After::Broadcast { except: Some(conn), bytes });
        }
    }

    fn drop_presence_of(&mut self, conn: ConnId) {
        let gone: Vec<(ClientID, u32)> =
            self.presence.iter().filter(|(_, p)| p.owner == conn).map(|(id, p)| (*id, p.clock)).collect();
        if gone.is_empty() {
            return;
        }
        let mut clients = HashMap::new();
        for (id, clock) in gone {
            self.presence.remove(&id);
            clients.insert(id, AwarenessUpdateEntry { clock: clock + 1, json: Arc::from("null") });
        }
        let bytes = Bytes::from(Message::Awareness(AwarenessUpdate { clients }).encode_v1());
        self.deferred.push(After::Broadcast { except: None, bytes });
    }

    /// Closes a connection with a code; it is removed from the room at once.
    fn kill(&mut self, conn: ConnId, code: u16, reason: &str) {
        if let Some(mut c) = self.conns.remove(&conn) {
            tracing::info!(draft = self.draft_id, conn, user = c.who.user_id, code, reason, "closing connection");
            self.metrics.connections_closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(kill) = c.kill.take() {
                let _ = kill.send((code, reason.to_string()));
            }
            self.drop_presence_of(conn);
        }
    }

    fn send(&mut self, conn: ConnId, bytes: Bytes) {
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

    fn broadcast(&mut self, except: Option<ConnId>, bytes: &Bytes) {
        let targets: Vec<ConnId> = self.conns.keys().copied().filter(|id| Some(*id) != except).collect();
        for id in targets {
            self.send(id, bytes.clone());
        }
    }

    fn perform(&mut self, action: After, pending: &[Pending]) {
        match action {
            After::SyncStep1(conn) => {
                let sv = self.doc.transact().state_vector();
                self.send(conn, Bytes::from(Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()));
            }
            After::SyncStep2(conn, sv) => {
                let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                self.send(conn, Bytes::from(Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1()));
            }
            After::Update(index) => {
                if let Some(p) = pending.get(index) {
                    let bytes = Bytes::from(Message::Sync(SyncMessage::Update(p.update.data.clone())).encode_v1());
                    self.broadcast(Some(p.conn), &bytes);
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

    fn view(&self) -> RoomView {
        let mut people: HashMap<i64, Connected> = HashMap::new();
        for c in self.conns.values() {
            people
                .entry(c.who.user_id)
                .or_insert_with(|| Connected {
                    user_id: c.who.user_id,
                    name: c.who.name.clone(),
                    organisation: c.who.organisation.clone(),
                    connections: 0,
                })
                .connections += 1;
        }
        let mut connected: Vec<Connected> = people.into_values().collect();
        connected.sort_by(|a, b| a.name.cmp(&b.name));
        RoomView { text: store::text_of(&self.doc), connected }
    }

    /// Rebuilds the document from the database plus this batch's accepted (not yet stored) updates.
    async fn reload(&mut self, pending: &[Pending]) -> Result<(), Fatal> {
        let draft_id = self.draft_id;
        let stored = self.db.read(move |c| store::load(c, draft_id)).await.map_err(Fatal)?;
        let doc = stored.to_doc().map_err(Fatal)?;
        store::apply_updates(&doc, pending.iter().map(|p| p.update.data.as_slice())).map_err(Fatal)?;
        self.doc = doc;
        self.last_seq = stored.last_seq();
        self.must_reload = false;
        Ok(())
    }

    /// Folds the log into a snapshot. The document holds exactly the stored state here (every
    /// applied update was committed), so its encoded state is the snapshot.
    async fn compact(&mut self) {
        let (draft_id, seq, doc) = (self.draft_id, self.last_seq, self.doc.clone());
        let started = Instant::now();
        match self.db.write(move |c| store::compact(c, draft_id, seq, &doc)).await {
            Ok(folded) => {
                self.since_compaction = 0;
                tracing::info!(
                    draft = draft_id,
                    seq,
                    folded,
                    ms = started.elapsed().as_millis() as u64,
                    "log compacted"
                );
            }
            Err(err) => tracing::warn!(draft = draft_id, error = %err, "compaction failed; will retry"),
        }
    }
}

/// Whether an update would change the document (new content, or deleting something not yet deleted).
fn carries_changes(doc: &Doc, update: &Update) -> bool {
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

/// Replaces the `user` field of a presence state with who the session says this is.
fn stamp_user(json: &str, who: &Participant, locked: bool) -> Option<Arc<str>> {
    let mut state: serde_json::Value = serde_json::from_str(json).ok()?;
    let obj = state.as_object_mut()?;
    let (color, light) = who.color();
    obj.insert(
        "user".into(),
        serde_json::json!({
            "id": who.user_id,
            "name": who.name,
            "organisation": who.organisation,
            "kind": who.kind,
            "color": color,
            "colorLight": light,
            "readOnly": !who.may_write || locked,
        }),
    );
    Some(Arc::from(state.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(may_write: bool) -> Participant {
        Participant {
            user_id: 7,
            name: "Kabo Molefe".into(),
            organisation: "Botswana".into(),
            kind: "participant".into(),
            may_write,
        }
    }

    #[test]
    fn presence_names_come_from_the_session() {
        let json =
            stamp_user(r##"{"user":{"name":"Impostor","color":"#000"},"cursor":{"anchor":1}}"##, &who(true), false)
                .expect("object");
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(v["user"]["name"], "Kabo Molefe");
        assert_eq!(v["user"]["organisation"], "Botswana");
        assert_eq!(v["user"]["readOnly"], false);
        assert_eq!(v["cursor"]["anchor"], 1);
        assert!(stamp_user("[1,2]", &who(true), false).is_none());
        let locked = stamp_user("{}", &who(true), true).expect("object");
        assert!(locked.contains("\"readOnly\":true"));
    }

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
