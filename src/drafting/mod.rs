//! Decision drafts, co-edited live: the REST resource (`/api/drafts`), the sync websocket
//! (`/api/drafts/{id}/ws`, standard y-protocols), and the durable update log.
//!
//! Where things go: rows, typed values and validated inputs in `model.rs`; use cases (a new
//! rule, a new state change) in `service.rs`, over a connection and the acting person, with no
//! actix; handlers in `http.rs` (and the websocket upgrade in `ws.rs`), which only extract, call
//! a service and answer; the update log and snapshots in `store.rs`; new routes in
//! [`configure`]. The live room itself is in `crate::realtime`.

pub mod authorship;
pub mod brackets;
pub mod http;
pub mod model;
pub mod service;
pub mod store;
pub mod ws;

use actix_web::web;

use crate::http::resource;

/// Registers the drafting routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/drafts").route(web::get().to(http::list)).route(web::post().to(http::create)))
        .service(resource("/api/drafts/{id}").route(web::get().to(http::get)).route(web::patch().to(http::update)))
        .service(resource("/api/drafts/{id}/ws").route(web::get().to(ws::connect)));
}
