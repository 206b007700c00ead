//! "Someone's access changed": a session ended (sign-out, revocation, "sign out everywhere", a
//! password set through a link), a user was disabled or an organisation suspended or changed.
//! Open websockets of those users re-check their session at once instead of at the next
//! heartbeat — on this instance through the hub, on the others through PostgreSQL `NOTIFY`
//! (sent in the changing transaction, so it is delivered exactly when the change commits).

use diesel::RunQueryDsl;

use crate::db::DbConnection;
use crate::error::Error;

/// The PostgreSQL channel; the payload is the users' ids, comma-separated.
pub const CHANNEL: &str = "plenum_access_changed";

/// Announces, inside the caller's transaction, that these users' access changed (a no-op on
/// SQLite, which serves one instance; that instance's hub is told after the commit).
pub fn announce(conn: &mut DbConnection, user_ids: &[i64]) -> Result<(), Error> {
    if let DbConnection::Postgresql(pg) = conn
        && !user_ids.is_empty()
    {
        // NOTIFY payloads are limited to 8000 bytes: announce in chunks.
        for chunk in user_ids.chunks(500) {
            let payload = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<diesel::sql_types::Text, _>(CHANNEL)
                .bind::<diesel::sql_types::Text, _>(payload)
                .execute(pg)?;
        }
    }
    Ok(())
}

/// Reads a payload of [`announce`].
pub fn parse(payload: &str) -> Vec<i64> {
    payload.split(',').filter_map(|id| id.trim().parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_parse() {
        assert_eq!(super::parse("3,17, 42"), vec![3, 17, 42]);
        assert!(super::parse("").is_empty());
    }
}
