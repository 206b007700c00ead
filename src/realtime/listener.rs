//! Several instances on one PostgreSQL database: each room appends to the shared log and
//! `NOTIFY`s `draft:seq:instance`; this listener wakes the local room of that draft, which reads
//! the new rows itself. Ordering and durability stay the database's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use tokio::sync::mpsc;

use super::Hub;
use crate::drafting::service::STAGE_CHANNEL;
use crate::drafting::store::NOTIFY_CHANNEL;

/// How often the listening connection is polled for notifications.
const POLL: Duration = Duration::from_millis(10);
/// How often the listening connection is asked a trivial query, so a connection that died
/// without a word (a half-open TCP connection delivers no notifications and no error) is noticed
/// and replaced. TCP keepalives and a user timeout bound how long that query can hang.
const KEEPALIVE: Duration = Duration::from_secs(5);
const TCP_PARAMS: &str =
    "connect_timeout=3&keepalives=1&keepalives_idle=5&keepalives_interval=2&keepalives_count=3&tcp_user_timeout=10000";

/// A running listener; dropping the handle does not stop it, [`Listener::stop`] does.
#[derive(Clone, Debug)]
pub struct Listener {
    stop: Arc<AtomicBool>,
    thread: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Listener {
    /// Starts listening on `url` (PostgreSQL) and forwarding to `hub`'s rooms.
    pub fn start(url: String, hub: Hub, meetings: super::meetings::MeetingFeeds) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, mut rx) = mpsc::unbounded_channel::<Wake>();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("plenum-pg-listener".into())
            .spawn(move || listen(&url, &flag, &tx))
            .map_err(|e| tracing::error!(error = %e, "cannot start the PostgreSQL listener"))
            .ok();
        tokio::spawn(async move {
            while let Some(wake) = rx.recv().await {
                match wake {
                    Wake::Update { draft, seq, instance } => hub.remote_update(draft, seq, instance).await,
                    Wake::Access(users) => hub.access_changed(&users),
                    Wake::Stage(draft) => hub.stage_changed(draft).await,
                    Wake::Meeting(id) => meetings.wake(id).await,
                    // Notifications may have been missed: rooms read what they lack, and every
                    // connection re-checks its session.
                    Wake::Reconnected => {
                        hub.catch_up_all().await;
                        meetings.wake_all().await;
                        hub.access_changed_all();
                    }
                }
            }
        });
        Self { stop, thread: Arc::new(std::sync::Mutex::new(thread)) }
    }

    /// Stops the listening thread and waits for it (at most a connection attempt's timeout), so
    /// that no database call is in flight when the process exits.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or_default();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

enum Wake {
    Update {
        draft: i64,
        seq: i64,
        instance: u64,
    },
    /// These users' access changed (see `realtime::access`).
    Access(Vec<i64>),
    /// A draft's stage or lock changed (see `drafting::service::announce_stage`).
    Stage(i64),
    /// A meeting has new live events (see `meetings::live`).
    Meeting(i64),
    /// The listening connection was re-established: notifications may have been missed.
    Reconnected,
}

fn listen(url: &str, stop: &AtomicBool, tx: &mpsc::UnboundedSender<Wake>) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}{TCP_PARAMS}");
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        let mut conn = match PgConnection::establish(&url) {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "PostgreSQL listener cannot connect; retrying");
                pause(stop);
                continue;
            }
        };
        if let Err(err) = diesel::sql_query(format!("LISTEN {NOTIFY_CHANNEL}"))
            .execute(&mut conn)
            .and_then(|_| diesel::sql_query(format!("LISTEN {}", super::access::CHANNEL)).execute(&mut conn))
            .and_then(|_| diesel::sql_query(format!("LISTEN {}", crate::meetings::live::CHANNEL)).execute(&mut conn))
            .and_then(|_| diesel::sql_query(format!("LISTEN {STAGE_CHANNEL}")).execute(&mut conn))
        {
            tracing::warn!(error = %err, "LISTEN failed; retrying");
            pause(stop);
            continue;
        }
        if !first && tx.send(Wake::Reconnected).is_err() {
            return;
        }
        first = false;
        let mut alive_at = std::time::Instant::now();
        'poll: while !stop.load(Ordering::Relaxed) {
            for notification in conn.notifications_iter() {
                let Ok(n) = notification else { break 'poll };
                let wake = if n.channel == super::access::CHANNEL {
                    Some(Wake::Access(super::access::parse(&n.payload)))
                } else if n.channel == crate::meetings::live::CHANNEL {
                    n.payload.parse().ok().map(Wake::Meeting)
                } else if n.channel == STAGE_CHANNEL {
                    n.payload.parse().ok().map(Wake::Stage)
                } else {
                    parse(&n.payload)
                };
                if let Some(wake) = wake
                    && tx.send(wake).is_err()
                {
                    return;
                }
            }
            if alive_at.elapsed() >= KEEPALIVE {
                if let Err(err) = diesel::sql_query("SELECT 1").execute(&mut conn) {
                    tracing::warn!(error = %err, "the PostgreSQL listener's connection is dead; reconnecting");
                    break 'poll;
                }
                alive_at = std::time::Instant::now();
            }
            std::thread::sleep(POLL);
        }
    }
}

/// Waits a second before the next connection attempt, or less if asked to stop.
fn pause(stop: &AtomicBool) {
    for _ in 0..20 {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn parse(payload: &str) -> Option<Wake> {
    let mut parts = payload.split(':');
    let draft = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let instance = parts.next()?.parse().ok()?;
    Some(Wake::Update { draft, seq, instance })
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_parse() {
        assert!(matches!(super::parse("12:340:99"), Some(super::Wake::Update { draft: 12, seq: 340, instance: 99 })));
        assert!(super::parse("12:x:99").is_none());
        assert!(super::parse("").is_none());
    }
}
