//! Decisions: how a shared text becomes one. The steps a draft takes (final reading, a call
//! for objections, objections and abstentions, declared adoption, the written procedure,
//! withdrawal), the versions saved on the way and their word-level diffs, and the register of
//! numbered, frozen decisions.
//!
//! Where things go: requests and views in `model.rs` (with the number format and the diff); the
//! use cases in `service.rs` (including `run_due`, the scheduler's adoptions and reminders);
//! handlers in `http.rs`. What is published — a decision, a meeting's report (`report.rs`) — is
//! assembled once as a `document::Document` and rendered as Markdown, HTML or PDF (`pdf.rs`). A
//! draft's text lives in `drafting`; its brackets are `drafting::brackets`.

pub mod document;
pub mod http;
pub mod model;
pub mod pdf;
pub mod report;
pub mod service;

use actix_web::web;

use crate::http::resource;

/// Registers the decisions routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/drafts/{id}/final-reading").route(web::post().to(http::final_reading)))
        .service(resource("/api/drafts/{id}/reopen").route(web::post().to(http::reopen)))
        .service(resource("/api/drafts/{id}/call-for-objections").route(web::post().to(http::call_for_objections)))
        .service(
            resource("/api/drafts/{id}/objections")
                .route(web::get().to(http::objections))
                .route(web::post().to(http::object)),
        )
        .service(resource("/api/drafts/{id}/adopt").route(web::post().to(http::adopt)))
        .service(resource("/api/drafts/{id}/written-procedure").route(web::post().to(http::written_procedure)))
        .service(resource("/api/drafts/{id}/withdraw").route(web::post().to(http::withdraw)))
        .service(
            resource("/api/drafts/{id}/versions")
                .route(web::get().to(http::versions))
                .route(web::post().to(http::new_version)),
        )
        .service(resource("/api/drafts/{id}/versions/{n}").route(web::get().to(http::version)))
        .service(resource("/api/drafts/{id}/diff").route(web::get().to(http::diff)))
        .service(resource("/api/drafts/{id}/authorship").route(web::get().to(http::authorship)))
        .service(resource("/api/drafts/{id}/relations").route(web::post().to(http::relate)))
        .service(resource("/api/meetings/{id}/report.md").route(web::get().to(http::report_markdown)))
        .service(resource("/api/meetings/{id}/report.html").route(web::get().to(http::report_html)))
        .service(resource("/api/meetings/{id}/report.pdf").route(web::get().to(http::report_pdf)))
        .service(resource("/api/meetings/{id}/report").route(web::post().to(http::report_draft)))
        .service(resource("/api/decisions").route(web::get().to(http::list)))
        .service(resource("/api/decisions/{id:\\d+}.md").route(web::get().to(http::markdown)))
        .service(resource("/api/decisions/{id:\\d+}.html").route(web::get().to(http::html)))
        .service(resource("/api/decisions/{id:\\d+}.pdf").route(web::get().to(http::pdf)))
        .service(resource("/api/decisions/{id:\\d+}").route(web::get().to(http::get)));
}
