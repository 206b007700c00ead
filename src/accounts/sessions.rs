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
use crate::http::error::ApiError;
use crate::realtime::access;

/// How often `last_seen_at` is refreshed at most (a write per request would be wasteful).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// How a session is looked up.
enum SessionKey {
    /// By the hash of the token a client presented.
    Token(String),
    /// By id, to re-check a session that was valid when a long-lived connection opened.
    Id(i64),
    /// Several by id (the senders of a drafting room's batch).
    Ids(Vec<i64>),
}

/// A live session as read: its id, when it was last seen, the user and the organisation.
type LiveSession = (i64, NaiveDateTime, UserRow, OrganisationRow);

/// The one lookup of sessions: those matching `key` that are live at `now` (not revoked,
/// expired or idle, and whose user is not disabled).
fn load_live(
    conn: &mut DbConnection,
    key: SessionKey,
    now: NaiveDateTime,
    idle: Duration,
) -> Result<Vec<LiveSession>, Error> {
    let query = sessions::table
        .inner_join(users::table.inner_join(organisations::table))
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    let query = match key {
        SessionKey::Token(digest) => query.filter(sessions::token_hash.eq(digest)),
        SessionKey::Id(id) => query.filter(sessions::id.eq(id)),
        SessionKey::Ids(ids) => query.filter(sessions::id.eq_any(ids)),
    };
    let rows = query
        .select((
            sessions::id,
            sessions::last_seen_at,
            sessions::expires_at,
            UserRow::as_select(),
            OrganisationRow::as_select(),
        ))
        .load::<(i64, NaiveDateTime, NaiveDateTime, UserRow, OrganisationRow)>(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, last_seen, expires_at, user, _)| !user.disabled && *expires_at > now && *last_seen + idle > now)
        .map(|(id, last_seen, _, user, org)| (id, last_seen, user, org))
        .collect())
}

/// Finds the live session of `token` and the actor behind it.
pub async fn authenticate(state: &AppState, token: String) -> Result<Actor, ApiError> {
    find(state, SessionKey::Token(tokens::digest(&token)), true).await
}

/// The actor of a session that is still live (for websockets, which outlive their upgrade
/// request). `active`: the connection carried the person's work since the last check, which
/// counts as activity (a delegate typing all day is not signed out for idleness); an open but
/// silent socket does not.
pub async fn revalidate(state: &AppState, session_id: i64, active: bool) -> Result<Actor, ApiError> {
    find(state, SessionKey::Id(session_id), active).await
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

async fn find(state: &AppState, key: SessionKey, touch: bool) -> Result<Actor, ApiError> {
    let idle = idle_limit(&state.config.accounts);
    let current = state.clock.naive();
    let found = state.db.read(move |c| Ok(load_live(c, key, current, idle)?.into_iter().next())).await?;
    let unauthorized = || ApiError::Unauthorized("your session has ended or is not valid; sign in again".into());
    let (session_id, last_seen, user, org) = found.ok_or_else(unauthorized)?;
    if touch && current - last_seen >= touch_every(idle) {
        state
            .db
            .write(move |c| {
                diesel::update(sessions::table.find(session_id)).set(sessions::last_seen_at.eq(current)).execute(c)?;
                Ok(())
            })
            .await?;
    }
    Ok(actor_of(session_id, user, org))
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
    Ok(load_live(conn, SessionKey::Ids(session_ids.to_vec()), now, idle)?
        .into_iter()
        .map(|(id, _, user, org)| actor_of(id, user, org))
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
