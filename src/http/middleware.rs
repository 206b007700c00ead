//! Middleware applied to every response: request ids and logging, security headers, and the
//! conversion of framework errors (unknown route, wrong method, …) into problem+json.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, Next};
use actix_web::{HttpMessage, ResponseError};
use tracing::Instrument;

use super::error::{ApiError, PROBLEM_JSON};

/// The id of the current request, also sent back as `X-Request-Id` and written to audit rows.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives each request an id (or keeps a sane one the client sent), runs it in a span, and logs
/// method, path, status and latency when it is done.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(String::from)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_string();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let result = next.call(req).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = match &result {
        Ok(res) => res.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), latency_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "request");
        }
    });
    if let Some(state) = res_state(&result) {
        state.metrics.response(status.as_u16());
    }
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

fn res_state<B>(
    result: &Result<ServiceResponse<B>, actix_web::Error>,
) -> Option<actix_web::web::Data<crate::app::AppState>> {
    result.as_ref().ok().and_then(|r| r.request().app_data::<actix_web::web::Data<crate::app::AppState>>().cloned())
}

/// `Cache-Control: no-store` on API answers that no cache may keep: every `/api` response to a
/// request that carries credentials (session cookie, `Authorization`, or a `token` query
/// parameter), every response under `/api/auth/` and `/api/invitations/accept` (they hand out
/// session tokens), and any `/api` response that sets a cookie.
pub async fn no_store_for_private(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let api = path == "/api" || path.starts_with("/api/");
    let private = api
        && (req.headers().contains_key(header::AUTHORIZATION)
            || req.cookie(crate::accounts::actor::SESSION_COOKIE).is_some()
            || req.query_string().split('&').any(|p| p.starts_with("token="))
            || path.starts_with("/api/auth/")
            || path == "/api/invitations/accept");
    let mut res = next.call(req).await?;
    if private || (api && res.headers().contains_key(header::SET_COOKIE)) {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// Security headers on every response.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ));
    if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
    } else {
        headers
    }
}

/// Turns any error response that is not yet problem+json (the framework's own 404, 405, 413 …)
/// into one, so clients see a single error format.
pub fn normalize_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let error = match res.status() {
        StatusCode::NOT_FOUND => ApiError::NotFound(format!("no route for {}", res.request().path())),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the body is over the configured limit".into()),
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized("sign in first".into()),
        StatusCode::FORBIDDEN => ApiError::Forbidden("not allowed".into()),
        status if status.is_server_error() => ApiError::internal(anyhow::anyhow!("framework error {status}")),
        status => ApiError::Validation {
            malformed: status == StatusCode::BAD_REQUEST,
            errors: vec![super::error::FieldError::new("request", status.canonical_reason().unwrap_or("bad request"))],
        },
    };
    let (req, _) = res.into_parts();
    let problem: actix_web::HttpResponse<BoxBody> = error.error_response();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, problem).map_into_right_body()))
}
