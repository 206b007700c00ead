//! The accounts routes (`/api/auth`, `/api/invitations`, `/api/me`, `/api/organisations`,
//! `/api/users`): thin handlers over [`super::service`] — extract, validate, call, answer.
//! What only a handler can do stays here: the sign-in throttle, argon2 work on the
//! hashing threads (never inside a transaction), cookies, and telling the hub after a commit.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::actor::Actor;
use super::model::{
    Email, Invitation, InvitationRequest, LoginRequest, NewOrganisation, Organisation, OrganisationUpdate,
    ResetRequest, SessionInfo, TokenPassword, User, UserFilter, UserUpdate, ValidInvitation, ValidLogin,
    ValidNewOrganisation, ValidOrganisationUpdate, ValidTokenPassword, ValidUserUpdate,
};
use super::password::{self, Verified};
use super::service::{self, SignInContext};
use super::sessions::{self, ClientInfo, SignedIn, signed_in_response, signed_out_response};
use super::tokens::TokenPurpose;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::middleware::RequestId;
use crate::http::page::PageQuery;
use crate::page::Page;
use crate::policy::{Action, authorize};

// Several handlers keep the operation id of the plain name they had before (`list`, `get`,
// `create`, `update`): `http::openapi` makes shared ids unique by path, and generated clients
// key on the result (`list_users`, `get_organisations`).

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// Runs the argon2 work on the hashing threads ([`password::off_thread`]).
async fn hashing<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    password::off_thread(f).await.map_err(ApiError::internal)
}

/// What the signing-in services need from the configuration and the request.
fn sign_in_context(state: &AppState, req: &HttpRequest) -> SignInContext {
    SignInContext { accounts: state.config.accounts.clone(), client: ClientInfo::of(req), request_id: request_id(req) }
}

/// Signs in with email and password: `{token, user}` and a session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = SignedIn), (status = 401, description = "Wrong email or password"),
    (status = 422), (status = 429, description = "Too many failures; see Retry-After")))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = ValidLogin::try_from(body.into_inner())?;
    let ctx = sign_in_context(&state, &req);
    let cfg = &state.config.accounts;
    // Failures count per account *from one address*, and per address: someone guessing from one
    // address (or many) slows themselves down, never the owner signing in from elsewhere.
    let address = ctx.client.address.as_deref().unwrap_or("unknown");
    let pair_key = format!("account:{}|address:{address}", input.email().normalized());
    let address_key = format!("address:{address}");
    for (key, max) in [(&pair_key, cfg.login_max_failures), (&address_key, cfg.login_max_failures_per_address)] {
        state.throttle.check(key, max.max(1)).await?.map_err(|retry_after_secs| ApiError::TooManyRequests {
            retry_after_secs,
            detail: format!("too many failed sign-ins; try again in {retry_after_secs} seconds"),
        })?;
    }
    let email = input.email().clone();
    let found = state.db.read(move |c| service::find_for_sign_in(c, &email)).await?;
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    let password = input.into_password();
    let verified = hashing(move || password::verify(&password, stored.as_deref())).await?;
    let (user, rehashed) = match (verified, found) {
        (Verified::No, _) | (_, None) => {
            state.throttle.fail(&pair_key).await?;
            state.throttle.fail(&address_key).await?;
            return Err(ApiError::Unauthorized("wrong email or password".into()));
        }
        (_, Some(user)) if user.disabled => {
            return Err(ApiError::Forbidden("this account is disabled; ask the secretariat".into()));
        }
        (v, Some(user)) => {
            state.throttle.clear(&pair_key).await?;
            let rehashed = match v {
                Verified::YesRehashed(new_hash) => Some(new_hash),
                _ => None,
            };
            (user, rehashed)
        }
    };
    let now = state.clock.naive();
    let (token, user) = state.db.write(move |c| service::sign_in(c, &user, rehashed, now, &ctx)).await?;
    Ok(signed_in_response(&state, token, user))
}

/// Signs out: ends this session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204), (status = 401)))]
pub async fn logout(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let (who, now) = (actor.clone(), state.clock.naive());
    state.db.write(move |c| service::sign_out(c, &who, now)).await?;
    state.hub.access_changed(&[actor.user_id]);
    Ok(signed_out_response(&state))
}

/// Sends a reset link if the account exists; answers 202 either way, revealing nothing.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "auth", request_body = ResetRequest,
    responses((status = 202, description = "A link was sent if the account exists"), (status = 422)))]
