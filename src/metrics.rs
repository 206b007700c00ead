//! Process-wide counters, updated where things happen (the HTTP layer, the live rooms) and
//! served by `http::metrics` in the Prometheus text format.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Process-wide counters, updated where things happen.
#[derive(Debug, Default)]
pub struct Metrics {
    /// HTTP responses by status class (index 0 = 1xx … 4 = 5xx).
    pub responses: [AtomicU64; 5],
    /// Open drafting websocket connections.
    pub ws_connections: AtomicI64,
    /// Document updates committed to the log.
    pub updates_stored: AtomicU64,
    /// Document updates refused (read-only senders).
    pub updates_refused: AtomicU64,
    /// Connections closed by the server (protocol errors, too slow, too big).
    pub connections_closed: AtomicU64,
    /// Agenda reads answered from this instance's memory (0) and from the database (1).
    pub agenda_reads: [AtomicU64; 2],
}

impl Metrics {
    /// Counts a response with this status code.
    pub fn response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }
}
