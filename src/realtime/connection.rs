//! One websocket connection to a draft's room: reads client frames into the room, writes the
//! room's messages from a bounded queue, pings, and drops dead or misbehaving clients.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::Hub;
use super::room::{CloseSignal, ConnId, Outgoing, Participant, RoomCommand, close};
use super::socket::{Incoming, Refusal, Socket};

/// How long one write may take before the client is considered gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a periodic re-check of the connection's session found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Nothing changed.
    Unchanged,
    /// The person may now do more or less (e.g. the organisation was suspended): reconnect.
    Changed,
    /// The session ended (signed out, disabled, expired).
    Ended,
}

pub use super::room::close::{PERMISSIONS_CHANGED, SESSION_ENDED};

/// Serves one connection until it ends. `recheck(active)` is run on every heartbeat, and at once
/// when the hub says this user's access changed, so a websocket never outlives its session or
/// keeps rights its owner has lost; `active` says whether the person sent anything since the
/// last check (that is activity, which keeps the session from idling out).
pub async fn run<F, Fut>(
    hub: Hub,
    draft_id: i64,
    who: Participant,
    recheck: F,
    mut socket: Socket,
    _slot: super::ConnectionSlot,
) where
    F: Fn(bool) -> Fut,
    Fut: std::future::Future<Output = Access>,
{
    let cfg = hub.config().clone();
    let who_id = who.user_id;
    let conn: ConnId = hub.next_conn_id();
    let Some((room, mut queue, mut killed)) = join(&hub, draft_id, conn, who, cfg.queue.max(1)).await else {
        let _ = tokio::time::timeout(
            WRITE_TIMEOUT,
            socket.close(Some((close::SERVER_ERROR, "the draft could not be opened"))),
        )
        .await;
        return;
    };
    hub.metrics().ws_connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut heartbeat = tokio::time::interval(Duration::from_secs(cfg.heartbeat_secs.max(1)));
    let timeout = Duration::from_secs(cfg.silence_timeout_secs.max(2));
    let mut last_heard = Instant::now();
    let mut active = false;
    let mut access = hub.access_changes();
    let leaving = hub.leaving();
    tokio::pin!(leaving);
    let closing: Option<CloseSignal> = loop {
        tokio::select! {
            biased;
            signal = &mut killed => break signal.ok(),
            () = &mut leaving => break Some((close::GOING_AWAY, "the server is restarting; reconnect".into())),
            out = queue.recv() => match out {
                Some(batch) => match tokio::time::timeout(WRITE_TIMEOUT, write_all(&mut socket, batch, &mut queue)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break None,
                    // The client stopped reading: the same answer as a full queue in the room.
                    Err(_) => {
                        tracing::info!(draft = draft_id, conn, code = close::TOO_SLOW, "closing connection: writes time out");
                        hub.metrics().connections_closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        break Some((close::TOO_SLOW, "too slow: reconnect to resync".into()));
                    }
                },
                None => break None,
            },
            incoming = socket.recv() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(Incoming::Binary(data))) => {
                        active = true;
                        if room.send(RoomCommand::Frame { conn, data }).await.is_err() {
                            break Some((close::SERVER_ERROR, "the room closed; reconnect".into()));
                        }
                    }
                    Some(Ok(Incoming::Ping(payload))) => {
                        if socket.pong(&payload).await.is_err() { break None; }
                    }
                    Some(Ok(Incoming::Pong)) => {}
                    Some(Ok(Incoming::Text(_))) => break Some((close::UNSUPPORTED, "send binary y-protocols messages".into())),
                    Some(Ok(Incoming::Close(_))) | None => break None,
                    Some(Err(err @ Refusal::TooBig)) => break Some((close::TOO_BIG, err.to_string())),
                    Some(Err(err)) => break Some((close::PROTOCOL_ERROR, err.to_string())),
                }
            }
            changed = access.recv() => {
                let ours = match changed {
                    Ok(users) => users.contains(&who_id),
                    // Missed some announcements: check anyway.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => true,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => false,
                };
                if ours {
                    match Box::pin(recheck(false)).await {
                        Access::Unchanged => {}
                        Access::Changed => break Some((PERMISSIONS_CHANGED, "your permissions changed; reconnect".into())),
                        Access::Ended => break Some((SESSION_ENDED, "your session has ended; sign in again".into())),
                    }
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > timeout {
                    tracing::info!(draft = draft_id, conn, "dropping a silent connection");
                    break None;
                }
                match Box::pin(recheck(std::mem::take(&mut active))).await {
                    Access::Unchanged => {}
                    Access::Changed => break Some((PERMISSIONS_CHANGED, "your permissions changed; reconnect".into())),
                    Access::Ended => break Some((SESSION_ENDED, "your session has ended; sign in again".into())),
                }
                if socket.ping(b"").await.is_err() { break None; }
            }
        }
    };
    hub.metrics().ws_connections.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    let _ = room.send(RoomCommand::Leave { conn }).await;
    // A client that does not read cannot take the close frame either: don't wait for it forever.
    let reason = closing.as_ref().map(|(code, text)| (*code, text.as_str()));
    let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.close(reason)).await;
}

/// At most this many queued batches are written before the connection looks at its socket again.
const DRAIN: usize = 32;

/// Writes a batch of messages, one frame each, and what else the room queued meanwhile (up to
/// [`DRAIN`] batches), in one socket write.
async fn write_all(socket: &mut Socket, batch: Outgoing, queue: &mut mpsc::Receiver<Outgoing>) -> std::io::Result<()> {
    let mut batches = vec![batch];
    while batches.len() < DRAIN {
        let Ok(more) = queue.try_recv() else { break };
        batches.push(more);
    }
    socket.send_binary(batches.iter().flat_map(|messages| messages.iter())).await
}

/// Joins the room, starting it again if it was unloading at that moment: the room confirms the
/// join, and a join that reached a stopping room is dropped unconfirmed, so we try the next one.
/// Returns the room's inbox, this connection's outgoing queue and its kill signal.
async fn join(
    hub: &Hub,
    draft_id: i64,
    conn: ConnId,
    who: Participant,
    queue: usize,
) -> Option<(mpsc::Sender<RoomCommand>, mpsc::Receiver<Outgoing>, oneshot::Receiver<CloseSignal>)> {
    for _ in 0..10 {
        let room = hub.room(draft_id).await.ok()?;
        let (outbox, queue) = mpsc::channel::<Outgoing>(queue);
        let (kill, killed) = oneshot::channel::<CloseSignal>();
        let (joined, confirmed) = oneshot::channel();
        let cmd = RoomCommand::Join { conn, who: who.clone(), outbox, kill, joined };
        if room.send(cmd).await.is_ok() && confirmed.await.is_ok() {
            return Some((room, queue, killed));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}
