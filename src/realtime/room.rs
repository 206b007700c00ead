//! One draft's live room: its document, its connections and their presence, owned by one task.
//!
//! Connections talk to the room through [`RoomCommand`]s. The room takes every command waiting
//! in its inbox as one batch, applies the document updates of participants who may write, then
//! appends all of them to the database in **one committed transaction** (a group commit) and only
//! then broadcasts them, answers sync requests and forwards presence. So nothing a client received
//! is missing from the database, whatever crashes. Updates from read-only users are refused
//! (y-protocols auth message `permission-denied`) and never applied or stored.
//!
//! What is stored and broadcast for an update is what the document actually integrated (the
//! transaction's own delta), never the raw bytes a client sent. An update whose dependencies are
//! missing (a stock client that edited offline may send its new edits before its sync reply) is
//! **held** in the document, not refused: it is integrated, stored and broadcast as soon as what
//! it depends on arrives. A connection that holds more than `--ws-hold-bytes`, or for longer than
//! `--ws-hold-secs`, is closed (1002) and the held part dropped; nothing is stored that cannot be
//! integrated.
//!
//! Several instances on one PostgreSQL database: sequence numbers are taken by compare-and-set
//! on the draft's row (see `store::append`), so an instance that is behind gets "taken", reads
//! what the others stored (one consistent read) and tries again. Rooms also look for rows they
//! were not told about every `--room-poll-secs`, so a lost notification delays, never loses, an
//! update.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use tokio::sync::{mpsc, oneshot};
use yrs::encoding::read::{Cursor, Read};
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::protocol::SyncMessage;
use yrs::sync::{AwarenessUpdate, Message};
use yrs::updates::decoder::{Decode, DecoderV1};
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
    /// A new connection: the room answers `joined` at once, then sends it the sync step 1 and
    /// everyone's presence. A join whose `joined` is dropped unanswered reached a room that was
    /// stopping: the connection tries again (a new room starts).
    Join {
        conn: ConnId,
        who: Participant,
        outbox: mpsc::Sender<Bytes>,
        kill: oneshot::Sender<CloseSignal>,
        joined: oneshot::Sender<()>,
    },
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
    /// Sent by the room's own timer: expire held updates, look for rows nobody told us about.
    Tick,
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
    /// The connection it came from (`None`: held updates that another instance's rows completed).
    conn: Option<ConnId>,
    update: NewUpdate,
}

/// Updates of one connection that wait in the document for content they depend on.
struct Held {
    user_id: i64,
    bytes: usize,
    since: Instant,
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
    /// Set when the document must be rebuilt from the database: an update failed half-way, or
    /// held updates must be dropped.
    must_reload: bool,
    /// Connections whose updates the document holds back, waiting for their dependencies.
    held: HashMap<ConnId, Held>,
    /// Whether to look in the database for rows other instances stored (PostgreSQL only).
    poll_db: bool,
    last_poll: Instant,
    /// After a failed compaction, when to try again (and how long to wait after the next failure).
    compact_retry_at: Option<Instant>,
    compact_backoff: Duration,
    /// Messages produced while closing connections, sent at the end of the batch.
    deferred: Vec<After>,
    metrics: Arc<crate::http::metrics::Metrics>,
}

/// The room's answer when it cannot go on (its document may hold updates the database refused).
#[derive(Debug)]
pub struct Fatal(pub ApiError);

