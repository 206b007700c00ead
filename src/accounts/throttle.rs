//! Sign-in throttling: a sliding window of failures per key. Sign-in counts them per (account,
//! client address) and per client address, never per account alone: failures from one address
//! cannot keep the account's owner, signing in from another, out.
//!
//! Kept in memory on purpose: a rejected sign-in changes nothing in the database, and a flood of
//! wrong passwords costs no writes. With several instances each one counts its own failures.
//! Failures older than the window are forgotten, so the real owner is never kept out longer.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;

/// Failure counters for sign-in.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    clock: SharedClock,
    failures: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl LoginThrottle {
    /// A throttle that remembers failures for `window`, on `clock`'s time.
    pub fn new(window: Duration, clock: SharedClock) -> Self {
        Self { window, clock, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` when `key` already has `max` failures within the window.
    pub fn check(&self, key: &str, max: usize) -> Result<(), u64> {
        let now = self.clock.now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(list) = map.get_mut(key) else { return Ok(()) };
        while list.front().is_some_and(|t| since(now, *t) >= self.window) {
            list.pop_front();
        }
        if list.len() < max {
            return Ok(());
        }
        let oldest = list.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(since(now, oldest));
        Err(wait.as_secs().max(1))
    }

    /// Records a failure for `key`.
    pub fn fail(&self, key: &str) {
        let now = self.clock.now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, list| list.back().is_some_and(|t| since(now, *t) < window));
        }
        let list = map.entry(key.to_string()).or_default();
        list.push_back(now);
        if list.len() > 1000 {
            list.pop_front();
        }
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// How long ago `then` was (zero if the clock was set back).
fn since(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    (now - then).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_and_forgets_after_the_window() {
        let clock = std::sync::Arc::new(crate::clock::SettableClock::following_system());
        let t = LoginThrottle::new(Duration::from_secs(900), clock.clone());
        for _ in 0..3 {
            assert!(t.check("a", 3).is_ok());
            t.fail("a");
        }
        let wait = t.check("a", 3).expect_err("blocked");
        assert!(wait >= 1);
        assert!(t.check("b", 3).is_ok(), "other keys are not affected");
        clock.advance(chrono::Duration::seconds(899));
        assert!(t.check("a", 3).is_err(), "still within the window");
        clock.advance(chrono::Duration::seconds(2));
        assert!(t.check("a", 3).is_ok(), "the window has passed");
        t.fail("a");
        t.clear("a");
        assert!(t.check("a", 1).is_ok());
    }
}
