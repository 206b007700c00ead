//! Creating accounts from the command line: the first administrator of a fresh install, and the
//! demo body.

use diesel::prelude::*;

use super::model::{
    self, Email, NewOrganisationRow, NewPassword, OrganisationKind, OrganisationStatus, email_taken,
    insert_organisation, parse_name,
};
use super::password;
use crate::audit::{self, AuditEntry};
use crate::db::schema::organisations;
use crate::db::{Db, DbConnection};
use crate::http::error::ApiError;

/// Finds an organisation by name, or creates it with the given kind and code.
pub fn ensure_organisation(
    conn: &mut DbConnection,
    name: &str,
    kind: OrganisationKind,
    short_code: &str,
    status: OrganisationStatus,
    admitted_on: Option<chrono::NaiveDate>,
    countries: &[&str],
) -> Result<i64, ApiError> {
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
    let id = insert_organisation(
        conn,
        NewOrganisationRow { kind, name, short_code: &code, status, admitted_on, countries },
    )?;
    let after = serde_json::json!({"name": name, "kind": kind.as_str(), "short_code": code});
    audit::record(conn, AuditEntry::system("organisation.create", "organisation", id, &after))?;
    Ok(id)
}

/// Creates a user with a password (already hashed); `Ok(None)` if the email is taken.
pub fn create_user(
    conn: &mut DbConnection,
    organisation_id: i64,
    email: &Email,
    name: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<Option<i64>, ApiError> {
    if email_taken(conn, email)? {
        return Ok(None);
    }
    let id = model::insert_user(conn, organisation_id, email, name, Some(password_hash), is_admin)?;
    let after = serde_json::json!({"email": email.display, "display_name": name, "is_admin": is_admin});
    audit::record(conn, AuditEntry::system("user.create", "user", id, &after))?;
    Ok(Some(id))
}

/// `plenum admin create`: a system administrator in the named organisation (created as the
/// secretariat when absent).
pub fn create_admin(db: &Db, email: &str, name: &str, organisation: &str, password: &str) -> anyhow::Result<i64> {
    let email = Email::parse("--email", email).map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
    let name = parse_name("--name", name).map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
    let organisation =
        parse_name("--organisation", organisation).map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
    NewPassword::parse("password", password).map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
    let hash = password::hash(password)?;
    let result = db.write_blocking(|c| {
        let org = ensure_organisation(
            c,
            &organisation,
            OrganisationKind::Secretariat,
            &code_for(&organisation),
            OrganisationStatus::Active,
            None,
            &[],
        )?;
        let kind: String = organisations::table.find(org).select(organisations::kind).first(c)?;
        if kind != OrganisationKind::Secretariat.as_str() {
            return Err(ApiError::Conflict(format!(
                "{organisation} is a {kind}, not the secretariat; administrators belong to the secretariat"
            )));
        }
        create_user(c, org, &email, &name, &hash, true)?
            .ok_or_else(|| ApiError::Conflict(format!("{} already has an account", email.display)))
    });
    result.map_err(|e| anyhow::anyhow!("{}", e.problem().detail.unwrap_or_else(|| e.to_string())))
}

/// A short code made of a name's initials (`Kimberley Process Secretariat` → `KPS`), or of the
/// first letters of a one-word name (`Secretariat` → `SEC`).
pub fn code_for(name: &str) -> String {
    let initials: String =
        name.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_ascii_alphanumeric())).collect();
    let code: String = if initials.len() >= 2 {
        initials
    } else {
        name.chars().filter(|c| c.is_ascii_alphanumeric()).take(3).collect()
    };
    let code = code.to_uppercase();
    if code.len() >= 2 { code.chars().take(16).collect() } else { "ORG".into() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_from_names() {
        assert_eq!(super::code_for("Kimberley Process Secretariat"), "KPS");
        assert_eq!(super::code_for("Secretariat"), "SEC");
        assert_eq!(super::code_for("Côte"), "CTE");
        assert_eq!(super::code_for("—"), "ORG");
    }
}