pub async fn request_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse("email", &body.email)?;
    let (now, mail, rid) = (state.clock.naive(), state.mail_context(), request_id(&req));
    let sent = state.db.write(move |c| service::request_password_reset(c, now, &email, &mail, rid)).await?;
    if sent {
        state.mailer.wake();
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "status": "if the account exists, a link was sent" })))
}

/// Hashes the new password on the hashing threads (outside any transaction).
async fn hash_new_password(input: &ValidTokenPassword) -> Result<String, ApiError> {
    let password = input.password().as_str().to_string();
    hashing(move || password::hash(&password)).await?.map_err(ApiError::internal)
}

/// Sets a new password with a reset link: `{token, user}` and a session cookie.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth", request_body = TokenPassword,
    responses((status = 200, body = SignedIn), (status = 400, description = "Unknown link"), (status = 410, description = "Used or expired link"), (status = 422)))]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<TokenPassword>,
) -> Result<HttpResponse, ApiError> {
    set_password_with_link(&state, &req, body.into_inner(), TokenPurpose::PasswordReset).await
}

/// Invitations and resets alike: hash the password (on the hashing threads), redeem the link and
/// sign the person in (one transaction), then tell their open sockets.
async fn set_password_with_link(
    state: &AppState,
    req: &HttpRequest,
    body: TokenPassword,
    purpose: TokenPurpose,
) -> Result<HttpResponse, ApiError> {
    let input = ValidTokenPassword::try_from(body)?;
    let hash = hash_new_password(&input).await?;
    let (ctx, now) = (sign_in_context(state, req), state.clock.naive());
    let (token, user) =
        state.db.write(move |c| service::set_password_with_token(c, now, &input, hash, purpose, &ctx)).await?;
    state.hub.access_changed(&[user.id]);
    Ok(signed_in_response(state, token, user))
}

/// Invites a delegate: creates the pending account and mails a single-use link.
#[utoipa::path(post, path = "/api/invitations", tag = "accounts", request_body = InvitationRequest, responses(
    (status = 201, body = Invitation), (status = 401), (status = 403), (status = 409, description = "The email is taken"), (status = 422)))]
pub async fn invite(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<InvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::InviteDelegate { organisation_id: body.organisation_id })?;
    let input = ValidInvitation::try_from(body.into_inner())?;
    let (now, mail) = (state.clock.naive(), state.mail_context());
    let invitation = state.db.write(move |c| service::invite_delegate(c, &actor, now, input, &mail)).await?;
    state.mailer.wake();
    Ok(HttpResponse::Created().json(invitation))
}

/// Accepts an invitation with a first password: `{token, user}` and a session cookie.
#[utoipa::path(post, path = "/api/invitations/accept", tag = "accounts", request_body = TokenPassword,
    responses((status = 200, body = SignedIn), (status = 400, description = "Unknown link"), (status = 410, description = "Used or expired link"), (status = 422)))]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<TokenPassword>,
) -> Result<HttpResponse, ApiError> {
    set_password_with_link(&state, &req, body.into_inner(), TokenPurpose::Invitation).await
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "accounts", responses((status = 200, body = User), (status = 401)))]
pub async fn me(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let user = state.db.read(move |c| service::find_user(c, &actor, actor.user_id)).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// My live sessions, newest first.
#[utoipa::path(get, path = "/api/me/sessions", operation_id = "list", tag = "accounts", responses((status = 200, body = Page<SessionInfo>), (status = 401)))]
pub async fn list_sessions(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let (now, idle) = (state.clock.naive(), sessions::idle_limit(&state.config.accounts));
    let items = state.db.read(move |c| service::list_sessions(c, &actor, now, idle)).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor: None }))
}

/// Ends one of my sessions.
#[utoipa::path(delete, path = "/api/me/sessions/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 404)))]
pub async fn revoke(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, who, now) = (path.into_inner(), actor.clone(), state.clock.naive());
    state.db.write(move |c| service::revoke_session(c, &who, now, id)).await?;
    state.hub.access_changed(&[actor.user_id]);
    if id == actor.session_id { Ok(signed_out_response(&state)) } else { Ok(HttpResponse::NoContent().finish()) }
}

/// Ends all my sessions, this one included ("sign out everywhere").
#[utoipa::path(delete, path = "/api/me/sessions", tag = "accounts", responses((status = 204), (status = 401)))]
pub async fn revoke_everywhere(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let (who, now) = (actor.clone(), state.clock.naive());
    state.db.write(move |c| service::revoke_all_sessions(c, &who, now)).await?;
    state.hub.access_changed(&[actor.user_id]);
    Ok(signed_out_response(&state))
}

