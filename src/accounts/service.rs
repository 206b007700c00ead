//! The accounts use cases: functions over a connection, the acting person (where there is one),
//! the time and validated input. They authorize, change and audit in the caller's transaction,
//! and know nothing of HTTP, so the handlers, the CLI (`admin create`) and the demo all go
//! through them. Argon2 hashing is slow on purpose and is done by the caller, outside the
//! transaction; a service only ever sees the hash.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::actor::Actor;
use super::model::{
    Email, Invitation, NewOrganisationRow, Organisation, OrganisationKind, OrganisationRow, OrganisationStatus,
    SessionInfo, User, UserRow, ValidInvitation, ValidNewOrganisation, ValidOrganisationUpdate, ValidTokenPassword,
    ValidUserUpdate, email_taken, insert_organisation, insert_user, load_user,
};
use super::sessions::{self, ClientInfo};
use super::tokens::{self, TokenPurpose};
use crate::audit::{self, AuditEntry};
use crate::config::{AccountsConfig, MailConfig};
use crate::db::DbConnection;
use crate::db::schema::{account_tokens, organisations, sessions as sessions_table, users};
use crate::error::{Error, FieldError};
use crate::mail::{self, Template};
use crate::policy::{Action, authorize};
use crate::realtime::access;

/// What a use case that sends mail needs to know: how mail looks, where links point, and how
/// long links live and how many may be sent.
#[derive(Clone, Debug)]
pub struct MailContext {
    pub mail: MailConfig,
    /// The server's public address, for links.
    pub public_url: String,
    pub accounts: AccountsConfig,
}

/// What a use case that signs a person in needs to know: session limits, where the person is,
/// and the request to name in the audit log.
#[derive(Clone, Debug)]
pub struct SignInContext {
    pub accounts: AccountsConfig,
    pub client: ClientInfo,
    pub request_id: Option<String>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(Error::internal)
}

// ---- signing in, invitations and resets -------------------------------------------------

/// The user with this email (any state), to check a password against.
pub fn find_for_sign_in(conn: &mut DbConnection, email: &Email) -> Result<Option<UserRow>, Error> {
    Ok(users::table
        .inner_join(organisations::table)
        .filter(users::email_normalized.eq(email.normalized()))
        .select(UserRow::as_select())
        .first::<UserRow>(conn)
        .optional()?)
}

/// Opens a session for a user whose password was verified; `rehashed`: the password was stored
/// with old argon2 parameters, and this is its hash made with the current ones.
pub fn sign_in(
    conn: &mut DbConnection,
    user: &UserRow,
    rehashed: Option<String>,
    now: NaiveDateTime,
    ctx: &SignInContext,
) -> Result<(String, User), Error> {
    if let Some(new_hash) = rehashed {
        diesel::update(users::table.find(user.id)).set(users::password_hash.eq(new_hash)).execute(conn)?;
    }
    let (token, session_id) = sessions::create(conn, user.id, &ctx.accounts, &ctx.client, now)?;
    audit::record(
        conn,
        AuditEntry::by_user(user.id, user.organisation_id, "session.create", "session", session_id)
            .request(ctx.request_id.clone()),
    )?;
    Ok((token, load_user(conn, user.id)?))
}

