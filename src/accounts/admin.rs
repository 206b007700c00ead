//! Creating accounts from the command line: the first administrator of a fresh install, and the
//! demo body.

use diesel::prelude::*;

use super::model::{Email, NewOrganisationRow, NewPassword, OrganisationKind, OrganisationStatus, parse_name};
use super::password;
use super::service::{create_user, ensure_organisation};
use crate::db::Db;
use crate::db::schema::organisations;
use crate::error::Error;

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
        let code = code_for(&organisation);
        let new = NewOrganisationRow {
            kind: OrganisationKind::Secretariat,
            name: &organisation,
            short_code: &code,
            status: OrganisationStatus::Active,
            admitted_on: None,
            countries: &[],
        };
        let org = ensure_organisation(c, new, crate::db::now())?;
        let kind: String = organisations::table.find(org).select(organisations::kind).first(c)?;
        if kind != OrganisationKind::Secretariat.as_str() {
            return Err(Error::Conflict(format!(
                "{organisation} is a {kind}, not the secretariat; administrators belong to the secretariat"
            )));
        }
        create_user(c, org, &email, &name, &hash, true, crate::db::now())?
            .ok_or_else(|| Error::Conflict(format!("{} already has an account", email.display())))
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
