//! Recommendations and their implementation, followed up for years: what a meeting, an adopted
//! decision, a review visit or a body's report recommends, to whom (every participant at the time
//! of issue, named participants, or a body), by when, tracked with a configurable vocabulary of
//! statuses; each addressee's implementation record is an append-only, dated and attributed
//! history with evidence (links and uploaded files). Peer-review visits to a participant issue
//! recommendations from their report. The chair takes stock: counts and progress as they were on
//! any date (computed from the history), by status, participant, theme and source, with the
//! overdue and what changed since the previous meeting; CSV exports; and a digest mailed to each
//! participant's delegates before each meeting of the body.
//!
//! Where things go: rows, typed values and validated inputs in `model.rs`; the use cases in
//! `service.rs` (recommendations, vocabularies, implementation records, evidence), `visits.rs`
//! (review visits), `stocktaking.rs` (the state as of a date, and the CSV exports) and
//! `digest.rs` (the scheduler's digests); handlers in `http.rs`.

pub mod digest;
pub mod http;
pub mod model;
pub mod service;
pub mod stocktaking;
pub mod visits;

use actix_web::web;

/// Registers the recommendations routes.
pub fn configure(cfg: &mut web::ServiceConfig, upload_limit: usize) {
    http::configure(cfg, upload_limit);
}
