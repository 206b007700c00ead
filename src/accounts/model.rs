//! Organisations and their delegates: rows, API views, the requests as they arrive, and the
//! validated inputs the services take. A service never receives an email, name, short code or
//! password that has not been through these types (their fields are private).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::schema::{organisations, users};
use crate::error::{Error, FieldError};

crate::text_enum!(
    /// What an organisation is in the body; decides what its delegates may do (see `policy`).
    pub OrganisationKind {
        /// A member that takes part in every decision (a state, or e.g. the EU).
        Participant => "participant",
        /// Follows and speaks, never decides (industry, civil society).
        Observer => "observer",
        /// Invited to follow one meeting.
        Guest => "guest",
        /// The permanent staff: runs accounts and logistics, decides nothing.
        Secretariat => "secretariat",
    }
);

crate::text_enum!(
    /// Whether an organisation's delegates may act.
    pub OrganisationStatus {
        /// In good standing.
        Active => "active",
        /// Suspended: its delegates may sign in and read, but write nothing.
        Suspended => "suspended",
        /// Left the body: read-only like a suspension.
        Withdrawn => "withdrawn",
    }
);

/// A row of `organisations`.
#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: i64,
    #[diesel(deserialize_as = String)]
    pub kind: OrganisationKind,
    pub name: String,
    pub short_code: String,
    #[diesel(deserialize_as = String)]
    pub status: OrganisationStatus,
    pub admitted_on: Option<NaiveDate>,
    pub countries: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An organisation as the API shows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Organisation {
    pub id: i64,
    pub kind: OrganisationKind,
    pub name: String,
    /// A short, unique code (ISO country code for states: `BW`, `EU`).
    pub short_code: String,
    pub status: OrganisationStatus,
    /// The date the body admitted it (Liberia: 2007-05-04).
    pub admitted_on: Option<NaiveDate>,
    /// For a regional organisation: the countries it represents.
    pub countries: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OrganisationRow> for Organisation {
    fn from(row: OrganisationRow) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            status: row.status,
            countries: serde_json::from_str(&row.countries).unwrap_or_default(),
            name: row.name,
            short_code: row.short_code,
            admitted_on: row.admitted_on,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// The few organisation fields shown inside a user.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct OrganisationRef {
    pub id: i64,
    pub name: String,
    pub short_code: String,
    pub kind: OrganisationKind,
    pub status: OrganisationStatus,
}

impl From<&Organisation> for OrganisationRef {
    fn from(o: &Organisation) -> Self {
        Self { id: o.id, name: o.name.clone(), short_code: o.short_code.clone(), kind: o.kind, status: o.status }
    }
}

/// A row of `users`.
#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub organisation_id: i64,
    pub email: String,
    pub email_normalized: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A delegate as the API shows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// A system administrator (the secretariat's operators).
    pub is_admin: bool,
    pub disabled: bool,
    /// True until the delegate accepted the invitation and chose a password.
    pub pending: bool,
    pub created_at: DateTime<Utc>,
    pub organisation: OrganisationRef,
}

impl User {
    /// Joins a user row with its organisation.
    pub fn from_rows(user: UserRow, organisation: OrganisationRow) -> Self {
        Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            is_admin: user.is_admin,
            disabled: user.disabled,
            pending: user.password_hash.is_none(),
            created_at: user.created_at.and_utc(),
            organisation: OrganisationRef::from(&Organisation::from(organisation)),
        }
    }
}

/// Loads one user with its organisation.
pub fn load_user(conn: &mut crate::db::DbConnection, id: i64) -> QueryResult<User> {
    let (user, org) = users::table
        .inner_join(organisations::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), OrganisationRow::as_select()))
        .first(conn)?;
    Ok(User::from_rows(user, org))
}

/// The fields of a new organisation, already validated.
#[derive(Debug, Clone, Copy)]
pub struct NewOrganisationRow<'a> {
    pub kind: OrganisationKind,
    pub name: &'a str,
    pub short_code: &'a str,
    pub status: OrganisationStatus,
    pub admitted_on: Option<NaiveDate>,
    pub countries: &'a [&'a str],
}

/// Inserts an organisation; returns its id. (Callers check uniqueness and write the audit row.)
pub fn insert_organisation(
    conn: &mut crate::db::DbConnection,
    new: NewOrganisationRow<'_>,
    at: chrono::NaiveDateTime,
) -> Result<i64, crate::error::Error> {
    let countries = serde_json::to_string(new.countries).map_err(crate::error::Error::internal)?;
    Ok(diesel::insert_into(organisations::table)
        .values((
            organisations::kind.eq(new.kind.as_str()),
            organisations::name.eq(new.name),
            organisations::short_code.eq(new.short_code),
            organisations::status.eq(new.status.as_str()),
            organisations::admitted_on.eq(new.admitted_on),
            organisations::countries.eq(countries),
            organisations::created_at.eq(at),
            organisations::updated_at.eq(at),
        ))
        .returning(organisations::id)
        .get_result(conn)?)
}

