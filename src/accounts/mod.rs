//! Accounts: organisations, their delegates, passwords, sessions, invitations and resets.

pub mod actor;
pub mod admin;
pub mod auth;
pub mod model;
pub mod organisations;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

use actix_web::web;

use crate::http::resource;

/// Registers the accounts routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/auth/login").route(web::post().to(auth::login)))
        .service(resource("/api/auth/logout").route(web::post().to(sessions::logout)))
        .service(resource("/api/auth/password-reset").route(web::post().to(auth::request_reset)))
        .service(resource("/api/auth/password-reset/confirm").route(web::post().to(auth::confirm_reset)))
        .service(resource("/api/invitations").route(web::post().to(auth::invite)))
        .service(resource("/api/invitations/accept").route(web::post().to(auth::accept_invitation)))
        .service(resource("/api/me").route(web::get().to(sessions::me)))
        .service(
            resource("/api/me/sessions")
                .route(web::get().to(sessions::list))
                .route(web::delete().to(sessions::revoke_everywhere)),
        )
        .service(resource("/api/me/sessions/{id}").route(web::delete().to(sessions::revoke)))
        .service(
            resource("/api/organisations")
                .route(web::get().to(organisations::list))
                .route(web::post().to(organisations::create)),
        )
        .service(
            resource("/api/organisations/{id}")
                .route(web::get().to(organisations::get))
                .route(web::patch().to(organisations::update)),
        )
        .service(resource("/api/users").route(web::get().to(users::list)))
        .service(resource("/api/users/{id}").route(web::get().to(users::get)).route(web::patch().to(users::update)));
}