/// Accepts an invitation or completes a reset (`purpose`): redeems the link, sets the password
/// (already hashed), retires the user's other links, ends their other sessions and opens a new
/// one. The caller tells its hub that the user's access changed.
pub fn set_password_with_token(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    input: &ValidTokenPassword,
    hash: String,
    purpose: TokenPurpose,
    ctx: &SignInContext,
) -> Result<(String, User), Error> {
    let user = tokens::redeem(conn, input.token(), purpose, now)?;
    diesel::update(users::table.find(user.id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)?;
    // One link, one password: every other outstanding link of this user stops working.
    tokens::retire(conn, user.id, now)?;
    // A new password ends every other session: whoever knew the old password is out.
    sessions::revoke_all(conn, &[user.id], now)?;
    let (session_token, _) = sessions::create(conn, user.id, &ctx.accounts, &ctx.client, now)?;
    let action = match purpose {
        TokenPurpose::Invitation => "invitation.accept",
        TokenPurpose::PasswordReset => "password_reset.complete",
    };
    audit::record(
        conn,
        AuditEntry::by_user(user.id, user.organisation_id, action, "user", user.id)
            .request(ctx.request_id.clone())
            .diff(&serde_json::json!({"password": "(old)"}), &serde_json::json!({"password": "(changed)"})),
    )?;
    Ok((session_token, load_user(conn, user.id)?))
}

/// Mails a reset link if a live account has this email and the mailbox was not sent too many
/// lately; returns whether a mail was queued (the caller answers the same either way).
pub fn request_password_reset(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    email: &Email,
    mail: &MailContext,
    request_id: Option<String>,
) -> Result<bool, Error> {
    let cfg = &mail.accounts;
    let user = users::table
        .filter(users::email_normalized.eq(email.normalized()))
        .filter(users::disabled.eq(false))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    let Some(user) = user else { return Ok(false) };
    // At most `reset_mail_max` mails per email address and window: nobody can flood a mailbox
    // through this form. The answer is the same 202 either way. The user's row lock (PostgreSQL;
    // SQLite writers are serialised) makes concurrent requests, on any instance, count in turn:
    // each counts after the one before it committed its link.
    diesel::update(users::table.find(user.id)).set(users::id.eq(users::id)).execute(conn)?;
    let window_start = now - Duration::minutes(cfg.reset_mail_window_minutes.max(1));
    let recent: i64 = account_tokens::table
        .filter(account_tokens::user_id.eq(user.id))
        .filter(account_tokens::purpose.eq(TokenPurpose::PasswordReset.as_str()))
        .filter(account_tokens::created_at.gt(window_start))
        .count()
        .get_result(conn)?;
    if recent >= cfg.reset_mail_max.max(1) {
        tracing::info!(
            user_id = user.id,
            recent,
            "password-reset mail not sent: the limit per email address is reached"
        );
        return Ok(false);
    }
    let (token, expires) = tokens::issue(
        conn,
        user.id,
        TokenPurpose::PasswordReset,
        Duration::minutes(cfg.reset_minutes.max(1)),
        None,
        now,
    )?;
    let link = format!("{}/reset-password?token={token}", mail.public_url.trim_end_matches('/'));
    let rendered = mail::render(
        Template::PasswordReset,
        &mail.mail,
        &mail.public_url,
        &[
            ("name", user.display_name.clone()),
            ("link", link),
            ("expires", expires.format("%Y-%m-%d %H:%M").to_string()),
        ],
    );
    mail::enqueue(conn, &user.email, Template::PasswordReset, rendered)?;
    audit::record(
        conn,
        AuditEntry::by_user(user.id, user.organisation_id, "password_reset.request", "user", user.id)
            .request(request_id),
    )?;
    Ok(true)
}

/// Invites a delegate: creates the pending account, issues a single-use link and queues the mail.
pub fn invite_delegate(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    input: ValidInvitation,
    mail: &MailContext,
) -> Result<Invitation, Error> {
    authorize(actor, &Action::InviteDelegate { organisation_id: input.organisation_id() })?;
    let org: OrganisationRow = organisations::table
        .find(input.organisation_id())
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::invalid("organisation_id", "no such organisation"))?;
    let email = input.email();
    if email_taken(conn, email)? {
        return Err(Error::Duplicate {
            field: "email".into(),
            detail: format!("{} already has an account", email.display()),
        });
    }
    let user_id = insert_user(conn, org.id, email, input.name(), None, false, now)?;
    let (token, expires_at) = tokens::issue(
        conn,
        user_id,
        TokenPurpose::Invitation,
        Duration::hours(mail.accounts.invitation_hours.max(1)),
        Some(actor.user_id),
        now,
    )?;
    let link = format!("{}/invitation?token={token}", mail.public_url.trim_end_matches('/'));
    let rendered = mail::render(
        Template::Invitation,
        &mail.mail,
        &mail.public_url,
        &[
            ("name", input.name().to_string()),
            ("organisation", org.name.clone()),
            ("invited_by", actor.display_name.clone()),
            ("link", link),
            ("expires", expires_at.format("%Y-%m-%d %H:%M").to_string()),
        ],
    );
    mail::enqueue(conn, email.display(), Template::Invitation, rendered)?;
    let user = load_user(conn, user_id)?;
    audit::record(conn, AuditEntry::by(actor, "user.invite", "user", user_id).created(&to_json(&user)?))?;
    Ok(Invitation { user, expires_at: expires_at.and_utc() })
}

