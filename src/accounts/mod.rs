//! Accounts: organisations, their delegates, passwords, sessions, invitations and resets.
//!
//! Where things go: rows, typed values, requests and validated inputs in `model.rs`; use cases
//! (a new rule, a new state change: inviting, suspending, "you cannot lock yourself out") in
//! `service.rs`, over a connection, the acting person and the time, with no actix; handlers in
//! `http.rs`, which only extract, validate, call a service and answer; new routes in
//! [`configure`] (and the handler in `http::openapi`). The session store (look-up, creation,
//! revocation, cookies) is `sessions.rs`; single-use links and secret tokens are `tokens.rs`;
//! argon2 is `password.rs`; the sign-in throttle `throttle.rs`; the authenticated person
//! `actor.rs`; the `admin create` command `admin.rs`. A new table gets its row type in
//! `model.rs` and its queries in the service that owns the rule.

pub mod actor;
pub mod admin;
pub mod http;
pub mod model;
pub mod password;
pub mod service;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use actix_web::web;

use crate::http::resource;

/// Registers the accounts routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/auth/login").route(web::post().to(http::login)))
        .service(resource("/api/auth/logout").route(web::post().to(http::logout)))
        .service(resource("/api/auth/password-reset").route(web::post().to(http::request_reset)))
        .service(resource("/api/auth/password-reset/confirm").route(web::post().to(http::confirm_reset)))
        .service(resource("/api/invitations").route(web::post().to(http::invite)))
        .service(resource("/api/invitations/accept").route(web::post().to(http::accept_invitation)))
        .service(resource("/api/me").route(web::get().to(http::me)))
        .service(
            resource("/api/me/sessions")
                .route(web::get().to(http::list_sessions))
                .route(web::delete().to(http::revoke_everywhere)),
        )
        .service(resource("/api/me/sessions/{id}").route(web::delete().to(http::revoke)))
        .service(
            resource("/api/me/calendar-feed")
                .route(web::post().to(http::create_calendar_feed))
                .route(web::delete().to(http::revoke_calendar_feed)),
        )
        .service(
            resource("/api/organisations")
                .route(web::get().to(http::list_organisations))
                .route(web::post().to(http::create_organisation)),
        )
        .service(
            resource("/api/organisations/{id}")
                .route(web::get().to(http::get_organisation))
                .route(web::patch().to(http::update_organisation)),
        )
        .service(resource("/api/users").route(web::get().to(http::list_users)))
        .service(
            resource("/api/users/{id}").route(web::get().to(http::get_user)).route(web::patch().to(http::update_user)),
        );
}
