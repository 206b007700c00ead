//! Bodies and their chairs: the plenary and the working groups, committees and ad hoc groups
//! below it, their member organisations, and the terms of their offices (chair, vice-chair,
//! co-chairs) with the rule that rotates them.
//!
//! Where things go: rows, views, requests and validated inputs in `model.rs`; the rules of the
//! chairmanship (who is in office on a date, the next handover, what is missing, what a rotation
//! creates) as pure functions in `rotation.rs`; the use cases in `service.rs` (including the
//! scheduler's [`service::run_for_body`] and [`service::standing`], which tells the policy what
//! an actor holds in a body at the instant of a request); thin handlers in `http.rs`.

pub mod http;
pub mod model;
pub mod rotation;
pub mod service;

use actix_web::web;

use crate::http::resource;

/// Registers the bodies routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/bodies").route(web::get().to(http::list)).route(web::post().to(http::create)))
        .service(resource("/api/bodies/{id}").route(web::get().to(http::get)).route(web::patch().to(http::update)))
        .service(
            resource("/api/bodies/{id}/members/{organisation_id}")
                .route(web::put().to(http::put_member))
                .route(web::delete().to(http::remove_member)),
        )
        .service(
            resource("/api/bodies/{id}/terms")
                .route(web::get().to(http::list_terms))
                .route(web::post().to(http::add_term)),
        )
        .service(resource("/api/terms/{id}").route(web::patch().to(http::change_term)))
        .service(resource("/api/bodies/{id}/chair").route(web::get().to(http::chair)))
        .service(
            resource("/api/bodies/{id}/acting-chair")
                .route(web::post().to(http::start_acting))
                .route(web::delete().to(http::end_acting)),
        );
}
