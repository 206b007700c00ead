//! Decision drafts, co-edited live: the REST resource (`/api/drafts`), the sync websocket
//! (`/api/drafts/{id}/ws`, standard y-protocols), and the durable update log.

pub mod handlers;
pub mod store;
pub mod ws;

use actix_web::web;

use crate::http::resource;

/// Registers the drafting routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/drafts").route(web::get().to(handlers::list)).route(web::post().to(handlers::create)))
        .service(
            resource("/api/drafts/{id}").route(web::get().to(handlers::get)).route(web::patch().to(handlers::update)),
        )
        .service(resource("/api/drafts/{id}/ws").route(web::get().to(ws::connect)));
}
