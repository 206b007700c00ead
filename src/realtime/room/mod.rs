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
//! it depends on arrives. So is an update with content after clocks of its client that the
//! document lacks: it waits in the room, unapplied, until they arrive. A connection that holds
//! more than `--ws-hold-bytes`, or for longer than `--ws-hold-secs`, is closed (1002) and the
//! held part dropped; nothing is stored that cannot be integrated.
//!
//! Several instances on one PostgreSQL database: sequence numbers are taken by compare-and-set
//! on the draft's row (see `store::append`), so an instance that is behind gets "taken", reads
//! what the others stored (one consistent read) and tries again. Rooms also look for rows they
//! were not told about every `--room-poll-secs`, so a lost notification delays, never loses, an
//! update.
//!
//! The parts: this file owns the state and the batch loop ([`Room::process`]); `protocol.rs`
//! decodes messages and applies (or holds, or refuses) updates; `awareness.rs` handles presence;
//! `persistence.rs` appends, catches up, reloads and compacts; `fanout.rs` queues messages to
//! connections and closes the ones that cannot keep up.

mod awareness;
mod fanout;
mod persistence;
mod protocol;

pub use protocol::{Incoming, Integrated, Integration, Refusal, classify, integrate, skips_clocks};

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
use crate::drafting::model::TextGate;
use crate::drafting::store::{self, NewUpdate};
use crate::error::Error;

/// The y-protocols message type of a stage notice: a JSON string (`{"type":"stage",…}`), sent
/// only to connections that asked for them with `?events=stage`. (y-websocket lets a client add
/// a handler for a message type; stock clients never ask, so never see one.)
pub const STAGE_MESSAGE: u8 = 100;

fn stage_message(notice: &str) -> Bytes {
    Bytes::from(Message::Custom(STAGE_MESSAGE, notice.as_bytes().to_vec()).encode_v1())
}

/// Identifies one websocket connection.
pub type ConnId = u64;

/// What a room hands a connection at the end of a batch: the batch's messages for it, in order,
/// each one y-protocols message (one websocket frame). Messages sent to every connection are
/// encoded once and the same list is shared by all of them.
pub type Outgoing = Arc<[Bytes]>;

/// Close codes sent to clients.
pub mod close {
    /// The message could not be decoded, or its update does not fit the document.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Text frames are not part of the protocol.
    pub const UNSUPPORTED: u16 = 1003;
    /// The server is stopping (a restart or a deploy): reconnect, to another instance if there is one.
    pub const GOING_AWAY: u16 = 1001;
    /// The message is over the configured size.
    pub const TOO_BIG: u16 = 1009;
    /// The server could not store an update; reconnect to resync.
    pub const SERVER_ERROR: u16 = 1011;
    /// The client did not keep up with the room; reconnect to resync.
    pub const TOO_SLOW: u16 = 4000;
    /// The session ended (signed out, revoked, expired, user disabled, organisation suspended).
    pub const SESSION_ENDED: u16 = 4001;
    /// The person's permissions changed; reconnecting applies the new ones.
    pub const PERMISSIONS_CHANGED: u16 = 4003;
}

/// Who is behind a connection, from the server-side session.
#[derive(Clone, Debug)]
pub struct Participant {
    pub user_id: i64,
    /// The session the connection was opened with (re-checked before its updates are stored).
    pub session_id: i64,
    pub name: String,
    pub organisation: String,
    pub kind: String,
    /// May this person change the text while it is drafted (before the draft's stage and lock)?
    pub may_write: bool,
    /// Does this person chair the draft's body (who alone edits in final reading)? Read when
    /// the connection opened; the check before storing reads it again.
    pub chairs: bool,
    /// Did the client ask for the draft's stage changes (`?events=stage`)?
    pub stage_events: bool,
}

impl Participant {
    /// Whether this person may change the text behind `gate`.
    pub fn may_edit(&self, gate: TextGate) -> bool {
        match gate {
            TextGate::Open => self.may_write,
            TextGate::ChairOnly => self.chairs,
            TextGate::Closed => false,
        }
    }

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
        outbox: mpsc::Sender<Outgoing>,
        kill: oneshot::Sender<CloseSignal>,
        joined: oneshot::Sender<()>,
    },
    /// The connection ended; its presence is removed for everyone.
    Leave { conn: ConnId },
    /// A binary websocket message from a connection.
    Frame { conn: ConnId, data: Bytes },
    /// The draft's stage or lock changed: read the row, tell the clients who asked.
    Stage,
    /// Reports the text and who is connected.
    View(oneshot::Sender<RoomView>),
    /// Another instance stored updates up to this sequence number: read and forward them.
    Remote { seq: i64 },
    /// Sent by the room's own timer: expire held updates, look for rows nobody told us about.
    Tick,
}