const MAX_BATCH: usize = 1024;
/// How often a room wakes up by itself (idle unloading, held updates, polling the database).
const TICK: Duration = Duration::from_secs(1);
const COMPACT_BACKOFF_MIN: Duration = Duration::from_secs(1);
const COMPACT_BACKOFF_MAX: Duration = Duration::from_secs(300);

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
    /// Whether other instances may write to the same database (PostgreSQL): poll for their rows.
    pub shared: bool,
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
            held: HashMap::new(),
            poll_db: loaded.shared,
            last_poll: Instant::now(),
            compact_retry_at: None,
            compact_backoff: COMPACT_BACKOFF_MIN,
            deferred: Vec::new(),
            metrics,
        }
    }

    /// Runs the room until it has been idle long enough (`unload` agrees) or its inbox closes.
    /// `unload` is given the inbox so it can close it while no command waits in it.
    pub async fn run(
        mut self,
        mut inbox: mpsc::Receiver<RoomCommand>,
        unload: impl Fn(&mut mpsc::Receiver<RoomCommand>) -> bool,
    ) {
        let idle = Duration::from_secs(self.cfg.room_idle_secs.max(1));
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut busy_at = Instant::now();
        loop {
            let first = tokio::select! {
                cmd = inbox.recv() => match cmd {
                    Some(cmd) => cmd,
                    None => break,
                },
                _ = ticker.tick() => {
                    if self.conns.is_empty() && busy_at.elapsed() >= idle && unload(&mut inbox) {
                        break;
                    }
                    RoomCommand::Tick
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
                let _ = unload(&mut inbox);
                break;
            }
            if !self.conns.is_empty() {
                busy_at = Instant::now();
            }
        }
        tracing::debug!(draft = self.draft_id, "room unloaded");
    }

    /// Handles one batch: apply, persist (one transaction), then answer and broadcast.
    pub async fn process(&mut self, batch: Vec<RoomCommand>) -> Result<(), Fatal> {
        let mut pending: Vec<Pending> = Vec::new();
        let mut after: Vec<After> = Vec::new();
        let mut remote_seq = 0;
        let mut tick = false;
        for cmd in batch {
            match cmd {
                RoomCommand::Join { conn, who, outbox, kill, joined } => {
                    if joined.send(()).is_err() {
                        continue;
                    }
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
                RoomCommand::Tick => tick = true,
            }
        }
        if tick {
            self.expire_held();
            if self.poll_db && self.last_poll.elapsed() >= Duration::from_secs(self.cfg.room_poll_secs.max(1)) {
                self.last_poll = Instant::now();
                let draft_id = self.draft_id;
                let stored = self.db.read(move |c| store::last_seq(c, draft_id)).await.map_err(Fatal)?;
                if stored > self.last_seq {
                    tracing::debug!(draft = draft_id, stored, ours = self.last_seq, "found rows nobody told us about");
                }
                remote_seq = remote_seq.max(stored);
            }
        }
        // What other instances stored goes out first: local updates may build on it.
        let mut remote = Vec::new();
        if self.must_reload {
            self.reload(&pending, &mut remote).await?;
        }
        if remote_seq > self.last_seq {
            self.catch_up(&mut pending, &mut remote).await?;
        }
        if !pending.is_empty() {
            self.append(&mut pending, &mut remote).await?;
        }
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
        if self.since_compaction >= self.cfg.compact_after.max(1)
            && self.compact_retry_at.is_none_or(|at| Instant::now() >= at)
        {
            self.compact().await;
        }
        Ok(())
    }

    /// Appends this batch's updates in one transaction. If another instance stored updates
    /// meanwhile (our sequence number is taken), read those first and try again.
    async fn append(&mut self, pending: &mut Vec<Pending>, remote: &mut Vec<Vec<u8>>) -> Result<(), Fatal> {
        for _ in 0..10 {
            let updates: Vec<NewUpdate> = pending.iter().map(|p| p.update.clone()).collect();
            let (draft_id, last_seq, instance) = (self.draft_id, self.last_seq, self.instance);
            match self.db.write(move |c| store::append(c, draft_id, last_seq, &updates, instance)).await {
                Ok(Some(seq)) => {
                    self.last_seq = seq;
                    self.metrics.updates_stored.fetch_add(pending.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    self.since_compaction += pending.len();
                    return Ok(());
                }
                Ok(None) => self.catch_up(pending, remote).await?,
                Err(err) => return Err(Fatal(err)),
            }
        }
        Err(Fatal(ApiError::internal(anyhow::anyhow!("could not append after 10 attempts: the log keeps moving"))))
    }

    /// Reads what other instances stored after our last sequence number (one consistent read)
    /// into the document, and queues it for this instance's clients.
    async fn catch_up(&mut self, pending: &mut Vec<Pending>, remote: &mut Vec<Vec<u8>>) -> Result<(), Fatal> {
        let (draft_id, after) = (self.draft_id, self.last_seq);
        let stored = self.db.read_consistent(move |c| store::load_after(c, draft_id, after)).await.map_err(Fatal)?;
        let newest = stored.last_seq();
        if stored.snapshot.is_none() && stored.updates.is_empty() {
            return Ok(());
        }
        let (folded, completed) = {
            let mut txn = self.doc.transact_mut();
            let held_before = held_fingerprint(&txn);
            let sv_before = txn.state_vector();
            for (_, data) in stored.snapshot.iter().chain(&stored.updates) {
                let update = Update::decode_v1(data)
                    .map_err(|e| Fatal(ApiError::internal(anyhow::anyhow!("stored update unreadable: {e}"))))?;
                txn.apply_update(update)
                    .map_err(|e| Fatal(ApiError::internal(anyhow::anyhow!("stored update does not apply: {e}"))))?;
            }
            // A snapshot is the whole document: send clients only what is new to them.
            let folded = stored.snapshot.is_some().then(|| txn.encode_diff_v1(&sv_before));
            // The rows completed updates we held: what that integrated is ours to store (it
            // includes the rows themselves, which is harmless: updates are idempotent).
            let completed =
                (held_before.is_some() && held_fingerprint(&txn) != held_before).then(|| txn.encode_update_v1());
            (folded, completed)
        };
        match folded {
            Some(diff) => remote.push(diff),
            None => remote.extend(stored.updates.into_iter().map(|(_, d)| d)),
        }
        if let Some(data) = completed
            && let Some(user_id) = self.held.values().map(|h| h.user_id).next()
        {
            remote.push(data.clone());
            pending.push(Pending { conn: None, update: NewUpdate { user_id, data } });
        }
        if held_fingerprint(&self.doc.transact()).is_none() {
            self.held.clear();
        }
        if newest > self.last_seq {
            self.since_compaction += usize::try_from(newest - self.last_seq).unwrap_or(0);
            self.last_seq = newest;
        }
        Ok(())
    }

    fn frame(&mut self, conn: ConnId, data: &[u8], pending: &mut Vec<Pending>, after: &mut Vec<After>) {
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
        let applied = {
            let mut txn = self.doc.transact_mut();
            let held_before = held_fingerprint(&txn);
            let before = txn.state_vector();
            txn.apply_update(update).ok().map(|()| {
                let changed = txn.state_vector() != before || !txn.delete_set().is_empty();
                // Exactly what this transaction integrated: this update, and any held update it
                // completed. Parts still waiting for their dependencies are not in it.
                let delta = changed.then(|| txn.encode_update_v1());
                let held_after = held_fingerprint(&txn);
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
            pending.push(Pending { conn: Some(conn), update: NewUpdate { user_id, data } });
            after.push(After::Update(pending.len() - 1));
        }
        if nothing_held {
            self.held.clear();
        } else if held_more {
            let held = self.held.entry(conn).or_insert(Held { user_id, bytes: 0, since: Instant::now() });
            held.bytes += data.len();
            if held.bytes > self.cfg.hold_bytes {
                tracing::info!(draft = self.draft_id, conn, bytes = held.bytes, "held updates over the limit");
                self.must_reload = true;
            }
        }
    }

    /// Drops held updates that waited longer than `--ws-hold-secs` (the document is rebuilt
    /// without them, and their connections are closed so that they resync).
    fn expire_held(&mut self) {
        let limit = Duration::from_secs(self.cfg.hold_secs.max(1));
        if self.held.values().any(|h| h.since.elapsed() > limit) {
            tracing::info!(draft = self.draft_id, "held updates waited too long for their dependencies");
            self.must_reload = true;
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
            // One client's presence is a cursor and a name, not a payload: larger states are
            // refused (not stored, not forwarded).
            if entry.json.len() > self.cfg.presence_bytes {
                self.metrics.updates_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
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
                let diff = store::encode_state(&self.doc, &sv);
                self.send(conn, Bytes::from(Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1()));
            }
            After::Update(index) => {
                if let Some(p) = pending.get(index) {
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

    /// Rebuilds the document from the database (one consistent read) plus this batch's accepted,
    /// not yet stored updates. Whatever other instances stored meanwhile goes to this instance's
    /// clients; held updates are dropped, and their connections closed so they resync.
    async fn reload(&mut self, pending: &[Pending], remote: &mut Vec<Vec<u8>>) -> Result<(), Fatal> {
        let draft_id = self.draft_id;
        let stored = self.db.read_consistent(move |c| store::load(c, draft_id)).await.map_err(Fatal)?;
        let doc = stored.to_doc().map_err(Fatal)?;
        store::apply_updates(&doc, pending.iter().map(|p| p.update.data.as_slice())).map_err(Fatal)?;
        let sv_before = self.doc.transact().state_vector();
        if doc.transact().state_vector() != sv_before || stored.last_seq() > self.last_seq {
            remote.push(store::encode_state(&doc, &sv_before));
        }
        self.doc = doc;
        self.since_compaction = stored.updates.len() + pending.len();
        self.last_seq = stored.last_seq();
        self.must_reload = false;
        for conn in std::mem::take(&mut self.held).into_keys() {
            self.kill(conn, close::PROTOCOL_ERROR, "updates that depend on content this document does not have");
        }
        Ok(())
    }

    /// Folds the log into a snapshot. The document holds everything stored up to `last_seq`
    /// here (every applied update was committed), so its encoded state is the snapshot. After a
    /// failure the room waits (doubling, up to five minutes) instead of encoding the whole
    /// document again on every batch.
    async fn compact(&mut self) {
        let (draft_id, seq, doc) = (self.draft_id, self.last_seq, self.doc.clone());
        let started = Instant::now();
        match self.db.write(move |c| store::compact(c, draft_id, seq, &doc)).await {
            Ok(folded) => {
                self.since_compaction = 0;
                self.compact_retry_at = None;
                self.compact_backoff = COMPACT_BACKOFF_MIN;
                tracing::info!(
                    draft = draft_id,
                    seq,
                    folded = folded.unwrap_or(0),
                    skipped = folded.is_none(),
                    ms = started.elapsed().as_millis() as u64,
                    "log compacted"
                );
            }
            Err(err) => {
                tracing::warn!(draft = draft_id, error = %err, retry_in_secs = self.compact_backoff.as_secs(), "compaction failed");
                self.compact_retry_at = Some(Instant::now() + self.compact_backoff);
                self.compact_backoff = (self.compact_backoff * 2).min(COMPACT_BACKOFF_MAX);
            }
        }
    }
}

/// What the document holds back for missing dependencies, as comparable bytes (`None`: nothing).
fn held_fingerprint<T: ReadTxn>(txn: &T) -> Option<Vec<u8>> {
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
