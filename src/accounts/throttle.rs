//! Sign-in throttling: a sliding window of failures per account and per client address.
//!
//! Kept in memory on purpose: a rejected sign-in changes nothing in the database, and a flood of
//! wrong passwords costs no writes. With several instances each one counts its own failures.
//! Failures older than the window are forgotten, so the real owner is never kept out longer.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failure counters for sign-in.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// A throttle that remembers failures for `window`.
    pub fn new(window: Duration) -> Self {
        Self { window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` when `key` already has `max` failures within the window.
    pub fn check(&self, key: &str, max: usize) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(list) = map.get_mut(key) else { return Ok(()) };
        while list.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            list.pop_front();
        }
        if list.len() < max {
            return Ok(());
        }
        let oldest = list.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }

    /// Records a failure for `key`.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, list| list.back().is_some_and(|t| now.duration_since(*t) < window));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_and_forgets_after_the_window() {
        let t = LoginThrottle::new(Duration::from_millis(200));
        for _ in 0..3 {
            assert!(t.check("a", 3).is_ok());
            t.fail("a");
        }
        let wait = t.check("a", 3).expect_err("blocked");
        assert!(wait >= 1);
        assert!(t.check("b", 3).is_ok(), "other keys are not affected");
        std::thread::sleep(Duration::from_millis(250));
        assert!(t.check("a", 3).is_ok(), "the window has passed");
        t.fail("a");
        t.clear("a");
        assert!(t.check("a", 1).is_ok());
    }
}