struct Conn {
    who: Participant,
    outbox: mpsc::Sender<Outgoing>,
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

/// Who a staged message goes to.
#[derive(Clone, Copy)]
enum Dest {
    One(ConnId),
    All { except: Option<ConnId> },
}

impl Dest {
    fn reaches(self, conn: ConnId) -> bool {
        match self {
            Dest::One(c) => c == conn,
            Dest::All { except } => except != Some(conn),
        }
    }
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
    /// The sender's session, checked before the batch is stored.
    session: Option<i64>,
    /// Refused after all: the session ended or lost the right to write before it was stored.
    rejected: bool,
    update: NewUpdate,
}

/// Who sent an update.
#[derive(Clone, Copy)]
struct Author {
    conn: ConnId,
    user_id: i64,
    session_id: i64,
}

/// An update not applied yet because it skips clocks the document does not have.
struct Waiting {
    from: Author,
    update: Update,
    data: Vec<u8>,
}

/// Updates of one connection that wait (in the document, or in `Room::waiting`) for content
/// they depend on.
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
    /// Who may change the text now (the draft's stage and lock).
    gate: TextGate,
    conns: HashMap<ConnId, Conn>,
    presence: HashMap<ClientID, Presence>,
    /// Set when the document must be rebuilt from the database: an update failed half-way, or
    /// held updates must be dropped.
    must_reload: bool,
    /// Connections whose updates the document holds back, waiting for their dependencies.
    held: HashMap<ConnId, Held>,
    /// Updates that skip clocks the document does not have yet, in the order they came.
    waiting: Vec<Waiting>,
    /// Whether to look in the database for rows other instances stored (PostgreSQL only).
    poll_db: bool,
    last_poll: Instant,
    /// When the next compaction may start: after a failure, a backoff (and how long to wait
    /// after the next failure); after a success, enough time for compactions to take at most a
    /// tenth of the room's time ([`COMPACT_SHARE`]).
    compact_retry_at: Option<Instant>,
    compact_backoff: Duration,
    /// The compaction being written, if one is.
    compacting: Option<Compaction>,
    /// The stage notice last sent, so a repeated announcement (local and by NOTIFY) is sent once.
    last_notice: Option<String>,
    /// Messages produced while closing connections, sent at the end of the batch.
    deferred: Vec<After>,
    /// The batch's outgoing messages, in order, handed to the connections at its end (see
    /// `fanout.rs`): one queue item per connection per batch, however many messages.
    staged: Vec<(Dest, Bytes)>,
    metrics: Arc<crate::metrics::Metrics>,
    writer_check: super::WriterCheck,
}

/// A compaction being written by its own task.
struct Compaction {
    task: tokio::task::JoinHandle<Result<Option<usize>, Error>>,
    /// The sequence number it folds up to.
    seq: i64,
    /// How many updates it folds (counted again towards the next one if it fails).
    covers: usize,
    started: Instant,
}

/// The room's answer when it cannot go on (its document may hold updates the database refused).
#[derive(Debug)]
pub struct Fatal(pub Error);

