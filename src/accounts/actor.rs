//! The one authentication extractor: [`Actor`], the signed-in delegate making a request.
//!
//! The session token comes from `Authorization: Bearer …`, else the session cookie, else — only on
//! a websocket upgrade, for stock Yjs clients — a `?token=` query parameter; on `GET
//! …/calendar.ics` only, a calendar-feed token as `?feed=` (calendar applications send no header). Cookie-authenticated
//! unsafe requests must carry an `Origin` (or `Referer`) equal to the public URL's origin: that is the
//! CSRF check.

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::accounts::model::{OrganisationKind, OrganisationStatus};
use crate::accounts::sessions;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::middleware::RequestId;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "plenum_session";

/// Who is making the request, resolved from a valid session.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub kind: OrganisationKind,
    pub organisation_status: OrganisationStatus,
    /// A system administrator (secretariat operator).
    pub is_admin: bool,
    /// The session this request came with.
    pub session_id: i64,
    /// The request's id, written into audit rows.
    pub request_id: Option<String>,
}

/// Where the token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Bearer,
    Cookie,
    Query,
    /// A calendar-feed token (`?feed=`), accepted on `GET …/calendar.ics` only.
    Feed,
}

fn credential(req: &HttpRequest) -> Option<(String, Source)> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(token) = value.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty())
    {
        return Some((token.to_string(), Source::Bearer));
    }
    if let Some(cookie) = req.cookie(SESSION_COOKIE).filter(|c| !c.value().is_empty()) {
        return Some((cookie.value().to_string(), Source::Cookie));
    }
    if req.method() == Method::GET && req.path().ends_with("/calendar.ics") {
        let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok()?;
        if let Some(token) = query.get("feed").filter(|t| !t.is_empty()) {
            return Some((token.clone(), Source::Feed));
        }
    }
    if is_upgrade(req) {
        let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok()?;
        if let Some(token) = query.get("token").filter(|t| !t.is_empty()) {
            return Some((token.clone(), Source::Query));
        }
    }
    None
}

fn is_upgrade(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether a cookie-authenticated request comes from this server's own pages: the origin of its
/// `Origin` header (else `Referer`) equals the origin of the configured public URL. Both are
/// normalised by URL parsing (scheme and host lower-cased, default ports dropped). The request's
/// `Host` header is never consulted: a request cannot vouch for itself.
fn same_origin(req: &HttpRequest, public_url: &str) -> bool {
    let claimed = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok())
        .map(|u| u.origin());
    let public = url::Url::parse(public_url).ok().map(|u| u.origin());
    match (claimed, public) {
        // An opaque origin (`null`, `file:`) equals nothing.
        (Some(claimed), Some(public)) => claimed.is_tuple() && claimed == public,
        _ => false,
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let found = credential(req);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        // A websocket upgrade is a GET, but a cross-site page could open one with the cookie:
        // check its Origin like an unsafe request's.
        let csrf_ok = match (&found, &state) {
            (Some((_, Source::Cookie)), Some(state)) if unsafe_method || is_upgrade(req) => {
                same_origin(req, &state.config.public_url)
            }
            _ => true,
        };
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
            let (token, source) = found.ok_or_else(|| ApiError::Unauthorized("sign in first".into()))?;
            if !csrf_ok {
                return Err(ApiError::Forbidden(
                    "cross-site request refused: the Origin header does not match this server".into(),
                ));
            }
            let mut actor = match source {
                Source::Feed => sessions::authenticate_feed(&state, token).await?,
                _ => sessions::authenticate(&state, token).await?,
            };
            actor.request_id = request_id;
            Ok(actor)
        })
    }
}

impl Actor {
    /// True for a participant's delegate.
    pub fn is_participant(&self) -> bool {
        self.kind == OrganisationKind::Participant
    }
}
