//! Signing in, and the single-use links that let a person choose a password: invitations
//! (`invitation`) and password resets (`password_reset`).

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{Email, NewPassword, OrganisationRow, User, UserRow, email_taken, insert_user, load_user};
use super::password::{self, Verified};
use super::sessions::{self, ClientInfo, SignedIn, signed_in_response};
use super::tokens;
use crate::app::AppState;
use crate::audit::{self, AuditEntry};
use crate::db::DbConnection;
use crate::db::schema::{account_tokens, organisations, users};
use crate::http::error::{ApiError, FieldError};
use crate::http::middleware::RequestId;
use crate::mail::{self, Template};

crate::text_enum!(
    /// What a single-use link is for.
    pub TokenPurpose {
        /// Accept an invitation and choose a first password.
        Invitation => "invitation",
        /// Choose a new password.
        PasswordReset => "password_reset",
    }
);

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// Runs the argon2 work on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    actix_web::rt::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))
}

/// Sign-in credentials.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
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
    let body = body.into_inner();
    let email = Email::parse("email", &body.email)?;
    if body.password.is_empty() || body.password.len() > NewPassword::MAX_BYTES {
        return Err(ApiError::invalid("password", "must be between 1 and 1024 bytes"));
    }
    let client = ClientInfo::of(&req);
    let cfg = &state.config.accounts;
    // Failures count per account *from one address*, and per address: someone guessing from one
    // address (or many) slows themselves down, never the owner signing in from elsewhere.
    let address = client.address.as_deref().unwrap_or("unknown");
    let pair_key = format!("account:{}|address:{address}", email.normalized);
    let address_key = format!("address:{address}");
    for (key, max) in [(&pair_key, cfg.login_max_failures), (&address_key, cfg.login_max_failures_per_address)] {
        state.throttle.check(key, max.max(1)).map_err(|retry_after_secs| ApiError::TooManyRequests {
            retry_after_secs,
            detail: format!("too many failed sign-ins; try again in {retry_after_secs} seconds"),
        })?;
    }
    let normalized = email.normalized.clone();
    let found = state
        .db
        .read(move |c| {
            Ok(users::table
                .inner_join(organisations::table)
                .filter(users::email_normalized.eq(normalized))
                .select((UserRow::as_select(), OrganisationRow::as_select()))
                .first::<(UserRow, OrganisationRow)>(c)
                .optional()?)
        })
        .await?;
    let stored = found.as_ref().and_then(|(u, _)| u.password_hash.clone());
    let password = body.password;
    let verified = blocking(move || password::verify(&password, stored.as_deref())).await?;
    let ((user, _), rehashed) = match (verified, found) {
        (Verified::No, _) | (_, None) => {
            state.throttle.fail(&pair_key);
            state.throttle.fail(&address_key);
            return Err(ApiError::Unauthorized("wrong email or password".into()));
        }
        (_, Some((user, _))) if user.disabled => {
            return Err(ApiError::Forbidden("this account is disabled; ask the secretariat".into()));
        }
        (v, Some(found)) => {
            state.throttle.clear(&pair_key);
            let rehashed = match v {
                Verified::YesRehashed(new_hash) => Some(new_hash),
                _ => None,
            };
            (found, rehashed)
        }
    };
    let (accounts, rid, now) = (state.config.accounts.clone(), request_id(&req), state.clock.naive());
    let (token, user) = state
        .db
        .write(move |c| {
            // Stored with old argon2 parameters: keep the hash made with the current ones.
            if let Some(new_hash) = rehashed {
                diesel::update(users::table.find(user.id)).set(users::password_hash.eq(new_hash)).execute(c)?;
            }
            let (token, session_id) = sessions::create(c, user.id, &accounts, &client, now)?;
            audit::record(
                c,
                AuditEntry::by_user(user.id, user.organisation_id, "session.create", "session", session_id)
                    .request(rid),
            )?;
            Ok((token, load_user(c, user.id)?))
        })
        .await?;
    Ok(signed_in_response(&state, token, user))
}

/// Creates a single-use token for `user_id`; returns the token and its expiry.
pub fn issue_token(
    conn: &mut DbConnection,
    user_id: i64,
    purpose: TokenPurpose,
    valid_for: Duration,
    created_by: Option<i64>,
    at: NaiveDateTime,
) -> Result<(String, NaiveDateTime), ApiError> {
    let token = tokens::generate();
    let expires_at = at + valid_for;
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::user_id.eq(user_id),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::token_hash.eq(tokens::digest(&token)),
            account_tokens::created_by.eq(created_by),
            account_tokens::created_at.eq(at),
            account_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok((token, expires_at))
}