/// At most this many commands make one batch (one transaction). A burst (an upload, a paste, a
/// replayed editing session) fills it: the transaction's fixed costs (round trips, the sender
/// check, the commit's flush) are then paid once per 4,096 updates; at 1,024 they were most of
/// the time a PostgreSQL room spent storing the automerge-paper trace.
const MAX_BATCH: usize = 4096;
/// While applying a batch, the room lets the other tasks of its thread run every this many
/// commands (a full batch is several milliseconds of work).
const YIELD_EVERY: usize = 1024;
/// How often a room wakes up by itself (idle unloading, held updates, polling the database).
const TICK: Duration = Duration::from_secs(1);
const COMPACT_BACKOFF_MIN: Duration = Duration::from_secs(1);
/// After a compaction that took `t` (encoding the document, writing the snapshot, deleting the
/// log), the next one waits `COMPACT_SHARE × t`: folding a large document after every
/// `--compact-after` updates of a burst (an upload, a paste of the whole text, a fast typist on a
/// long text) would otherwise spend more time encoding and rewriting the whole document than
/// storing the updates, and on PostgreSQL hold the draft's row, which the next append waits
/// for. Small documents compact in a few milliseconds, so their rhythm does not change.
const COMPACT_SHARE: u32 = 9;
const COMPACT_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// A draft as loaded from the database when its room starts.
pub struct Loaded {
    pub draft_id: i64,
    /// The document rebuilt from the snapshot and the log.
    pub doc: Doc,
    /// The sequence number of the newest stored update.
    pub last_seq: i64,
    /// How many updates follow the snapshot (counted towards the next compaction).
    pub log_len: usize,
    /// Who may change the text (the draft's stage and lock).
    pub gate: TextGate,
    /// The draft's stage notice (see [`STAGE_MESSAGE`]), sent to each joining client that asks.
    pub notice: String,
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
        metrics: Arc<crate::metrics::Metrics>,
        writer_check: super::WriterCheck,
    ) -> Self {
        Self {
            draft_id: loaded.draft_id,
            instance,
            db,
            cfg,
            doc: loaded.doc,
            last_seq: loaded.last_seq,
            since_compaction: loaded.log_len,
            gate: loaded.gate,
            conns: HashMap::new(),
            presence: HashMap::new(),
            must_reload: false,
            held: HashMap::new(),
            waiting: Vec::new(),
            poll_db: loaded.shared,
            last_poll: Instant::now(),
            compact_retry_at: None,
            compact_backoff: COMPACT_BACKOFF_MIN,
            compacting: None,
            last_notice: Some(loaded.notice),
            deferred: Vec::new(),
            staged: Vec::new(),
            metrics,
            writer_check,
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
        // A compaction being written finishes (and is logged) before the room is gone.
        self.finish_compaction(true).await;
        tracing::debug!(draft = self.draft_id, "room unloaded");
    }

    /// Handles one batch: apply, persist (one transaction), then answer and broadcast.
    pub async fn process(&mut self, batch: Vec<RoomCommand>) -> Result<(), Fatal> {
        let mut pending: Vec<Pending> = Vec::new();
        let mut after: Vec<After> = Vec::new();
        let mut remote_seq = 0;
        let mut tick = false;
        let mut restage = false;
        for (i, cmd) in batch.into_iter().enumerate() {
            if i > 0 && i % YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
            match cmd {
                RoomCommand::Join { conn, who, outbox, kill, joined } => {
                    if joined.send(()).is_err() {
                        continue;
                    }
                    let stage_events = who.stage_events;
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
                    if let Some(notice) = self.last_notice.as_ref().filter(|_| stage_events) {
                        after.push(After::Send(conn, stage_message(notice)));
                    }
                }
                RoomCommand::Leave { conn } => {
                    if self.conns.remove(&conn).is_some() {
                        self.drop_presence_of(conn);
                    }
                }
                RoomCommand::Frame { conn, data } => self.frame(conn, &data, &mut pending, &mut after),
                RoomCommand::Stage => restage = true,
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
        if restage {
            self.restage().await?;
        }
        // What other instances stored goes out first: local updates may build on it.
        let mut remote = Vec::new();
        if self.must_reload {
            self.reload(&pending, &mut remote).await?;
        }
        if remote_seq > self.last_seq {
            self.catch_up(&mut pending, &mut remote).await?;
            self.retry_waiting(&mut pending, &mut after);
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
        self.flush();
        // Closing slow connections may have produced presence removals.
        for action in std::mem::take(&mut self.deferred) {
            self.perform(action, &pending);
        }
        self.flush();
        self.finish_compaction(false).await;
        if self.compacting.is_none()
            && self.since_compaction >= self.cfg.compact_after.max(1)
            && self.compact_retry_at.is_none_or(|at| Instant::now() >= at)
        {
            self.start_compaction();
        }
        Ok(())
    }

    /// Reads the draft's stage, lock and recorded objections (the database says, whichever
    /// instance changed them),
    /// applies the new gate to the updates that follow, and tells the clients who asked.
    async fn restage(&mut self) -> Result<(), Fatal> {
        let draft_id = self.draft_id;
        let (gate, notice) =
            self.db.read(move |c| crate::drafting::service::stage_notice(c, draft_id)).await.map_err(Fatal)?;
        self.gate = gate;
        if self.last_notice.as_deref() == Some(notice.as_str()) {
            return Ok(());
        }
        let bytes = stage_message(&notice);
        self.last_notice = Some(notice);
        let targets: Vec<ConnId> = self.conns.iter().filter(|(_, c)| c.who.stage_events).map(|(id, _)| *id).collect();
        for id in targets {
            self.send(id, bytes.clone());
        }
        Ok(())
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
}
