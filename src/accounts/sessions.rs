//! Sessions: created at sign-in, found by the hash of their token, ended by idle time, age,
//! sign-out, or when the user is disabled or the organisation suspended.

use std::net::IpAddr;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{OrganisationRow, User, UserRow};
use super::tokens;
use crate::accounts::actor::{Actor, SESSION_COOKIE};
use crate::app::AppState;
use crate::config::{AccountsConfig, TrustedProxies};
use crate::db::DbConnection;
use crate::db::schema::{organisations, sessions, users};
use crate::error::Error;
use crate::freshness::Freshness;
use crate::http::error::ApiError;
use crate::realtime::access;

/// How often `last_seen_at` is refreshed at most (a write per request would be wasteful).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// How long a confirmed session may be answered from this instance's memory before the database
/// is asked again. Revocations reach the cache at once (see [`SessionCache`]); this only bounds
/// how long an entry can outlive a change that was never announced (a lost notification).
const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(1);
/// At most this many sessions are kept in memory per instance.
const CACHE_MAX: usize = 10_000;

/// A live session as read: its id, when it was last seen, when it expires, the user and the
/// organisation.
type LiveSession = (i64, NaiveDateTime, NaiveDateTime, UserRow, OrganisationRow);

/// The one lookup of sessions: those matching `$filter` that are live at `$now` (not revoked,
/// expired or idle, and whose user is not disabled). A macro rather than a boxed query, so that
/// each lookup is one static SQL statement that the connection prepares once and keeps.
macro_rules! load_live {
    ($conn:expr, $filter:expr, $now:expr, $idle:expr) => {{
        let (now, idle): (NaiveDateTime, Duration) = ($now, $idle);
        sessions::table
            .inner_join(users::table.inner_join(organisations::table))
            .filter(sessions::revoked_at.is_null())
            .filter($filter)
            .select((
                sessions::id,
                sessions::last_seen_at,
                sessions::expires_at,
                UserRow::as_select(),
                OrganisationRow::as_select(),
            ))
            .load::<LiveSession>($conn)
            .map(|rows| {
                rows.into_iter()
                    .filter(|(_, last_seen, expires_at, user, _)| {
                        !user.disabled && *expires_at > now && *last_seen + idle > now
                    })
                    .collect::<Vec<LiveSession>>()
            })
    }};
}

/// Finds the live session of `token` and the actor behind it: from this instance's
/// [`SessionCache`] when it confirmed the session within the last second and no change of the
/// user's access was announced since, else from the database.
pub async fn authenticate(state: &AppState, token: String) -> Result<Actor, ApiError> {
    let digest = tokens::digest(&token);
    let idle = idle_limit(&state.config.accounts);
    let current = state.clock.naive();
    let (cached, epoch) = state.sessions.get(&digest, current, idle);
    if let Some((actor, last_seen, _)) = cached {
        let seen = touch(state, actor.session_id, last_seen, current, idle).await?;
        if seen != last_seen {
            state.sessions.touched(&digest, seen);
        }
        return Ok(actor);
    }
    let key = digest.clone();
    let found = state
        .db
        .read(move |c| Ok(load_live!(c, sessions::token_hash.eq(key), current, idle)?.into_iter().next()))
        .await?;
    let (id, last_seen, expires_at, user, org) = found.ok_or_else(session_ended)?;
    let actor = actor_of(id, user, org);
    let seen = touch(state, id, last_seen, current, idle).await?;
    state.sessions.put(digest, &actor, seen, expires_at, epoch);
    Ok(actor)
}

/// The actor of a session that is still live (for websockets, which outlive their upgrade
/// request), always read from the database. `active`: the connection carried the person's work
/// since the last check, which counts as activity (a delegate typing all day is not signed out
/// for idleness); an open but silent socket does not.
pub async fn revalidate(state: &AppState, session_id: i64, active: bool) -> Result<Actor, ApiError> {
    let idle = idle_limit(&state.config.accounts);
    let current = state.clock.naive();
    let found = state
        .db
        .read(move |c| Ok(load_live!(c, sessions::id.eq(session_id), current, idle)?.into_iter().next()))
        .await?;
    let (id, last_seen, _, user, org) = found.ok_or_else(session_ended)?;
    if active {
        touch(state, id, last_seen, current, idle).await?;
    }
    Ok(actor_of(id, user, org))
}

fn session_ended() -> ApiError {
    ApiError::Unauthorized("your session has ended or is not valid; sign in again".into())
}

/// How long a session may go without a request (`--session-idle-minutes`).
pub fn idle_limit(cfg: &AccountsConfig) -> Duration {
    Duration::minutes(cfg.session_idle_minutes.max(1))
}

/// How stale `last_seen_at` may get before it is refreshed: at most every minute (a write per
/// request would be wasteful), and often enough that activity never lets a session idle out.
fn touch_every(idle: Duration) -> Duration {
    TOUCH_EVERY.min(idle / 4)
}