// ---- organisations ---------------------------------------------------------------------

/// Whose delegates a mail goes to.
#[derive(Clone, Copy, Debug)]
pub enum Delegates<'a> {
    /// Every delegate of these organisations.
    Of(&'a [i64]),
    /// The delegates of one organisation, or only `person` among them when a term names one.
    Holding { organisation_id: i64, person: Option<i64> },
    /// Every delegate of every active participant.
    ActiveParticipants,
    /// The secretariat's administrators.
    SecretariatAdmins,
}

/// The delegates a mail can reach (enabled, and with a password set: an invitation not yet
/// accepted is not an address to write to), as `(email, display name)`, in a stable order. The
/// one query behind every notice, digest and procedure mail.
pub fn reachable(conn: &mut DbConnection, who: Delegates<'_>) -> Result<Vec<(String, String)>, Error> {
    use crate::accounts::model::{OrganisationKind, OrganisationStatus};
    let mut q = users::table
        .inner_join(organisations::table)
        .filter(users::disabled.eq(false))
        .filter(users::password_hash.is_not_null())
        .order(users::id.asc())
        .select((users::email, users::display_name))
        .into_boxed();
    q = match who {
        Delegates::Of(ids) => q.filter(users::organisation_id.eq_any(ids.to_vec())),
        Delegates::Holding { organisation_id, person: None } => q.filter(users::organisation_id.eq(organisation_id)),
        Delegates::Holding { organisation_id, person: Some(person) } => {
            q.filter(users::organisation_id.eq(organisation_id)).filter(users::id.eq(person))
        }
        Delegates::ActiveParticipants => q
            .filter(organisations::kind.eq(OrganisationKind::Participant.as_str()))
            .filter(organisations::status.eq(OrganisationStatus::Active.as_str())),
        Delegates::SecretariatAdmins => {
            q.filter(organisations::kind.eq(OrganisationKind::Secretariat.as_str())).filter(users::is_admin.eq(true))
        }
    };
    Ok(q.load(conn)?)
}

/// Organisations by id: up to `limit + 1` rows with ids above `after` (the caller pages).
pub fn list_organisations(
    conn: &mut DbConnection,
    actor: &Actor,
    limit: i64,
    after: Option<i64>,
) -> Result<Vec<OrganisationRow>, Error> {
    authorize(actor, &Action::ViewDirectory)?;
    Ok(organisations::table
        .filter(organisations::id.gt(after.unwrap_or(0)))
        .order(organisations::id.asc())
        .limit(limit + 1)
        .select(OrganisationRow::as_select())
        .load(conn)?)
}

/// One organisation; 404 if there is none.
pub fn find_organisation(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<Organisation, Error> {
    authorize(actor, &Action::ViewDirectory)?;
    load_organisation(conn, id)
}

fn load_organisation(conn: &mut DbConnection, id: i64) -> Result<Organisation, Error> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .map(Organisation::from)
        .ok_or_else(|| Error::NotFound(format!("no organisation {id}")))
}

/// 409 when another organisation (not `except`) has this name or short code.
fn ensure_unique(conn: &mut DbConnection, name: &str, code: &str, except: Option<i64>) -> Result<(), Error> {
    let mut q = organisations::table
        .filter(organisations::name.eq(name).or(organisations::short_code.eq(code)))
        .select((organisations::name, organisations::short_code))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(organisations::id.ne(id));
    }
    if let Some((n, _)) = q.first::<(String, String)>(conn).optional()? {
        let what = if n == name {
            format!("an organisation named {name}")
        } else {
            format!("an organisation with code {code}")
        };
        return Err(Error::Conflict(format!("there is already {what}")));
    }
    Ok(())
}

