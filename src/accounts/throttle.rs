//! Sign-in throttling: a sliding window of failures per key. Sign-in counts them per (account,
//! client address) and per client address, never per account alone: failures from one address
//! cannot keep the account's owner, signing in from another, out.
//!
//! The failures are rows of `login_failures`, so every instance behind a load balancer counts
//! the same ones: failing on one instance and retrying on another gains nothing. A key is stored
//! as its SHA-256 (neither the typed email nor the address is kept in clear), with the time from
//! the injected clock. Failures older than the window are forgotten (and deleted as new ones come
//! in), so the real owner is never kept out longer. Only a wrong password writes: a request that
//! is throttled (429) writes nothing, and the table never holds more than [`MAX_ROWS`] rows.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::clock::SharedClock;
use crate::db::schema::login_failures;
use crate::db::{Db, DbConnection};
use crate::error::Error;

/// The most failures the table keeps, over all keys: the oldest go first. Failures come no
/// faster than argon2 verifies passwords, so within a window of minutes this is never reached
/// but by a flood from very many addresses.
pub const MAX_ROWS: i64 = 100_000;

/// Failure counters for sign-in, shared by every instance on the database.
#[derive(Debug)]
pub struct LoginThrottle {
    db: Db,
    window: Duration,
    clock: SharedClock,
}

impl LoginThrottle {
    /// A throttle that remembers failures for `window`, on `clock`'s time, in `db`.
    pub fn new(db: Db, window: Duration, clock: SharedClock) -> Self {
        Self { db, window, clock }
    }

    /// `Ok(Err(seconds to wait))` when `key` already has `max` failures within the window.
    pub async fn check(&self, key: &str, max: usize) -> Result<Result<(), u64>, Error> {
        let (hash, now, window) = (key_hash(key), self.clock.naive(), self.window);
        self.db.read(move |c| wait_for(c, &hash, max, now, window)).await
    }

    /// Records a failure for `key`.
    pub async fn fail(&self, key: &str) -> Result<(), Error> {
        let (hash, now, window) = (key_hash(key), self.clock.naive(), self.window);
        self.db.write(move |c| record_failure(c, &hash, now, window)).await
    }

    /// Forgets `key`'s failures (after a successful sign-in). Writes only if there are any.
    pub async fn clear(&self, key: &str) -> Result<(), Error> {
        let hash = key_hash(key);
        let probe = hash.clone();
        if self.db.read(move |c| has_failures(c, &probe)).await? {
            self.db.write(move |c| forget(c, &hash).map(|_| ())).await?;
        }
        Ok(())
    }
}

/// What a key is stored as.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn window_start(now: NaiveDateTime, window: Duration) -> NaiveDateTime {
    now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX / 2)
}

/// `Err(seconds to wait)` when the key hashed as `hash` has `max` failures or more after
/// `now - window`: the wait lasts until so many of them have aged out that fewer than `max` are
/// left (never less than a second).
pub fn wait_for(
    conn: &mut DbConnection,
    hash: &str,
    max: usize,
    now: NaiveDateTime,
    window: Duration,
) -> Result<Result<(), u64>, Error> {
    let max = i64::try_from(max.max(1)).unwrap_or(i64::MAX);
    // The `max`-th newest failure in the window: the one whose ageing out lets the key in again.
    let blocking: Option<NaiveDateTime> = login_failures::table
        .filter(login_failures::key_hash.eq(hash))
        .filter(login_failures::failed_at.gt(window_start(now, window)))
        .order((login_failures::failed_at.desc(), login_failures::id.desc()))
        .select(login_failures::failed_at)
        .offset(max - 1)
        .first(conn)
        .optional()?;
    let Some(at) = blocking else { return Ok(Ok(())) };
    let age = (now - at).to_std().unwrap_or_default();
    Ok(Err(window.saturating_sub(age).as_secs().max(1)))
}

/// Records a failure of the key hashed as `hash` at `now`, and deletes failures older than the
/// window and any beyond the newest [`MAX_ROWS`].
pub fn record_failure(conn: &mut DbConnection, hash: &str, now: NaiveDateTime, window: Duration) -> Result<(), Error> {
    let id: i64 = diesel::insert_into(login_failures::table)
        .values((login_failures::key_hash.eq(hash), login_failures::failed_at.eq(now)))
        .returning(login_failures::id)
        .get_result(conn)?;
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(window_start(now, window))))
        .execute(conn)?;
    // Ids only grow and have few gaps: everything this far below the newest goes.
    diesel::delete(login_failures::table.filter(login_failures::id.le(id - MAX_ROWS))).execute(conn)?;
    Ok(())
}