/// Records activity on a session whose `last_seen_at` has grown stale; returns what it is now.
async fn touch(
    state: &AppState,
    session_id: i64,
    last_seen: NaiveDateTime,
    current: NaiveDateTime,
    idle: Duration,
) -> Result<NaiveDateTime, ApiError> {
    if current - last_seen < touch_every(idle) {
        return Ok(last_seen);
    }
    state
        .db
        .write(move |c| {
            diesel::update(sessions::table.find(session_id)).set(sessions::last_seen_at.eq(current)).execute(c)?;
            Ok(())
        })
        .await?;
    Ok(current)
}

/// This instance's memory of sessions it recently confirmed in the database, by token digest, so
/// that a client sending many requests does not cost a session query each.
///
/// Revocation is honoured at once: every change of someone's access (sign-out, a session ended,
/// "sign out everywhere", a new password, a user disabled or made (no longer) an administrator,
/// an organisation changed or suspended) is announced on the hub's access channel — by the
/// handler on this instance after the commit and before it answers, and from other instances
/// through PostgreSQL `NOTIFY` as soon as they commit. Every lookup first applies the pending
/// announcements, so the next request after a revocation on this instance is refused, and on
/// another instance within the notification's latency. A lookup that raced an announcement
/// does not store what it read. Entries are also re-read after [`CACHE_FOR`] in any case (one
/// request reads it while the others go on with it: [`Freshness`]), and expiry and idleness are
/// checked on every hit against the injected clock.
#[derive(Debug)]
pub struct SessionCache {
    inner: std::sync::Mutex<CacheInner>,
}

#[derive(Debug)]
struct CacheInner {
    entries: std::collections::HashMap<String, Cached>,
    changes: tokio::sync::broadcast::Receiver<std::sync::Arc<Vec<i64>>>,
    /// Counts the announcements applied, so that a lookup can tell whether one came meanwhile.
    epoch: u64,
}

#[derive(Debug)]
struct Cached {
    actor: Actor,
    last_seen: NaiveDateTime,
    expires_at: NaiveDateTime,
    confirmed: Freshness,
}