/// Creates an organisation (secretariat administrators).
pub fn create_organisation(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    input: ValidNewOrganisation,
) -> Result<Organisation, Error> {
    authorize(actor, &Action::ManageOrganisations)?;
    ensure_unique(conn, input.name(), input.short_code(), None)?;
    let countries = input.countries();
    let id = insert_organisation(conn, input.row(&countries), now)?;
    let org = load_organisation(conn, id)?;
    audit::record(conn, AuditEntry::by(actor, "organisation.create", "organisation", id).created(&to_json(&org)?))?;
    Ok(org)
}

/// Changes an organisation (secretariat administrators). Suspending or withdrawing it ends its
/// delegates' sessions. Returns the organisation and its members, whose access the caller
/// tells its hub about after the commit.
pub fn update_organisation(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    id: i64,
    input: ValidOrganisationUpdate,
) -> Result<(Organisation, Vec<i64>), Error> {
    authorize(actor, &Action::ManageOrganisations)?;
    let before = load_organisation(conn, id)?;
    let name = input.name().unwrap_or(&before.name).to_string();
    let code = input.short_code().unwrap_or(&before.short_code).to_string();
    ensure_unique(conn, &name, &code, Some(id))?;
    let status = input.status().unwrap_or(before.status);
    let countries = input.countries().unwrap_or(&before.countries);
    diesel::update(organisations::table.find(id))
        .set((
            organisations::name.eq(&name),
            organisations::short_code.eq(&code),
            organisations::status.eq(status.as_str()),
            organisations::admitted_on.eq(input.admitted_on().unwrap_or(before.admitted_on)),
            organisations::countries.eq(serde_json::to_string(countries).map_err(Error::internal)?),
            organisations::updated_at.eq(now),
        ))
        .execute(conn)?;
    let members: Vec<i64> = users::table.filter(users::organisation_id.eq(id)).select(users::id).load(conn)?;
    if status != OrganisationStatus::Active && before.status == OrganisationStatus::Active {
        sessions::revoke_all(conn, &members, now)?;
    }
    let after = load_organisation(conn, id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "organisation.update", "organisation", id).diff(&to_json(&before)?, &to_json(&after)?),
    )?;
    Ok((after, members))
}

/// Finds an organisation by name, or creates it as `new` says (a `2`, `3`, … is appended to a
/// short code that is taken). For the CLI and the demo: audited as the system.
pub fn ensure_organisation(
    conn: &mut DbConnection,
    new: NewOrganisationRow<'_>,
    now: NaiveDateTime,
) -> Result<i64, Error> {
    let NewOrganisationRow { kind, name, short_code, .. } = new;
    if let Some(id) =
        organisations::table.filter(organisations::name.eq(name)).select(organisations::id).first(conn).optional()?
    {
        return Ok(id);
    }
    let mut code = short_code.to_uppercase();
    let mut n = 1;
    while organisations::table.filter(organisations::short_code.eq(&code)).count().get_result::<i64>(conn)? > 0 {
        n += 1;
        code = format!("{}{n}", short_code.to_uppercase());
    }
    let id = insert_organisation(conn, NewOrganisationRow { short_code: &code, ..new }, now)?;
    let after = serde_json::json!({"name": name, "kind": kind.as_str(), "short_code": code});
    audit::record(conn, AuditEntry::system("organisation.create", "organisation", id, &after))?;
    Ok(id)
}

// ---- users -----------------------------------------------------------------------------