/// Takes a single-use token: checks it, marks it used, and returns the user it belongs to.
/// 400 when it never existed, 410 when it was used or has expired.
pub fn redeem_token(
    conn: &mut DbConnection,
    token: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> Result<UserRow, ApiError> {
    let found = account_tokens::table
        .filter(account_tokens::token_hash.eq(tokens::digest(token)))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select((account_tokens::id, account_tokens::user_id, account_tokens::expires_at, account_tokens::used_at))
        .first::<(i64, i64, NaiveDateTime, Option<NaiveDateTime>)>(conn)
        .optional()?;
    let Some((id, user_id, expires_at, used_at)) = found else {
        return Err(ApiError::Validation {
            malformed: true,
            errors: vec![FieldError::new("token", "this link is not valid; check that you copied all of it")],
        });
    };
    if used_at.is_some() {
        return Err(ApiError::Gone(
            "this link has already been used, or the password was changed since it was sent".into(),
        ));
    }
    if expires_at <= now {
        return Err(ApiError::Gone("this link has expired; ask for a new one".into()));
    }
    let n = diesel::update(account_tokens::table)
        .filter(account_tokens::id.eq(id))
        .filter(account_tokens::used_at.is_null())
        .set(account_tokens::used_at.eq(now))
        .execute(conn)?;
    if n == 0 {
        return Err(ApiError::Gone("this link has already been used".into()));
    }
    let user: UserRow = users::table.find(user_id).select(UserRow::as_select()).first(conn)?;
    if user.disabled {
        return Err(ApiError::Forbidden("this account is disabled; ask the secretariat".into()));
    }
    Ok(user)
}

/// Marks every unused link (invitation or reset) of `user_id` as used, so that it answers 410;
/// called whenever the user's password changes. Returns how many were retired.
pub fn retire_tokens(conn: &mut DbConnection, user_id: i64, at: NaiveDateTime) -> Result<usize, ApiError> {
    Ok(diesel::update(account_tokens::table)
        .filter(account_tokens::user_id.eq(user_id))
        .filter(account_tokens::used_at.is_null())
        .set(account_tokens::used_at.eq(at))
        .execute(conn)?)
}

/// A single-use token and the password to set with it.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPassword {
    pub token: String,
    /// At least 12 characters, at most 1024 bytes.
    pub password: String,
}

/// Sets the password from a link and signs the person in (used by invitations and resets).
pub async fn set_password_with_token(
    state: &AppState,
    req: &HttpRequest,
    body: TokenPassword,
    purpose: TokenPurpose,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    if body.token.trim().is_empty() || body.token.len() > 200 {
        errors.push(FieldError::new("token", "is required"));
    }
    if let Err(e) = NewPassword::parse("password", &body.password) {
        errors.push(e);
    }
    ApiError::check(errors)?;
    let password = body.password;
    let hash = blocking(move || password::hash(&password)).await?.map_err(ApiError::internal)?;
    let (accounts, client, rid) = (state.config.accounts.clone(), ClientInfo::of(req), request_id(req));
    let (token, now) = (body.token, state.clock.naive());
    let (session_token, user) = state
        .db
        .write(move |c| {
            let user = redeem_token(c, token.trim(), purpose, now)?;
            diesel::update(users::table.find(user.id))
                .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
                .execute(c)?;
            // One link, one password: every other outstanding link of this user stops working.
            retire_tokens(c, user.id, now)?;
            // A new password ends every other session: whoever knew the old password is out.
            sessions::revoke_all(c, &[user.id], now)?;
            let (session_token, _) = sessions::create(c, user.id, &accounts, &client, now)?;
            let action = match purpose {
                TokenPurpose::Invitation => "invitation.accept",
                TokenPurpose::PasswordReset => "password_reset.complete",
            };
            audit::record(
                c,
                AuditEntry::by_user(user.id, user.organisation_id, action, "user", user.id)
                    .request(rid)
                    .diff(&serde_json::json!({"password": "(old)"}), &serde_json::json!({"password": "(changed)"})),
            )?;
            Ok((session_token, load_user(c, user.id)?))
        })
        .await?;
    state.hub.access_changed(&[user.id]);
    Ok(signed_in_response(state, session_token, user))
}

