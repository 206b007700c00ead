//! Meetings and agendas: plenary, intersessional and working-group meetings of a body, who is
//! invited and who attends, the agenda as a numbered tree with documents and linked drafts, the
//! item on the floor pushed live to everyone following, and the calendars.
//!
//! Where things go: rows, views and inputs in `model.rs`; the agenda tree's numbering and moves
//! as pure functions in `agenda.rs`; uploads' checks in `documents.rs`; iCalendar in
//! `calendar.rs`; mail to the invited delegations in `notices.rs`; the stored, numbered live
//! events in `live.rs` (fanned out by `realtime::meetings`); the use cases in `service.rs`;
//! handlers in `http.rs` and the live websocket in `ws.rs`; this instance's memory of rendered
//! agendas, forgotten at every event, in `cache.rs`. Closed-session items never reach
//! observers or guests: every view is built for the person who asks.

pub mod agenda;
pub mod cache;
pub mod calendar;
pub mod documents;
pub mod http;
pub mod live;
pub mod model;
pub mod notices;
pub mod service;
pub mod ws;

use actix_web::web;

use crate::http::resource;

/// Registers the meetings routes; uploads accept up to `upload_limit` bytes.
pub fn configure(cfg: &mut web::ServiceConfig, upload_limit: usize) {
    cfg.service(resource("/api/home").route(web::get().to(http::home)))
        .service(resource("/api/meetings").route(web::get().to(http::list)).route(web::post().to(http::create)))
        .service(resource("/api/meetings/{id}").route(web::get().to(http::get)).route(web::patch().to(http::update)))
        .service(resource("/api/meetings/{id}/convene").route(web::post().to(http::convene)))
        .service(resource("/api/meetings/{id}/open").route(web::post().to(http::open)))
        .service(resource("/api/meetings/{id}/close").route(web::post().to(http::close)))
        .service(resource("/api/meetings/{id}/cancel").route(web::post().to(http::cancel)))
        .service(
            resource("/api/meetings/{id}/guests/{organisation_id}")
                .route(web::put().to(http::invite_guest))
                .route(web::delete().to(http::remove_guest)),
        )
        .service(
            resource("/api/meetings/{id}/attendance/{user_id}")
                .route(web::put().to(http::register))
                .route(web::delete().to(http::unregister)),
        )
        .service(
            resource("/api/meetings/{id}/agenda")
                .route(web::get().to(http::agenda))
                .route(web::post().to(http::add_item)),
        )
        .service(resource("/api/meetings/{id}/agenda/adopt").route(web::post().to(http::adopt)))
        .service(resource("/api/meetings/{id}/agenda/order").route(web::post().to(http::order)))
        .service(resource("/api/meetings/{id}/current-item").route(web::post().to(http::current_item)))
        .service(resource("/api/meetings/{id}/live").route(web::get().to(ws::live)))
        .service(resource("/api/meetings/{id}/calendar.ics").route(web::get().to(http::meeting_calendar)))
        .service(resource("/api/bodies/{id}/calendar.ics").route(web::get().to(http::body_calendar)))
        .service(
            resource("/api/agenda-items/{id}")
                .route(web::patch().to(http::update_item))
                .route(web::delete().to(http::delete_item)),
        )
        .service(
            resource("/api/agenda-items/{id}/documents")
                .app_data(web::PayloadConfig::new(upload_limit.saturating_add(1)))
                .route(web::post().to(http::upload)),
        )
        .service(
            resource("/api/agenda-items/{id}/drafts/{draft_id}")
                .route(web::put().to(http::link_draft))
                .route(web::delete().to(http::unlink_draft)),
        )
        .service(
            resource("/api/documents/{id}")
                .route(web::get().to(http::download))
                .route(web::delete().to(http::delete_document)),
        );
}