/// Users by id with their organisations: up to `limit + 1` rows with ids above `after`,
/// optionally of one organisation (the caller pages).
pub fn list_users(
    conn: &mut DbConnection,
    actor: &Actor,
    limit: i64,
    after: Option<i64>,
    organisation_id: Option<i64>,
) -> Result<Vec<(UserRow, OrganisationRow)>, Error> {
    authorize(actor, &Action::ViewDirectory)?;
    let mut q = users::table
        .inner_join(organisations::table)
        .filter(users::id.gt(after.unwrap_or(0)))
        .select((UserRow::as_select(), OrganisationRow::as_select()))
        .order(users::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(org) = organisation_id {
        q = q.filter(users::organisation_id.eq(org));
    }
    Ok(q.load::<(UserRow, OrganisationRow)>(conn)?)
}

/// One user: anyone may see themselves; others need the directory. 404 if there is none.
pub fn find_user(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<User, Error> {
    if id != actor.user_id {
        authorize(actor, &Action::ViewDirectory)?;
    }
    load_user(conn, id).optional()?.ok_or_else(|| Error::NotFound(format!("no user {id}")))
}

/// Changes a user: administrators change anyone; a delegate changes their own name. Nobody
/// locks themselves out; disabling ends the user's sessions. The caller tells its hub that the
/// user's access changed after the commit.
pub fn update_user(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    id: i64,
    input: ValidUserUpdate,
) -> Result<User, Error> {
    let before = load_user(conn, id).optional()?.ok_or_else(|| Error::NotFound(format!("no user {id}")))?;
    let (disabled, is_admin) = (input.disabled(), input.is_admin());
    let admin_fields = disabled.is_some() || is_admin.is_some();
    authorize(actor, &Action::UpdateUser { user_id: id, organisation_id: before.organisation.id, admin_fields })?;
    let mut errors = Vec::new();
    if id == actor.user_id && (disabled == Some(true) || is_admin == Some(false)) {
        errors.push(FieldError::new(
            if disabled == Some(true) { "disabled" } else { "is_admin" },
            "you cannot lock yourself out",
        ));
    }
    if is_admin == Some(true) && before.organisation.kind != OrganisationKind::Secretariat {
        errors.push(FieldError::new("is_admin", "only secretariat users can be administrators"));
    }
    Error::check(errors)?;
    diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(input.display_name().unwrap_or(&before.display_name)),
            users::disabled.eq(disabled.unwrap_or(before.disabled)),
            users::is_admin.eq(is_admin.unwrap_or(before.is_admin)),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if disabled == Some(true) && !before.disabled {
        sessions::revoke_all(conn, &[id], now)?;
    } else if is_admin.is_some_and(|a| a != before.is_admin) {
        access::announce(conn, &[id])?;
    }
    let after = load_user(conn, id)?;
    audit::record(conn, AuditEntry::by(actor, "user.update", "user", id).diff(&to_json(&before)?, &to_json(&after)?))?;
    Ok(after)
}

/// Creates a user with a password (already hashed); `Ok(None)` if the email is taken. For the
/// CLI and the demo: audited as the system.
pub fn create_user(
    conn: &mut DbConnection,
    organisation_id: i64,
    email: &Email,
    name: &str,
    password_hash: &str,
    is_admin: bool,
    now: NaiveDateTime,
) -> Result<Option<i64>, Error> {
    if email_taken(conn, email)? {
        return Ok(None);
    }
    let id = insert_user(conn, organisation_id, email, name, Some(password_hash), is_admin, now)?;
    let after = serde_json::json!({"email": email.display(), "display_name": name, "is_admin": is_admin});
    audit::record(conn, AuditEntry::system("user.create", "user", id, &after))?;
    Ok(Some(id))
}

// ---- my sessions -----------------------------------------------------------------------

/// The actor's live sessions at `now`, newest first (at most 200).
pub fn list_sessions(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    idle: Duration,
) -> Result<Vec<SessionInfo>, Error> {
    authorize(actor, &Action::ManageOwnSessions)?;
    let rows = sessions_table::table
        .filter(sessions_table::user_id.eq(actor.user_id))
        .filter(sessions_table::revoked_at.is_null())
        .filter(sessions_table::expires_at.gt(now))
        .filter(sessions_table::last_seen_at.gt(now - idle))
        .order(sessions_table::id.desc())
        .limit(200)
        .select((
            sessions_table::id,
            sessions_table::created_at,
            sessions_table::last_seen_at,
            sessions_table::expires_at,
            sessions_table::user_agent,
            sessions_table::client_ip,
        ))
        .load::<(i64, NaiveDateTime, NaiveDateTime, NaiveDateTime, Option<String>, Option<String>)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at, last_seen_at, expires_at, user_agent, client_ip)| SessionInfo {
            id,
            created_at: created_at.and_utc(),
            last_seen_at: last_seen_at.and_utc(),
            expires_at: expires_at.and_utc(),
            user_agent,
            client_ip,
            current: id == actor.session_id,
        })
        .collect())
}