/// Inserts a delegate; without a password hash the account is pending (an invitation). Returns
/// its id. (Callers check the email is free and write the audit row.)
pub fn insert_user(
    conn: &mut crate::db::DbConnection,
    organisation_id: i64,
    email: &Email,
    display_name: &str,
    password_hash: Option<&str>,
    is_admin: bool,
    at: chrono::NaiveDateTime,
) -> Result<i64, crate::error::Error> {
    Ok(diesel::insert_into(users::table)
        .values((
            users::organisation_id.eq(organisation_id),
            users::email.eq(&email.display),
            users::email_normalized.eq(&email.normalized),
            users::display_name.eq(display_name),
            users::password_hash.eq(password_hash),
            users::is_admin.eq(is_admin),
            users::disabled.eq(false),
            users::created_at.eq(at),
            users::updated_at.eq(at),
        ))
        .returning(users::id)
        .get_result(conn)?)
}

/// Whether an account with this email exists (compared case-insensitively).
pub fn email_taken(conn: &mut crate::db::DbConnection, email: &Email) -> Result<bool, crate::error::Error> {
    let n: i64 = users::table.filter(users::email_normalized.eq(&email.normalized)).count().get_result(conn)?;
    Ok(n > 0)
}

/// An email address, checked and normalised (trimmed; compared case-insensitively). Made only
/// by [`Email::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// As the person typed it (trimmed).
    display: String,
    /// Lower-cased, for uniqueness and look-up.
    normalized: String,
}

impl Email {
    /// As the person typed it (trimmed).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Lower-cased, for uniqueness and look-up.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Validates `raw`; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let display = raw.trim().to_string();
        let invalid = || FieldError::new(field, "is not a valid email address");
        if display.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if display.len() > 254 || display.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = display.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self { normalized: display.to_lowercase(), display })
    }
}

/// A new password: 12 characters at least, 1024 bytes at most. Made only by [`NewPassword::parse`].
pub struct NewPassword(String);

impl NewPassword {
    /// Smallest accepted length, in characters.
    pub const MIN_CHARS: usize = 12;
    /// Largest accepted length, in bytes (argon2 work grows with it).
    pub const MAX_BYTES: usize = 1024;

    /// Validates `raw`; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(FieldError::new(field, format!("must be at least {} characters long", Self::MIN_CHARS)));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(FieldError::new(field, format!("must be at most {} bytes long", Self::MAX_BYTES)));
        }
        Ok(Self(raw.to_string()))
    }

    /// The password, to hash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's or organisation's name: trimmed, 1–200 characters.
pub fn parse_name(field: &str, raw: &str) -> Result<String, FieldError> {
    crate::validate::text(field, raw, 200, true)
}

/// A short code: 2–16 letters, digits or `-`, stored upper-case (`BW`, `EU`, `WDC`).
pub fn parse_short_code(raw: &str) -> Result<String, FieldError> {
    parse_code("short_code", raw)
}

/// A code of 2–16 letters, digits or `-`, upper-cased; the error names `field`.
pub fn parse_code(field: &str, raw: &str) -> Result<String, FieldError> {
    let code = raw.trim().to_uppercase();
    if !(2..=16).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FieldError::new(field, "must be 2 to 16 letters, digits or '-'"));
    }
    Ok(code)
}

fn parse_countries(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for c in raw {
        let name = parse_name("countries", c)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.len() > 100 {
        return Err(FieldError::new("countries", "at most 100 countries"));
    }
    Ok(out)
}

/// Reads a field that may be absent (leave as is), `null` (clear) or a value (set).
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Sign-in credentials.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Sign-in credentials whose shape was checked (the password is only bounded, never judged).
pub struct ValidLogin {
    email: Email,
    password: String,
}

impl ValidLogin {
    /// The account's email.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// Gives up the password, to verify it on the hashing threads.
    pub fn into_password(self) -> String {
        self.password
    }
}

impl TryFrom<LoginRequest> for ValidLogin {
    type Error = Error;

    fn try_from(body: LoginRequest) -> Result<Self, Error> {
        let email = Email::parse("email", &body.email)?;
        if body.password.is_empty() || body.password.len() > NewPassword::MAX_BYTES {
            return Err(Error::invalid("password", "must be between 1 and 1024 bytes"));
        }
        Ok(Self { email, password: body.password })
    }
}

/// A single-use token and the password to set with it.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPassword {
    pub token: String,
    /// At least 12 characters, at most 1024 bytes.
    pub password: String,
}

