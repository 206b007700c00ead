//! The injected clock. Everything that depends on "now" (sessions, throttling, invitation and
//! reset links, and later chair terms, deadlines and overdue recommendations) asks a [`Clock`],
//! never the system directly: production runs on [`SystemClock`], tests on a [`SettableClock`]
//! they move forward instead of sleeping.
//!
//! Two things keep to the wall clock (`db::now`) on purpose, because they describe the machine
//! rather than the body's business: the audit log's `at` (when a change really happened, for
//! whoever investigates later) and the mail outbox's delivery times and retries (an SMTP server
//! keeps real time; a clock set a year ahead must not hold mail back for a year). The command
//! line and the demo, which have no injected clock, use it too.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};

/// Where the time comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// The current instant as stored in timestamp columns (UTC, no zone).
    fn naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }
}

/// A clock shared by the server's parts.
pub type SharedClock = Arc<dyn Clock>;

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock for tests: it follows the system time shifted by an offset (so nothing that waits
/// for time to pass is stuck), or stands still once set to an instant; either way it can be
/// moved forward instead of sleeping.
#[derive(Debug)]
pub struct SettableClock {
    setting: Mutex<Setting>,
}

#[derive(Clone, Copy, Debug)]
enum Setting {
    Frozen(DateTime<Utc>),
    Shifted(chrono::Duration),
}

impl SettableClock {
    /// A clock standing still at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self { setting: Mutex::new(Setting::Frozen(at)) }
    }

    /// A clock that shows the system time until it is set or advanced.
    pub fn following_system() -> Self {
        Self { setting: Mutex::new(Setting::Shifted(chrono::Duration::zero())) }
    }

    /// Sets the time; the clock then stands still there.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.setting.lock().unwrap_or_else(|p| p.into_inner()) = Setting::Frozen(at);
    }

    /// Moves the time forward (or back, with a negative duration).
    pub fn advance(&self, by: chrono::Duration) {
        let mut setting = self.setting.lock().unwrap_or_else(|p| p.into_inner());
        *setting = match *setting {
            Setting::Frozen(at) => Setting::Frozen(at + by),
            Setting::Shifted(offset) => Setting::Shifted(offset + by),
        };
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        match *self.setting.lock().unwrap_or_else(|p| p.into_inner()) {
            Setting::Frozen(at) => at,
            Setting::Shifted(offset) => Utc::now() + offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settable_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2007-12-31T23:59:59Z").map(|d| d.with_timezone(&Utc));
        let clock = SettableClock::at(start.unwrap_or_default());
        assert_eq!(clock.now().to_rfc3339(), "2007-12-31T23:59:59+00:00");
        clock.advance(chrono::Duration::seconds(2));
        assert_eq!(clock.naive().to_string(), "2008-01-01 00:00:01");
        let shifted = SettableClock::following_system();
        shifted.advance(chrono::Duration::days(1));
        let ahead = shifted.now() - Utc::now();
        assert!(ahead > chrono::Duration::hours(23) && ahead <= chrono::Duration::days(1), "{ahead}");
    }
}
