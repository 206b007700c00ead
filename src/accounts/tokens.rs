//! Secret tokens (sessions, invitations, resets): 256 random bits, shown once, stored hashed;
//! and the single-use links (`account_tokens`) that let a person choose a password.

use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::model::UserRow;
use crate::db::DbConnection;
use crate::db::schema::{account_tokens, users};
use crate::error::{Error, FieldError};

crate::text_enum!(
    /// What a single-use link is for.
    pub TokenPurpose {
        /// Accept an invitation and choose a first password.
        Invitation => "invitation",
        /// Choose a new password.
        PasswordReset => "password_reset",
    }
);

/// A new random token, URL-safe (43 characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored instead of the token: its SHA-256, in hex. A leaked database reveals no
/// usable token, and 256 random bits need no slow hash.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a single-use token for `user_id`; returns the token and its expiry.
pub fn issue(
    conn: &mut DbConnection,
    user_id: i64,
    purpose: TokenPurpose,
    valid_for: Duration,
    created_by: Option<i64>,
    at: NaiveDateTime,
) -> Result<(String, NaiveDateTime), Error> {
    let token = generate();
    let expires_at = at + valid_for;
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::user_id.eq(user_id),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::token_hash.eq(digest(&token)),
            account_tokens::created_by.eq(created_by),
            account_tokens::created_at.eq(at),
            account_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok((token, expires_at))
}

/// Takes a single-use token: checks it, marks it used, and returns the user it belongs to.
/// 400 when it never existed, 410 when it was used or has expired.
pub fn redeem(
    conn: &mut DbConnection,
    token: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> Result<UserRow, Error> {
    let found = account_tokens::table
        .filter(account_tokens::token_hash.eq(digest(token)))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select((account_tokens::id, account_tokens::user_id, account_tokens::expires_at, account_tokens::used_at))
        .first::<(i64, i64, NaiveDateTime, Option<NaiveDateTime>)>(conn)
        .optional()?;
    let Some((id, user_id, expires_at, used_at)) = found else {
        return Err(Error::Validation {
            malformed: true,
            errors: vec![FieldError::new("token", "this link is not valid; check that you copied all of it")],
        });
    };
    if used_at.is_some() {
        return Err(Error::Gone(
            "this link has already been used, or the password was changed since it was sent".into(),
        ));
    }
    if expires_at <= now {
        return Err(Error::Gone("this link has expired; ask for a new one".into()));
    }
    let n = diesel::update(account_tokens::table)
        .filter(account_tokens::id.eq(id))
        .filter(account_tokens::used_at.is_null())
        .set(account_tokens::used_at.eq(now))
        .execute(conn)?;
    if n == 0 {
        return Err(Error::Gone("this link has already been used".into()));
    }
    let user: UserRow = users::table.find(user_id).select(UserRow::as_select()).first(conn)?;
    if user.disabled {
        return Err(Error::Forbidden("this account is disabled; ask the secretariat".into()));
    }
    Ok(user)
}

/// Marks every unused link (invitation or reset) of `user_id` as used, so that it answers 410;
/// called whenever the user's password changes. Returns how many were retired.
pub fn retire(conn: &mut DbConnection, user_id: i64, at: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::update(account_tokens::table)
        .filter(account_tokens::user_id.eq(user_id))
        .filter(account_tokens::used_at.is_null())
        .set(account_tokens::used_at.eq(at))
        .execute(conn)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_and_hashed() {
        let a = super::generate();
        assert_eq!(a.len(), 43);
        assert_ne!(a, super::generate());
        assert_eq!(super::digest(&a), super::digest(&a));
        assert_eq!(super::digest(&a).len(), 64);
    }
}