/// A single-use token of plausible shape and an acceptable new password.
pub struct ValidTokenPassword {
    token: String,
    password: NewPassword,
}

impl ValidTokenPassword {
    /// The token, trimmed.
    pub fn token(&self) -> &str {
        self.token.trim()
    }

    /// The new password, to hash.
    pub fn password(&self) -> &NewPassword {
        &self.password
    }
}

impl TryFrom<TokenPassword> for ValidTokenPassword {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: TokenPassword) -> Result<Self, Error> {
        let mut errors = Vec::new();
        if body.token.trim().is_empty() || body.token.len() > 200 {
            errors.push(FieldError::new("token", "is required"));
        }
        let password = NewPassword::parse("password", &body.password).map_err(|e| errors.push(e)).ok();
        Error::check(errors)?;
        let password = password.ok_or_else(|| Error::invalid("password", "invalid"))?;
        Ok(Self { token: body.token, password })
    }
}

/// Asks for a password-reset link.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
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

/// An invitation whose email and name were checked.
#[derive(Clone, Debug)]
pub struct ValidInvitation {
    email: Email,
    name: String,
    organisation_id: i64,
}

impl ValidInvitation {
    /// The delegate's email.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The delegate's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The organisation the delegate will belong to.
    pub fn organisation_id(&self) -> i64 {
        self.organisation_id
    }
}

impl TryFrom<InvitationRequest> for ValidInvitation {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: InvitationRequest) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let email = Email::parse("email", &body.email).map_err(|e| errors.push(e)).ok();
        let name = parse_name("name", &body.name).map_err(|e| errors.push(e)).ok();
        Error::check(errors)?;
        let (Some(email), Some(name)) = (email, name) else { return Err(Error::invalid("body", "invalid")) };
        Ok(Self { email, name, organisation_id: body.organisation_id })
    }
}

/// An invitation that was sent.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct Invitation {
    /// The new (pending) user.
    pub user: User,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A new organisation.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub kind: OrganisationKind,
    pub name: String,
    pub short_code: String,
    pub status: Option<OrganisationStatus>,
    pub admitted_on: Option<NaiveDate>,
    /// For a regional organisation: the countries it represents.
    #[serde(default)]
    pub countries: Vec<String>,
}

/// A new organisation whose name, code and countries were checked.
#[derive(Clone, Debug)]
pub struct ValidNewOrganisation {
    kind: OrganisationKind,
    name: String,
    short_code: String,
    status: OrganisationStatus,
    admitted_on: Option<NaiveDate>,
    countries: Vec<String>,
}

impl ValidNewOrganisation {
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The short code, upper-case.
    pub fn short_code(&self) -> &str {
        &self.short_code
    }

    /// The row to insert.
    pub fn row<'a>(&'a self, countries: &'a [&'a str]) -> NewOrganisationRow<'a> {
        NewOrganisationRow {
            kind: self.kind,
            name: &self.name,
            short_code: &self.short_code,
            status: self.status,
            admitted_on: self.admitted_on,
            countries,
        }
    }

    /// The countries it represents.
    pub fn countries(&self) -> Vec<&str> {
        self.countries.iter().map(String::as_str).collect()
    }
}

impl TryFrom<NewOrganisation> for ValidNewOrganisation {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: NewOrganisation) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let name = parse_name("name", &body.name).map_err(|e| errors.push(e)).ok();
        let code = parse_short_code(&body.short_code).map_err(|e| errors.push(e)).ok();
        let countries = parse_countries(&body.countries).map_err(|e| errors.push(e)).ok();
        Error::check(errors)?;
        let (Some(name), Some(short_code), Some(countries)) = (name, code, countries) else {
            return Err(Error::invalid("body", "invalid organisation"));
        };
        Ok(Self {
            kind: body.kind,
            name,
            short_code,
            status: body.status.unwrap_or(OrganisationStatus::Active),
            admitted_on: body.admitted_on,
            countries,
        })
    }
}

/// Changes to an organisation; absent fields stay as they are.
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationUpdate {
    pub name: Option<String>,
    pub short_code: Option<String>,
    /// Suspending or withdrawing ends its delegates' sessions; they may sign in again to read.
    pub status: Option<OrganisationStatus>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub admitted_on: Option<Option<NaiveDate>>,
    pub countries: Option<Vec<String>>,
}