/// Whether the key hashed as `hash` has any failure recorded.
pub fn has_failures(conn: &mut DbConnection, hash: &str) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(login_failures::table.filter(login_failures::key_hash.eq(hash))))
        .get_result(conn)?)
}

/// Deletes the failures of the key hashed as `hash`; returns how many there were.
pub fn forget(conn: &mut DbConnection, hash: &str) -> Result<usize, Error> {
    Ok(diesel::delete(login_failures::table.filter(login_failures::key_hash.eq(hash))).execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> DbConnection {
        let mut conn = crate::db::establish("sqlite::memory:").expect("in-memory database");
        crate::db::run_migrations(&mut conn).expect("migrations");
        conn
    }

    fn rows(conn: &mut DbConnection) -> i64 {
        login_failures::table.count().get_result(conn).expect("count")
    }

    #[test]
    fn blocks_after_max_and_forgets_after_the_window() {
        let c = &mut conn();
        let window = Duration::from_secs(900);
        let mut now = chrono::Utc::now().naive_utc();
        let (a, b) = (key_hash("a"), key_hash("b"));
        for _ in 0..3 {
            assert_eq!(wait_for(c, &a, 3, now, window).expect("check"), Ok(()));
            record_failure(c, &a, now, window).expect("fail");
        }
        assert_eq!(wait_for(c, &a, 3, now, window).expect("check"), Err(900));
        assert_eq!(wait_for(c, &b, 3, now, window).expect("check"), Ok(()), "other keys are not affected");
        now += chrono::Duration::seconds(899);
        assert_eq!(wait_for(c, &a, 3, now, window).expect("check"), Err(1), "still within the window");
        now += chrono::Duration::seconds(2);
        assert_eq!(wait_for(c, &a, 3, now, window).expect("check"), Ok(()), "the window has passed");
        record_failure(c, &a, now, window).expect("fail");
        assert_eq!(rows(c), 1, "failures older than the window are deleted");
        assert!(has_failures(c, &a).expect("probe"));
        assert_eq!(forget(c, &a).expect("clear"), 1);
        assert_eq!(wait_for(c, &a, 1, now, window).expect("check"), Ok(()));
        assert!(!has_failures(c, &a).expect("probe"));
    }

    #[test]
    fn the_wait_lasts_until_fewer_than_max_are_left() {
        let c = &mut conn();
        let window = Duration::from_secs(100);
        let start = chrono::Utc::now().naive_utc();
        // Five failures 10 s apart (more than the limit, as concurrent requests can make).
        for i in 0..5 {
            record_failure(c, "k", start + chrono::Duration::seconds(i * 10), window).expect("fail");
        }
        let now = start + chrono::Duration::seconds(40);
        // With max 3, the third newest (at +20 s) must age out: 100 - 20 = 80 s.
        assert_eq!(wait_for(c, "k", 3, now, window).expect("check"), Err(80));
        assert_eq!(wait_for(c, "k", 5, now, window).expect("check"), Err(60));
        assert_eq!(wait_for(c, "k", 6, now, window).expect("check"), Ok(()));
    }

    #[test]
    fn the_table_is_capped() {
        let c = &mut conn();
        let window = Duration::from_secs(900);
        let now = chrono::Utc::now().naive_utc();
        // Pretend MAX_ROWS failures came before: the oldest has id 1, the newest MAX_ROWS - 1.
        for (id, key) in [(1, "old"), (MAX_ROWS - 1, "filler")] {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::id.eq(id),
                    login_failures::key_hash.eq(key),
                    login_failures::failed_at.eq(now),
                ))
                .execute(c)
                .expect("insert");
        }
        record_failure(c, "x", now, window).expect("fail");
        assert_eq!(rows(c), 3, "id MAX_ROWS keeps everything");
        assert!(has_failures(c, "old").expect("probe"));
        record_failure(c, "x", now, window).expect("fail");
        assert_eq!(rows(c), 3, "the row MAX_ROWS ids below the newest is deleted");
        assert!(!has_failures(c, "old").expect("probe"));
    }
}
