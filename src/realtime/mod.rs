//! The websocket hub: one [`room::Room`] task per draft that has connections, started on first
//! connection (its document rebuilt from the database) and stopped after an idle period.

pub mod access;
pub mod connection;
pub mod listener;
pub mod meetings;
pub mod room;
pub mod socket;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use crate::config::DraftingConfig;
use crate::db::Db;
use crate::drafting::store;
use crate::error::Error;
use crate::metrics::Metrics;
use room::{ConnId, Room, RoomCommand, RoomView};

/// The rooms of this instance.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    /// A random id for this server instance, so it can ignore its own notifications.
    instance: u64,
    /// Each room's inbox, with the generation of the room task that owns it.
    rooms: Mutex<HashMap<i64, (u64, mpsc::Sender<RoomCommand>)>>,
    db: Db,
    cfg: DraftingConfig,
    next_conn: AtomicU64,
    metrics: Arc<Metrics>,
    /// Open websocket connections per user (all drafts), bounded by `--ws-max-connections-per-user`.
    per_user: Mutex<HashMap<i64, usize>>,
    /// Users whose access changed: their open connections re-check their sessions at once.
    access: tokio::sync::broadcast::Sender<Arc<Vec<i64>>>,
    /// Which of a batch's senders may still write (see [`WriterCheck`]).
    writer_check: WriterCheck,
    /// Set when the server is stopping: every live socket (drafting rooms, meeting feeds) closes
    /// with 1001 so that its client reconnects elsewhere at once instead of holding the shutdown.
    going_away: tokio::sync::watch::Sender<bool>,
}

/// Given the session ids behind a batch of updates, answers which sessions are still live and
/// whether each may still write (`session id → may write`; absent: the session ended). Rooms ask
/// it before storing, so nothing sent after a revocation committed is kept. Built by `startup`
/// from the accounts area, so that realtime knows nothing of sessions.
pub type WriterCheck =
    Arc<dyn Fn(&mut crate::db::DbConnection, i64, &[i64]) -> Result<HashMap<i64, bool>, Error> + Send + Sync>;

/// One of a user's allowed connections; handing it back (drop) frees it.
#[derive(Debug)]
pub struct ConnectionSlot {
    hub: Hub,
    user_id: i64,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut per_user = self.hub.inner.per_user.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per_user.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_user.remove(&self.user_id);
            }
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("rooms", &self.loaded()).finish()
    }
}

/// How many commands may wait for a room before senders wait (backpressure on fast clients).
const ROOM_INBOX: usize = 4096;

impl Hub {
    /// An empty hub.
    pub fn new(db: Db, cfg: DraftingConfig, metrics: Arc<Metrics>, writer_check: WriterCheck) -> Self {
        Self {
            inner: Arc::new(Inner {
                instance: rand::random(),
                rooms: Mutex::new(HashMap::new()),
                db,
                cfg,
                next_conn: AtomicU64::new(1),
                metrics,
                per_user: Mutex::new(HashMap::new()),
                access: tokio::sync::broadcast::channel(256).0,
                writer_check,
                going_away: tokio::sync::watch::channel(false).0,
            }),
        }
    }

    /// The drafting settings.
    pub fn config(&self) -> &DraftingConfig {
        &self.inner.cfg
    }

    /// The process's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.inner.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Takes one of `user_id`'s connections, or `None` when the user already has as many open as
    /// allowed (one person does not need hundreds of sockets; refusing protects everyone else).
    pub fn reserve_connection(&self, user_id: i64) -> Option<ConnectionSlot> {
        let mut per_user = self.inner.per_user.lock().unwrap_or_else(|p| p.into_inner());
        let open = per_user.entry(user_id).or_insert(0);
        if *open >= self.inner.cfg.max_connections_per_user.max(1) {
            return None;
        }
        *open += 1;
        Some(ConnectionSlot { hub: self.clone(), user_id })
    }

    /// Tells this instance's open connections of `user_ids` to re-check their sessions now
    /// (call after the change committed; other instances learn it from [`access::announce`]).
    pub fn access_changed(&self, user_ids: &[i64]) {
        if !user_ids.is_empty() {
            let _ = self.inner.access.send(Arc::new(user_ids.to_vec()));
        }
    }

    /// Every open connection re-checks its session (announcements may have been missed).
    pub fn access_changed_all(&self) {
        let users: Vec<i64> = self.inner.per_user.lock().map(|m| m.keys().copied().collect()).unwrap_or_default();
        self.access_changed(&users);
    }

    /// Announcements of [`Hub::access_changed`], for a connection to watch.
    pub fn access_changes(&self) -> tokio::sync::broadcast::Receiver<Arc<Vec<i64>>> {
        self.inner.access.subscribe()
    }

