//! The OpenAPI document, generated from the handlers' annotations.

use std::collections::HashMap;

use actix_web::HttpResponse;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::accounts;

/// Documents the two ways to present a session: the bearer token and the browser's cookie.
struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::accounts::actor::SESSION_COOKIE))),
        );
    }
}

/// Makes every `operationId` unique, as OpenAPI requires: handlers in different modules share
/// names (`list`, `get`, `update`), so a shared id gets the path's resource appended (`list` on
/// `/api/drafts` becomes `list_drafts`). Generated clients (the front end's types) key on these ids.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut uses: HashMap<String, usize> = HashMap::new();
        for item in openapi.paths.paths.values_mut() {
            for id in operations(item).filter_map(|op| op.operation_id.clone()) {
                *uses.entry(id).or_default() += 1;
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let resource = path
                .trim_start_matches("/api/")
                .split('/')
                .filter(|segment| !segment.is_empty() && !segment.starts_with('{'))
                .collect::<Vec<_>>()
                .join("_")
                .replace('-', "_");
            for op in operations(item) {
                if let Some(id) = op.operation_id.as_mut()
                    && uses.get(id.as_str()).is_some_and(|n| *n > 1)
                {
                    *id = format!("{id}_{resource}");
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Every documented operation and schema. A new handler is added to `paths(...)` here.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plenum API",
        description = "The HTTP API of Plenum. Errors are application/problem+json (RFC 9457)."
    ),
    paths(
        super::health::healthz, super::health::readyz, openapi_json, super::metrics::metrics,
        accounts::http::login, accounts::http::logout, accounts::http::request_reset, accounts::http::confirm_reset,
        accounts::http::invite, accounts::http::accept_invitation,
        accounts::http::me, accounts::http::list_sessions, accounts::http::revoke, accounts::http::revoke_everywhere,
        accounts::http::list_organisations, accounts::http::create_organisation, accounts::http::get_organisation,
        accounts::http::update_organisation,
        accounts::http::list_users, accounts::http::get_user, accounts::http::update_user,
        accounts::http::create_calendar_feed, accounts::http::revoke_calendar_feed,
        crate::audit::list,
        crate::drafting::http::list, crate::drafting::http::create, crate::drafting::http::get,
        crate::drafting::http::update, crate::drafting::ws::connect,
        crate::bodies::http::list, crate::bodies::http::create, crate::bodies::http::get, crate::bodies::http::update,
        crate::bodies::http::put_member, crate::bodies::http::remove_member, crate::bodies::http::list_terms,
        crate::bodies::http::add_term, crate::bodies::http::change_term, crate::bodies::http::chair,
        crate::bodies::http::start_acting, crate::bodies::http::end_acting,
        crate::meetings::http::home, crate::meetings::http::list, crate::meetings::http::create,
        crate::meetings::http::get, crate::meetings::http::update, crate::meetings::http::convene,
        crate::meetings::http::open, crate::meetings::http::close, crate::meetings::http::cancel,
        crate::meetings::http::invite_guest, crate::meetings::http::remove_guest, crate::meetings::http::register,
        crate::meetings::http::unregister, crate::meetings::http::agenda, crate::meetings::http::add_item,
        crate::meetings::http::adopt, crate::meetings::http::order, crate::meetings::http::current_item,
        crate::meetings::http::update_item, crate::meetings::http::delete_item, crate::meetings::http::upload,
        crate::meetings::http::download, crate::meetings::http::delete_document, crate::meetings::http::link_draft,
        crate::meetings::http::unlink_draft, crate::meetings::http::meeting_calendar,
        crate::meetings::http::body_calendar, crate::meetings::ws::live,
        crate::decisions::http::final_reading, crate::decisions::http::reopen,
        crate::decisions::http::call_for_objections, crate::decisions::http::object, crate::decisions::http::objections,
        crate::decisions::http::adopt, crate::decisions::http::written_procedure, crate::decisions::http::withdraw,
        crate::decisions::http::versions, crate::decisions::http::new_version, crate::decisions::http::version,
        crate::decisions::http::diff, crate::decisions::http::list, crate::decisions::http::get,
        crate::decisions::http::markdown, crate::decisions::http::authorship, crate::decisions::http::relate,
        crate::decisions::http::report_markdown, crate::decisions::http::report_html, crate::decisions::http::report_draft,
        crate::decisions::http::report_pdf, crate::decisions::http::html, crate::decisions::http::pdf,
        crate::recommendations::http::vocabularies, crate::recommendations::http::create_vocabulary,
        crate::recommendations::http::list, crate::recommendations::http::create, crate::recommendations::http::get,
        crate::recommendations::http::update, crate::recommendations::http::implementations,
        crate::recommendations::http::record_for_organisation, crate::recommendations::http::record_for_body,
        crate::recommendations::http::upload, crate::recommendations::http::download,
        crate::recommendations::http::list_visits, crate::recommendations::http::create_visit,
        crate::recommendations::http::get_visit, crate::recommendations::http::update_visit,
        crate::recommendations::http::stocktaking, crate::recommendations::http::stocktaking_csv,
        crate::recommendations::http::export_csv,
    ),
    components(schemas(super::error::Problem, super::error::FieldError)),
    modifiers(&SessionAuth, &UniqueOperationIds)
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service", responses((status = 200, description = "The OpenAPI 3 document")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
