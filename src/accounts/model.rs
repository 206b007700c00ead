//! Organisations and their delegates: rows, API views, and validated inputs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{organisations, users};
use crate::error::FieldError;

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
) -> Result<i64, crate::error::Error> {
    let at = crate::db::now();
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
) -> Result<i64, crate::error::Error> {
    let at = crate::db::now();
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

/// An email address, checked and normalised (trimmed; compared case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// As the person typed it (trimmed).
    pub display: String,
    /// Lower-cased, for uniqueness and look-up.
    pub normalized: String,
}

impl Email {
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

/// A new password: 12 characters at least, 1024 bytes at most.
pub struct NewPassword(pub String);

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
}

/// A person's or organisation's name: trimmed, 1–200 characters.
pub fn parse_name(field: &str, raw: &str) -> Result<String, FieldError> {
    crate::validate::text(field, raw, 200, true)
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