/// Changes to an organisation whose every field was checked; `None` leaves a field as it is.
#[derive(Clone, Debug)]
pub struct ValidOrganisationUpdate {
    name: Option<String>,
    short_code: Option<String>,
    status: Option<OrganisationStatus>,
    admitted_on: Option<Option<NaiveDate>>,
    countries: Option<Vec<String>>,
}

impl ValidOrganisationUpdate {
    /// The new name, if it changes.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The new short code, if it changes.
    pub fn short_code(&self) -> Option<&str> {
        self.short_code.as_deref()
    }

    /// The new status, if it changes.
    pub fn status(&self) -> Option<OrganisationStatus> {
        self.status
    }

    /// The new admission date (`Some(None)` clears it), if it changes.
    pub fn admitted_on(&self) -> Option<Option<NaiveDate>> {
        self.admitted_on
    }

    /// The new countries, if they change.
    pub fn countries(&self) -> Option<&[String]> {
        self.countries.as_deref()
    }
}

impl TryFrom<OrganisationUpdate> for ValidOrganisationUpdate {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: OrganisationUpdate) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let name =
            body.name.as_deref().map(|n| parse_name("name", n)).transpose().map_err(|e| errors.push(e)).ok().flatten();
        let short_code =
            body.short_code.as_deref().map(parse_short_code).transpose().map_err(|e| errors.push(e)).ok().flatten();
        let countries =
            body.countries.as_deref().map(parse_countries).transpose().map_err(|e| errors.push(e)).ok().flatten();
        Error::check(errors)?;
        Ok(Self { name, short_code, status: body.status, admitted_on: body.admitted_on, countries })
    }
}

/// Filters for the user list.
#[derive(Deserialize, Debug, IntoParams)]
pub struct UserFilter {
    /// Only this organisation's delegates.
    pub organisation_id: Option<i64>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    /// Disabling ends the user's sessions and blocks sign-in (administrators).
    pub disabled: Option<bool>,
    /// Grants or removes administrator rights (administrators; secretariat users only).
    pub is_admin: Option<bool>,
}

/// Changes to a user whose name was checked; `None` leaves a field as it is.
#[derive(Clone, Debug)]
pub struct ValidUserUpdate {
    display_name: Option<String>,
    disabled: Option<bool>,
    is_admin: Option<bool>,
}

impl ValidUserUpdate {
    /// The new name, if it changes.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// Whether the user is to be disabled or enabled.
    pub fn disabled(&self) -> Option<bool> {
        self.disabled
    }

    /// Whether administrator rights are granted or removed.
    pub fn is_admin(&self) -> Option<bool> {
        self.is_admin
    }
}

impl TryFrom<UserUpdate> for ValidUserUpdate {
    type Error = Error;

    /// 422 when the name is invalid.
    fn try_from(body: UserUpdate) -> Result<Self, Error> {
        let display_name = body.display_name.as_deref().map(|n| parse_name("display_name", n)).transpose()?;
        Ok(Self { display_name, disabled: body.disabled, is_admin: body.is_admin })
    }
}

/// One of my sessions.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct SessionInfo {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    /// True for the session of this request.
    #[serde(default)]
    pub current: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_normalised() {
        let e = Email::parse("email", "  Ada.Lovelace@Example.ORG ").expect("valid");
        assert_eq!(e.display, "Ada.Lovelace@Example.ORG");
        assert_eq!(e.normalized, "ada.lovelace@example.org");
        for bad in
            ["", "ada", "ada@", "@example.org", "ada@example", "a b@example.org", "ada@exa..mple.org", "a@b@c.org"]
        {
            assert!(Email::parse("email", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(NewPassword::parse("password", "short").is_err());
        assert!(NewPassword::parse("password", "twelve chars").is_ok());
        assert!(NewPassword::parse("password", &"x".repeat(1025)).is_err());
        assert!(NewPassword::parse("password", &"x".repeat(1024)).is_ok());
    }

    #[test]
    fn enums_round_trip() {
        for kind in [
            OrganisationKind::Participant,
            OrganisationKind::Observer,
            OrganisationKind::Guest,
            OrganisationKind::Secretariat,
        ] {
            assert_eq!(kind.as_str().parse::<OrganisationKind>().ok(), Some(kind));
        }
        assert_eq!("suspended".parse::<OrganisationStatus>().ok(), Some(OrganisationStatus::Suspended));
        assert!("gone".parse::<OrganisationStatus>().is_err(), "an unknown value is an error, never a default");
    }
}
