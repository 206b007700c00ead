//! The HTTP layer: the error type, middleware, and the assembly of every route.

pub mod error;
pub mod frontend;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod page;
pub mod upgrade;

use actix_web::{HttpResponse, Resource, web};

use error::{ApiError, json_error};

/// Registers every route and the extractor configuration (body limit, error mapping).
pub fn configure(cfg: &mut web::ServiceConfig, body_limit: usize, upload_limit: usize) {
    cfg.app_data(web::JsonConfig::default().limit(body_limit).error_handler(|err, _req| json_error(err).into()))
        .app_data(
            web::PathConfig::default().error_handler(|err, _req| ApiError::invalid("path", err.to_string()).into()),
        )
        .app_data(
            web::QueryConfig::default().error_handler(|err, _req| ApiError::invalid("query", err.to_string()).into()),
        )
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/api/openapi.json").route(web::get().to(openapi::openapi_json)))
        .service(resource("/metrics").route(web::get().to(metrics::metrics)))
        .service(resource("/api/audit").route(web::get().to(crate::audit::list)))
        .configure(crate::accounts::configure)
        .configure(crate::drafting::configure)
        .configure(crate::bodies::configure)
        .configure(crate::decisions::configure)
        .configure(|cfg| crate::meetings::configure(cfg, upload_limit))
        .configure(|cfg| crate::recommendations::configure(cfg, upload_limit))
        .configure(frontend::configure);
}

/// A stored file answered as a download: its type as decided at upload, its name both as ASCII
/// and (RFC 6266) in UTF-8, never cached.
pub fn attachment(filename: &str, content_type: String, data: Vec<u8>) -> HttpResponse {
    use actix_web::http::header;
    let ascii: String =
        filename.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String =
        url::form_urlencoded::byte_serialize(filename.as_bytes()).collect::<String>().replace('+', "%20");
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(data)
}

/// A route whose unsupported methods answer 405 problem+json (rather than falling through to
/// the front end's catch-all).
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
