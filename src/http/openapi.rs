//! The OpenAPI document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::OpenApi;

/// Every documented operation and schema. A new handler is added to `paths(...)` here.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plenum API",
        description = "The HTTP API of Plenum. Errors are application/problem+json (RFC 9457)."
    ),
    paths(super::health::healthz, super::health::readyz, openapi_json),
    components(schemas(super::error::Problem, super::error::FieldError))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service", responses((status = 200, description = "The OpenAPI 3 document")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
