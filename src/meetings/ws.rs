//! `GET /api/meetings/{id}/live`: the meeting's live feed. Authorised before the upgrade (401,
//! 404 for a meeting the person may not see). The first frame is a snapshot (or, with
//! `?since=N`, the events after N, if the database still holds few enough of them); then every
//! new event, each as the follower may see it. Observers and guests get the public version of
//! an event or nothing: a closed-session item's data never reaches them.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::broadcast::error::RecvError;

use super::live;
use super::model::LiveQuery;
use super::service;
use crate::accounts::actor::Actor;
use crate::accounts::sessions;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::upgrade;
use crate::realtime::room::close;
use crate::realtime::socket::Incoming;

/// A follower further behind than this gets a snapshot rather than a replay.
const MAX_REPLAY: i64 = 500;
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Followers only ping and close: anything larger from them is not part of the feed.
const MAX_MESSAGE: usize = 4096;

/// Upgrades to the meeting's live feed (JSON text frames: `snapshot`, then `event`s).
#[utoipa::path(get, path = "/api/meetings/{id}/live", tag = "meetings", params(("id" = i64, Path), LiveQuery),
    responses((status = 101, description = "Switching to the live feed"), (status = 400, description = "Not a websocket request"),
    (status = 401), (status = 404)))]
pub async fn live(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<i64>,
    query: web::Query<LiveQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, who) = (path.into_inner(), state.clock.now(), actor.clone());
    // What the follower has seen is settled before it subscribes: nothing falls between.
    let seq0 = state.db.read(move |c| service::seen(c, &who, id, now).map(|s| s.meeting.event_seq)).await?;
    let slot = state.hub.reserve_connection(actor.user_id).ok_or_else(|| ApiError::TooManyRequests {
        retry_after_secs: 5,
        detail: "you have too many live connections open; close some tabs".into(),
    })?;
    let mut rx = state.meetings.subscribe(id, seq0);
    let since = query.since;
    upgrade::websocket(&req, MAX_MESSAGE, move |mut socket| async move {
        let _slot = slot;
        let who = actor.clone();
        let first = state
            .db
            .read_consistent(move |c| {
                let (seq, snapshot, restricted) = service::snapshot(c, &who, id, now)?;
                let replay = match since {
                    Some(n) if n <= seq && seq - n <= MAX_REPLAY => Some(live::since(c, id, n, MAX_REPLAY)?),
                    _ => None,
                };
                Ok((seq, snapshot, restricted, replay))
            })
            .await;
        let Ok((mut last, snapshot, restricted, replay)) = first else {
            socket.close(Some((close::SERVER_ERROR, "the meeting could not be read; reconnect"))).await;
            return;
        };
        let opening = match replay {
            Some(rows) => rows.iter().filter(|r| r.seq <= last).filter_map(|r| r.frame(restricted)).collect(),
            None => vec![snapshot.to_string()],
        };
        for frame in opening {
            if socket.send_text(&frame).await.is_err() {
                return;
            }
        }
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        let leaving = state.hub.leaving();
        tokio::pin!(leaving);
        let mut going_away = false;
        loop {
            tokio::select! {
                () = &mut leaving => {
                    going_away = true;
                    break;
                }
                event = rx.recv() => match event {
                    Ok(frames) if frames.seq > last => {
                        last = frames.seq;
                        let frame = if restricted { frames.public.clone() } else { frames.full.clone() };
                        if let Some(frame) = frame
                            && socket.send_text(&frame).await.is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // Too slow: start again from a snapshot rather than buffer without bound.
                    Err(RecvError::Lagged(_)) => {
                        let who = actor.clone();
                        let now = state.clock.now();
                        match state.db.read(move |c| service::snapshot(c, &who, id, now)).await {
                            Ok((seq, snapshot, _)) => {
                                last = seq;
                                if socket.send_text(&snapshot.to_string()).await.is_err() {
                                    return;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    Err(RecvError::Closed) => break,
                },
                message = socket.recv() => match message {
                    Some(Ok(Incoming::Ping(bytes))) => {
                        if socket.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(Incoming::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                _ = heartbeat.tick() => {
                    // A session that ended (signed out, revoked, suspended) stops following.
                    let still = sessions::revalidate(&state, actor.session_id, false).await;
                    if matches!(still, Err(ApiError::Unauthorized(_))) || socket.ping(b"").await.is_err() {
                        break;
                    }
                }
            }
        }
        // A stopping server says so: the follower reconnects (with `?since=`) at once.
        let reason = going_away.then_some((close::GOING_AWAY, "the server is restarting; reconnect"));
        let _ = tokio::time::timeout(Duration::from_secs(10), socket.close(reason)).await;
    })
}