/// Lists organisations by id.
#[utoipa::path(get, path = "/api/organisations", operation_id = "list", tag = "accounts", params(PageQuery),
    responses((status = 200, body = Page<Organisation>), (status = 401), (status = 403)))]
pub async fn list_organisations(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ViewDirectory)?;
    let (limit, after) = (query.limit()?, query.after()?);
    let rows = state.db.read(move |c| service::list_organisations(c, &actor, limit, after)).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |r| r.id, Organisation::from)))
}

/// One organisation.
#[utoipa::path(get, path = "/api/organisations/{id}", operation_id = "get", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = Organisation), (status = 401), (status = 403), (status = 404)))]
pub async fn get_organisation(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(HttpResponse::Ok().json(state.db.read(move |c| service::find_organisation(c, &actor, id)).await?))
}

/// Creates an organisation (secretariat administrators).
#[utoipa::path(post, path = "/api/organisations", operation_id = "create", tag = "accounts", request_body = NewOrganisation,
    responses((status = 201, body = Organisation), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create_organisation(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ManageOrganisations)?;
    let input = ValidNewOrganisation::try_from(body.into_inner())?;
    let now = state.clock.naive();
    let org = state.db.write(move |c| service::create_organisation(c, &actor, now, input)).await?;
    Ok(HttpResponse::Created().json(org))
}

/// Changes an organisation (secretariat administrators).
#[utoipa::path(patch, path = "/api/organisations/{id}", operation_id = "update", tag = "accounts", params(("id" = i64, Path)), request_body = OrganisationUpdate,
    responses((status = 200, body = Organisation), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update_organisation(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<OrganisationUpdate>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ManageOrganisations)?;
    let (id, input) = (path.into_inner(), ValidOrganisationUpdate::try_from(body.into_inner())?);
    let now = state.clock.naive();
    let (org, members) = state.db.write(move |c| service::update_organisation(c, &actor, now, id, input)).await?;
    state.hub.access_changed(&members);
    Ok(HttpResponse::Ok().json(org))
}

/// Lists users by id.
#[utoipa::path(get, path = "/api/users", operation_id = "list", tag = "accounts", params(PageQuery, UserFilter),
    responses((status = 200, body = Page<User>), (status = 401), (status = 403)))]
pub async fn list_users(
    state: web::Data<AppState>,
    actor: Actor,
    page: web::Query<PageQuery>,
    filter: web::Query<UserFilter>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ViewDirectory)?;
    let (limit, after, org) = (page.limit()?, page.after()?, filter.organisation_id);
    let rows = state.db.read(move |c| service::list_users(c, &actor, limit, after, org)).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |(u, _)| u.id, |(u, o)| User::from_rows(u, o))))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}", operation_id = "get", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 401), (status = 403), (status = 404)))]
pub async fn get_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(HttpResponse::Ok().json(state.db.read(move |c| service::find_user(c, &actor, id)).await?))
}

/// Changes a user: administrators change anyone; a delegate changes their own name.
#[utoipa::path(patch, path = "/api/users/{id}", operation_id = "update", tag = "accounts", params(("id" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = User), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn update_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<UserUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, input) = (path.into_inner(), ValidUserUpdate::try_from(body.into_inner())?);
    let now = state.clock.naive();
    let user = state.db.write(move |c| service::update_user(c, &actor, now, id, input)).await?;
    state.hub.access_changed(&[id]);
    Ok(HttpResponse::Ok().json(user))
}

/// A calendar-feed token, shown once.
#[derive(serde::Serialize, serde::Deserialize, Debug, utoipa::ToSchema)]
pub struct CalendarFeed {
    /// Add `?feed=<token>` to a `…/calendar.ics` URL to subscribe from a calendar application.
    pub token: String,
}

/// Makes (or replaces) the caller's calendar link: a token that lets a calendar application
/// read the `.ics` feeds as the caller, and nothing else.
#[utoipa::path(post, path = "/api/me/calendar-feed", tag = "auth",
    responses((status = 201, body = CalendarFeed), (status = 401)))]
pub async fn create_calendar_feed(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let now = state.clock.naive();
    let token = state.db.write(move |c| service::issue_calendar_feed(c, &actor, now)).await?;
    Ok(HttpResponse::Created().json(CalendarFeed { token }))
}

/// Ends the caller's calendar link.
#[utoipa::path(delete, path = "/api/me/calendar-feed", tag = "auth", responses((status = 204), (status = 401), (status = 404)))]
pub async fn revoke_calendar_feed(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    state.db.write(move |c| service::revoke_calendar_feed(c, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}
