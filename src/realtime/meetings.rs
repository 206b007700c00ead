//! The fan-out of meetings' live events: one broadcast channel per followed meeting. A change
//! is stored as an event row first (`meetings::live::record`); then this instance's handler, or
//! the PostgreSQL listener for another instance's change, calls [`MeetingFeeds::wake`], which
//! reads the new rows once and hands each to every follower's connection. Frames are encoded
//! once per event and visibility (participants' or observers' version); a follower too slow to
//! keep up is told to refresh rather than allowed to grow memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::db::Db;
use crate::meetings::cache::AgendaCache;
use crate::meetings::live::{self, EventRow};

/// How many events a follower may fall behind before it gets a full refresh instead.
const CHANNEL_CAPACITY: usize = 256;

/// An event ready to send: the participants' frame and the observers' (if any).
#[derive(Debug)]
pub struct Frames {
    pub seq: i64,
    pub full: Option<Arc<str>>,
    pub public: Option<Arc<str>>,
}

impl Frames {
    fn of(row: &EventRow) -> Self {
        Self { seq: row.seq, full: row.frame(false).map(Arc::from), public: row.frame(true).map(Arc::from) }
    }
}

struct Feed {
    tx: broadcast::Sender<Arc<Frames>>,
    /// The last event number broadcast.
    last: i64,
}

/// Every followed meeting's channel on this instance.
#[derive(Clone)]
pub struct MeetingFeeds {
    db: Db,
    feeds: Arc<Mutex<HashMap<i64, Feed>>>,
    /// One reader at a time per instance, so events go out once and in order.
    reading: Arc<tokio::sync::Mutex<()>>,
    /// Rendered agendas, forgotten at every wake-up of their meeting.
    agendas: Arc<AgendaCache>,
}

impl std::fmt::Debug for MeetingFeeds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetingFeeds").finish_non_exhaustive()
    }
}

impl MeetingFeeds {
    /// No meeting followed yet; every wake-up also makes `agendas` forget the meeting.
    pub fn new(db: Db, agendas: Arc<AgendaCache>) -> Self {
        Self { db, feeds: Arc::default(), reading: Arc::default(), agendas }
    }

    /// Follows a meeting whose events up to `seen` the caller has already read from the
    /// database; later ones arrive on the receiver (possibly some before `seen` too: skip them).
    pub fn subscribe(&self, meeting_id: i64, seen: i64) -> broadcast::Receiver<Arc<Frames>> {
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        let feed =
            feeds.entry(meeting_id).or_insert_with(|| Feed { tx: broadcast::channel(CHANNEL_CAPACITY).0, last: seen });
        feed.tx.subscribe()
    }

    /// Reads and broadcasts the meeting's new events, if anyone here follows it. First of all,
    /// this instance forgets the meeting's rendered agenda: the next read sees the change.
    pub async fn wake(&self, meeting_id: i64) {
        self.agendas.forget(meeting_id);
        let _turn = self.reading.lock().await;
        let last = {
            let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
            match feeds.get(&meeting_id) {
                Some(feed) if feed.tx.receiver_count() == 0 => {
                    feeds.remove(&meeting_id);
                    return;
                }
                Some(feed) => feed.last,
                None => return,
            }
        };
        let db = self.db.clone();
        let rows = match db.read(move |c| live::since(c, meeting_id, last, 1000)).await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(meeting = meeting_id, %err, "cannot read the meeting's new events");
                return;
            }
        };
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(feed) = feeds.get_mut(&meeting_id) {
            for row in &rows {
                if row.seq <= feed.last {
                    continue;
                }
                feed.last = row.seq;
                // Nobody listening is not an error: the next follower reads from the database.
                let _ = feed.tx.send(Arc::new(Frames::of(row)));
            }
        }
    }

    /// Wakes every followed meeting and forgets every rendered agenda (after the listener
    /// reconnected: notifications may have been lost).
    pub async fn wake_all(&self) {
        self.agendas.clear();
        let ids: Vec<i64> = self.feeds.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
        for id in ids {
            self.wake(id).await;
        }
    }
}