/// Asks for a password-reset link.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
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
    let now = state.clock.naive();
    let (cfg, mail_cfg, public_url, rid) = (
        state.config.accounts.clone(),
        state.mailer.config().clone(),
        state.config.public_url.clone(),
        request_id(&req),
    );
    let sent = state
        .db
        .write(move |c| {
            let user = users::table
                .filter(users::email_normalized.eq(&email.normalized))
                .filter(users::disabled.eq(false))
                .select(UserRow::as_select())
                .first(c)
                .optional()?;
            let Some(user) = user else { return Ok(false) };
            // At most `reset_mail_max` mails per email address and window: nobody can flood a mailbox
            // through this form. The answer is the same 202 either way.
            let window_start = now - Duration::minutes(cfg.reset_mail_window_minutes.max(1));
            let recent: i64 = account_tokens::table
                .filter(account_tokens::user_id.eq(user.id))
                .filter(account_tokens::purpose.eq(TokenPurpose::PasswordReset.as_str()))
                .filter(account_tokens::created_at.gt(window_start))
                .count()
                .get_result(c)?;
            if recent >= cfg.reset_mail_max.max(1) {
                tracing::info!(
                    user_id = user.id,
                    recent,
                    "password-reset mail not sent: the limit per email address is reached"
                );
                return Ok(false);
            }
            let (token, expires) = issue_token(
                c,
                user.id,
                TokenPurpose::PasswordReset,
                Duration::minutes(cfg.reset_minutes.max(1)),
                None,
                now,
            )?;
            let link = format!("{}/reset-password?token={token}", public_url.trim_end_matches('/'));
            let rendered = mail::render(
                Template::PasswordReset,
                &mail_cfg,
                &public_url,
                &[
                    ("name", user.display_name.clone()),
                    ("link", link),
                    ("expires", expires.format("%Y-%m-%d %H:%M").to_string()),
                ],
            );
            mail::enqueue(c, &user.email, Template::PasswordReset, rendered)?;
            audit::record(
                c,
                AuditEntry::by_user(user.id, user.organisation_id, "password_reset.request", "user", user.id)
                    .request(rid),
            )?;
            Ok(true)
        })
        .await?;
    if sent {
        state.mailer.wake();
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "status": "if the account exists, a link was sent" })))
}

/// Sets a new password with a reset link: `{token, user}` and a session cookie.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth", request_body = TokenPassword,
    responses((status = 200, body = SignedIn), (status = 400, description = "Unknown link"), (status = 410, description = "Used or expired link"), (status = 422)))]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<TokenPassword>,
) -> Result<HttpResponse, ApiError> {
    set_password_with_token(&state, &req, body.into_inner(), TokenPurpose::PasswordReset).await
}

/// A new delegate to invite.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    pub email: String,
    /// The delegate's name as it will be shown.
    pub name: String,
    pub organisation_id: i64,
}

/// An invitation that was sent.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct Invitation {
    /// The new (pending) user.
    pub user: User,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Invites a delegate: creates the pending account and mails a single-use link.
#[utoipa::path(post, path = "/api/invitations", tag = "accounts", request_body = InvitationRequest, responses(
    (status = 201, body = Invitation), (status = 401), (status = 403), (status = 409, description = "The email is taken"), (status = 422)))]
pub async fn invite(
    state: web::Data<AppState>,
    actor: crate::accounts::actor::Actor,
    body: web::Json<InvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    crate::policy::authorize(&actor, &crate::policy::Action::InviteDelegate { organisation_id: body.organisation_id })?;
    let mut errors = Vec::new();
    let email = Email::parse("email", &body.email).map_err(|e| errors.push(e)).ok();
    let name = super::model::parse_name("name", &body.name).map_err(|e| errors.push(e)).ok();
    ApiError::check(errors)?;
    let (Some(email), Some(name)) = (email, name) else { return Err(ApiError::invalid("body", "invalid")) };
    let now = state.clock.naive();
    let (cfg, mail_cfg, public_url) =
        (state.config.accounts.clone(), state.mailer.config().clone(), state.config.public_url.clone());
    let invitation = state
        .db
        .write(move |c| {
            let org: Option<OrganisationRow> = organisations::table
                .find(body.organisation_id)
                .select(OrganisationRow::as_select())
                .first(c)
                .optional()?;
            let org = org.ok_or_else(|| ApiError::invalid("organisation_id", "no such organisation"))?;
            if email_taken(c, &email)? {
                return Err(ApiError::Duplicate {
                    field: "email".into(),
                    detail: format!("{} already has an account", email.display),
                });
            }
            let user_id = insert_user(c, org.id, &email, &name, None, false)?;
            let (token, expires_at) = issue_token(
                c,
                user_id,
                TokenPurpose::Invitation,
                Duration::hours(cfg.invitation_hours.max(1)),
                Some(actor.user_id),
                now,
            )?;
            let link = format!("{}/invitation?token={token}", public_url.trim_end_matches('/'));
            let rendered = mail::render(
                Template::Invitation,
                &mail_cfg,
                &public_url,
                &[
                    ("name", name.clone()),
                    ("organisation", org.name.clone()),
                    ("invited_by", actor.display_name.clone()),
                    ("link", link),
                    ("expires", expires_at.format("%Y-%m-%d %H:%M").to_string()),
                ],
            );
            mail::enqueue(c, &email.display, Template::Invitation, rendered)?;
            let user = load_user(c, user_id)?;
            audit::record(
                c,
                AuditEntry::by(&actor, "user.invite", "user", user_id)
                    .created(&serde_json::to_value(&user).map_err(ApiError::internal)?),
            )?;
            Ok(Invitation { user, expires_at: expires_at.and_utc() })
        })
        .await?;
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
    set_password_with_token(&state, &req, body.into_inner(), TokenPurpose::Invitation).await
}