impl SessionCache {
    /// A cache that forgets the users announced on `changes` (the hub's
    /// [`access_changes`](crate::realtime::Hub::access_changes)).
    pub fn new(changes: tokio::sync::broadcast::Receiver<std::sync::Arc<Vec<i64>>>) -> Self {
        Self { inner: std::sync::Mutex::new(CacheInner { entries: Default::default(), changes, epoch: 0 }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.apply_changes();
        inner
    }

    /// Whether a session of `token` is in this instance's memory, however old (an announced
    /// change of its user's access removes it; age only stops it from being used): for tests.
    pub fn holds(&self, token: &str) -> bool {
        self.lock().entries.contains_key(&tokens::digest(token))
    }

    /// The session of `digest` if it was confirmed recently and is still live at `now`, with the
    /// epoch to hand back to [`SessionCache::put`].
    fn get(
        &self,
        digest: &str,
        now: NaiveDateTime,
        idle: Duration,
    ) -> (Option<(Actor, NaiveDateTime, NaiveDateTime)>, u64) {
        let mut inner = self.lock();
        let epoch = inner.epoch;
        let hit = inner
            .entries
            .get_mut(digest)
            .filter(|c| c.expires_at > now && c.last_seen + idle > now)
            .and_then(|c| c.confirmed.serve(CACHE_FOR).then(|| (c.actor.clone(), c.last_seen, c.expires_at)));
        (hit, epoch)
    }

    /// Records that a session answered from memory was seen at `last_seen` (its row was touched).
    fn touched(&self, digest: &str, last_seen: NaiveDateTime) {
        if let Some(cached) = self.lock().entries.get_mut(digest) {
            cached.last_seen = last_seen;
        }
    }

    /// Remembers a session found live in the database, unless an access change was announced
    /// since `epoch` (what was read may predate it).
    fn put(&self, digest: String, actor: &Actor, last_seen: NaiveDateTime, expires_at: NaiveDateTime, epoch: u64) {
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        if inner.entries.len() >= CACHE_MAX && !inner.entries.contains_key(&digest) {
            inner.entries.retain(|_, c| !c.confirmed.expired(CACHE_FOR * 2));
            if inner.entries.len() >= CACHE_MAX {
                inner.entries.clear();
            }
        }
        let confirmed = Freshness::new();
        inner.entries.insert(digest, Cached { actor: actor.clone(), last_seen, expires_at, confirmed });
    }
}

impl CacheInner {
    /// Forgets every session of the users announced since the last call (all of them if
    /// announcements were missed).
    fn apply_changes(&mut self) {
        use tokio::sync::broadcast::error::TryRecvError;
        loop {
            match self.changes.try_recv() {
                Ok(users) => {
                    self.epoch += 1;
                    self.entries.retain(|_, c| !users.contains(&c.actor.user_id));
                }
                Err(TryRecvError::Lagged(_)) => {
                    self.epoch += 1;
                    self.entries.clear();
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }
}

/// The person behind a calendar-feed token (see `service::issue_calendar_feed`), for the `.ics`
/// routes only: such an actor has no session (`session_id` 0).
pub async fn authenticate_feed(state: &AppState, token: String) -> Result<Actor, ApiError> {
    use crate::db::schema::calendar_feeds;
    let digest = tokens::digest(&token);
    let found = state
        .db
        .read(move |c| {
            Ok(calendar_feeds::table
                .inner_join(users::table.inner_join(organisations::table))
                .filter(calendar_feeds::token_hash.eq(digest))
                .filter(users::disabled.eq(false))
                .select((UserRow::as_select(), OrganisationRow::as_select()))
                .first::<(UserRow, OrganisationRow)>(c)
                .optional()?)
        })
        .await?;
    let (user, org) = found
        .ok_or_else(|| ApiError::Unauthorized("this calendar link is not valid (any more); make a new one".into()))?;
    Ok(actor_of(0, user, org))
}

fn actor_of(session_id: i64, user: UserRow, org: OrganisationRow) -> Actor {
    Actor {
        user_id: user.id,
        display_name: user.display_name,
        email: user.email,
        organisation_id: org.id,
        organisation_name: org.name,
        kind: org.kind,
        organisation_status: org.status,
        is_admin: user.is_admin,
        session_id,
        request_id: None,
    }
}

/// The actors behind those of `session_ids` that are still live at `now` (one query). A session
/// missing from the answer has ended (signed out, revoked, expired, idle, user disabled). Live
/// rooms ask this before they store a batch, so nothing sent after a revocation committed is kept.
pub fn live_actors(
    conn: &mut DbConnection,
    session_ids: &[i64],
    now: NaiveDateTime,
    idle: Duration,
) -> Result<Vec<Actor>, Error> {
    Ok(load_live!(conn, sessions::id.eq_any(session_ids), now, idle)?
        .into_iter()
        .map(|(id, _, _, user, org)| actor_of(id, user, org))
        .collect())
}

/// Where a sign-in came from, kept with the session so its owner can recognise it.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

impl ClientInfo {
    /// Reads the user agent and client address of a request (see [`client_address`]).
    pub fn of(req: &HttpRequest) -> Self {
        let trusted = req.app_data::<web::Data<AppState>>().map(|s| &s.config.trusted_proxies);
        Self {
            user_agent: req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(300).collect()),
            address: client_address(req, trusted).map(|ip| ip.to_string()),
        }
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the nearest
/// address in `X-Forwarded-For` (read from the right) that is not a trusted proxy itself. An
/// entry that is not an IP address ends the walk at the last trusted hop.
pub fn client_address(req: &HttpRequest, trusted: Option<&TrustedProxies>) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(trusted) = trusted.filter(|t| t.contains(peer)) else { return Some(peer) };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    Some(client)
}

/// Creates a session for `user_id` and returns its token (shown once, stored hashed).
pub fn create(
    conn: &mut DbConnection,
    user_id: i64,
    cfg: &AccountsConfig,
    client: &ClientInfo,
    at: NaiveDateTime,
) -> Result<(String, i64), Error> {
    let token = tokens::generate();
    let id = diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::token_hash.eq(tokens::digest(&token)),
            sessions::created_at.eq(at),
            sessions::last_seen_at.eq(at),
            sessions::expires_at.eq(at + Duration::hours(cfg.session_max_hours.max(1))),
            sessions::user_agent.eq(client.user_agent.as_deref()),
            sessions::client_ip.eq(client.address.as_deref()),
        ))
        .returning(sessions::id)
        .get_result(conn)?;
    Ok((token, id))
}

/// Ends every live session of the given users; returns how many ended. Their open websockets
/// on every instance are told when this commits (the caller also tells its own hub).
pub fn revoke_all(conn: &mut DbConnection, user_ids: &[i64], at: NaiveDateTime) -> Result<usize, Error> {
    let n = diesel::update(sessions::table)
        .filter(sessions::user_id.eq_any(user_ids))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(at))
        .execute(conn)?;
    access::announce(conn, user_ids)?;
    Ok(n)
}

/// The answer to a successful sign-in.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct SignedIn {
    /// The session token: send it as `Authorization: Bearer …` (the browser uses the cookie).
    pub token: String,
    pub user: User,
}

/// 200 with `{token, user}` and the session cookie.
pub fn signed_in_response(state: &AppState, token: String, user: User) -> HttpResponse {
    let cookie = Cookie::build(SESSION_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.is_https())
        .max_age(actix_web::cookie::time::Duration::hours(state.config.accounts.session_max_hours.max(1)))
        .finish();
    HttpResponse::Ok().cookie(cookie).json(SignedIn { token, user })
}

/// A response that removes the session cookie.
pub fn signed_out_response(state: &AppState) -> HttpResponse {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.is_https())
        .finish();
    cookie.make_removal();
    HttpResponse::NoContent().cookie(cookie).finish()
}