/// Ends one of the actor's live sessions; 404 when they have no such live session. The caller
/// tells its hub after the commit.
pub fn revoke_session(conn: &mut DbConnection, actor: &Actor, now: NaiveDateTime, id: i64) -> Result<(), Error> {
    authorize(actor, &Action::ManageOwnSessions)?;
    let n = diesel::update(sessions_table::table)
        .filter(sessions_table::id.eq(id))
        .filter(sessions_table::user_id.eq(actor.user_id))
        .filter(sessions_table::revoked_at.is_null())
        .set(sessions_table::revoked_at.eq(now))
        .execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound(format!("you have no live session {id}")));
    }
    access::announce(conn, &[actor.user_id])?;
    audit::record(conn, AuditEntry::by(actor, "session.revoke", "session", id))
}

/// Ends all the actor's sessions, the current one included ("sign out everywhere"); returns
/// how many ended. The caller tells its hub after the commit.
pub fn revoke_all_sessions(conn: &mut DbConnection, actor: &Actor, now: NaiveDateTime) -> Result<usize, Error> {
    authorize(actor, &Action::ManageOwnSessions)?;
    let n = sessions::revoke_all(conn, &[actor.user_id], now)?;
    let entry = AuditEntry::by(actor, "session.revoke_all", "user", actor.user_id);
    audit::record(conn, AuditEntry { changes: serde_json::json!({ "sessions_ended": n }), ..entry })?;
    Ok(n)
}

/// Signs out: ends the actor's current session. The caller tells its hub after the commit.
pub fn sign_out(conn: &mut DbConnection, actor: &Actor, now: NaiveDateTime) -> Result<(), Error> {
    diesel::update(sessions_table::table.find(actor.session_id))
        .set(sessions_table::revoked_at.eq(now))
        .execute(conn)?;
    access::announce(conn, &[actor.user_id])?;
    audit::record(conn, AuditEntry::by(actor, "session.logout", "session", actor.session_id))
}

// ---- calendar feeds --------------------------------------------------------------------

/// Makes (or replaces) the actor's calendar-feed token: it lets a calendar application read the
/// `.ics` feeds as this person, and nothing else. Returns the token, shown once.
pub fn issue_calendar_feed(conn: &mut DbConnection, actor: &Actor, now: NaiveDateTime) -> Result<String, Error> {
    use crate::db::schema::calendar_feeds;
    let token = tokens::generate();
    diesel::delete(calendar_feeds::table.find(actor.user_id)).execute(conn)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(actor.user_id),
            calendar_feeds::token_hash.eq(tokens::digest(&token)),
            calendar_feeds::created_at.eq(now),
        ))
        .execute(conn)?;
    audit::record(conn, AuditEntry::by(actor, "calendar_feed.issue", "user", actor.user_id))?;
    Ok(token)
}

/// Ends the actor's calendar-feed token; 404 if there is none.
pub fn revoke_calendar_feed(conn: &mut DbConnection, actor: &Actor) -> Result<(), Error> {
    use crate::db::schema::calendar_feeds;
    let n = diesel::delete(calendar_feeds::table.find(actor.user_id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("you have no calendar link".into()));
    }
    audit::record(conn, AuditEntry::by(actor, "calendar_feed.revoke", "user", actor.user_id))?;
    Ok(())
}
