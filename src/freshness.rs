//! When an entry of an in-memory read cache (sessions, rendered agendas) is read from the
//! database again, shared by both so that they expire the same way.
//!
//! An entry is answered from memory for a limit after it was read; the limit only bounds
//! changes nobody announced (announced ones remove the entry at once). Past the limit, one
//! request reads it again while every other goes on with what is in memory, for at most a
//! second limit: otherwise every request in flight at the moment of expiry (64 with a load
//! tool, hundreds in a plenary) would miss together and queue for the database at once, once a
//! limit, which on PostgreSQL (a dozen round trips each for an agenda) was most of the tail
//! of reads answered from memory.

use std::time::{Duration, Instant};

/// When an entry was read, and whether a request is reading it again.
#[derive(Clone, Copy, Debug)]
pub struct Freshness {
    read_at: Instant,
    refreshing: bool,
}

impl Default for Freshness {
    fn default() -> Self {
        Self::new()
    }
}

impl Freshness {
    /// Read just now.
    pub fn new() -> Self {
        Self { read_at: Instant::now(), refreshing: false }
    }

    /// Whether the entry may answer a request, `limit` being how long it is good for: within it,
    /// yes. Past it, the first request is told `false` and reads it again, and the others go on
    /// with it until that read replaces it, for at most a second `limit` (then, if that read
    /// failed or its client left, every request reads the database).
    pub fn serve(&mut self, limit: Duration) -> bool {
        let age = self.read_at.elapsed();
        if age < limit {
            true
        } else if age >= limit * 2 {
            false
        } else {
            std::mem::replace(&mut self.refreshing, true)
        }
    }

    /// Whether it is past `limit`, whoever is reading it again.
    pub fn expired(&self, limit: Duration) -> bool {
        self.read_at.elapsed() >= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (5 s at most) until `entry` is past `limit`.
    fn past(entry: &Freshness, limit: Duration) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !entry.expired(limit) {
            assert!(Instant::now() < deadline, "never expired");
            std::thread::yield_now();
        }
    }

    #[test]
    fn past_its_limit_one_request_reads_again_while_the_others_go_on() {
        let limit = Duration::from_millis(300);
        let mut entry = Freshness::new();
        assert!(entry.serve(limit));
        past(&entry, limit);
        assert!(!entry.serve(limit), "the first request after the limit reads it again");
        for _ in 0..10 {
            assert!(entry.serve(limit) || entry.expired(limit * 2), "the others go on meanwhile");
        }
        // That read never came back: past twice the limit, nobody is answered from memory.
        past(&entry, limit * 2);
        assert!(!entry.serve(limit));
        assert!(!entry.serve(limit));
        assert!(Freshness::new().serve(limit));
    }
}