    /// Tells every live socket of this instance to close (1001, going away): the server stops.
    /// What the rooms received is already stored (durable before broadcast), so nothing waits.
    pub fn going_away(&self) {
        self.inner.going_away.send_replace(true);
    }

    /// Resolves once [`Hub::going_away`] was called, for a socket's loop to watch.
    pub fn leaving(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.inner.going_away.subscribe();
        async move {
            let _ = rx.wait_for(|gone| *gone).await;
        }
    }

    /// How many rooms are loaded.
    pub fn loaded(&self) -> usize {
        self.inner.rooms.lock().map(|r| r.len()).unwrap_or(0)
    }

    fn existing(&self, draft_id: i64) -> Option<mpsc::Sender<RoomCommand>> {
        let rooms = self.inner.rooms.lock().unwrap_or_else(|p| p.into_inner());
        rooms.get(&draft_id).map(|(_, tx)| tx).filter(|tx| !tx.is_closed()).cloned()
    }

    /// The inbox of the draft's room, loading the document if the room is not running.
    pub async fn room(&self, draft_id: i64) -> Result<mpsc::Sender<RoomCommand>, Error> {
        if let Some(tx) = self.existing(draft_id) {
            return Ok(tx);
        }
        let (doc, last_seq, log_len, gate, notice) = self
            .inner
            .db
            .read_consistent(move |c| {
                let (gate, notice) = crate::drafting::service::stage_notice(c, draft_id)?;
                let stored = store::load(c, draft_id)?;
                let doc = stored.to_doc()?;
                Ok((doc, stored.last_seq(), stored.updates.len(), gate, notice))
            })
            .await?;
        let mut rooms = self.inner.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, tx)) = rooms.get(&draft_id).filter(|(_, tx)| !tx.is_closed()) {
            return Ok(tx.clone());
        }
        let (tx, rx) = mpsc::channel(ROOM_INBOX);
        let generation = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        rooms.insert(draft_id, (generation, tx.clone()));
        drop(rooms);
        let room = Room::new(
            room::Loaded {
                draft_id,
                doc,
                last_seq,
                log_len,
                gate,
                notice,
                shared: self.inner.db.backend() == crate::db::Backend::Postgres,
            },
            self.inner.instance,
            self.inner.db.clone(),
            self.inner.cfg.clone(),
            self.inner.metrics.clone(),
            self.inner.writer_check.clone(),
        );
        let hub = self.clone();
        actix_web::rt::spawn(async move {
            room.run(rx, move |inbox| hub.unload(draft_id, generation, inbox)).await;
        });
        tracing::debug!(draft = draft_id, last_seq, "room loaded");
        Ok(tx)
    }

    /// Removes an idle room, unless a command arrived meanwhile. The inbox is closed under the
    /// same lock, so no new sender finds it; a join that was already on its way is dropped
    /// unanswered and the connection joins the next room (see `connection::join`).
    fn unload(&self, draft_id: i64, generation: u64, inbox: &mut mpsc::Receiver<RoomCommand>) -> bool {
        let mut rooms = self.inner.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if !inbox.is_empty() && !inbox.is_closed() {
            return false;
        }
        if rooms.get(&draft_id).is_some_and(|(g, _)| *g == generation) {
            rooms.remove(&draft_id);
        }
        inbox.close();
        true
    }

    /// The live view of a loaded draft (text and who is connected); `None` if not loaded.
    pub async fn view(&self, draft_id: i64) -> Option<RoomView> {
        let tx = self.existing(draft_id)?;
        let (reply, answer) = oneshot::channel();
        tx.send(RoomCommand::View(reply)).await.ok()?;
        answer.await.ok()
    }

    /// Tells a loaded room that another instance stored updates up to `seq`.
    pub async fn remote_update(&self, draft_id: i64, seq: i64, instance: u64) {
        if instance == self.inner.instance {
            return;
        }
        if let Some(tx) = self.existing(draft_id) {
            let _ = tx.send(RoomCommand::Remote { seq }).await;
        }
    }

    /// Asks every loaded room to read what other instances stored, and its draft's stage (after a
    /// missed notification).
    pub async fn catch_up_all(&self) {
        let rooms: Vec<mpsc::Sender<RoomCommand>> = {
            let rooms = self.inner.rooms.lock().unwrap_or_else(|p| p.into_inner());
            rooms.values().map(|(_, tx)| tx.clone()).collect()
        };
        for tx in rooms {
            let _ = tx.send(RoomCommand::Remote { seq: i64::MAX }).await;
            let _ = tx.send(RoomCommand::Stage).await;
        }
    }

    /// Tells a loaded room that its draft's stage or lock changed (here or on another instance):
    /// it reads the draft, applies who may now write, and tells its clients.
    pub async fn stage_changed(&self, draft_id: i64) {
        if let Some(tx) = self.existing(draft_id) {
            let _ = tx.send(RoomCommand::Stage).await;
        }
    }
}
