//! The HTTP edge of the domain error: every [`Error`] answers `application/problem+json`
//! (RFC 9457) with a stable `type` and `code`, a human `title` and `detail`, and for validation
//! errors an `errors` list naming each offending field. Unexpected failures
//! ([`Error::Internal`]) are logged in full and answered with a bare 500 that reveals nothing.
//! Handlers name it `ApiError`; below the handlers it is `crate::error::Error`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use crate::error::{Error as ApiError, FieldError};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The problem+json body (RFC 9457), as documented in the OpenAPI document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem; stable, machine-readable.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, stable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The same as the last segment of `type`: `not-found`, `validation`, …
    pub code: String,
    /// For validation problems: each offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    /// The problem body this error answers with.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let code = self.code();
        Problem {
            kind: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            code: code.to_string(),
            errors: match self {
                Self::Validation { errors, .. } => errors.clone(),
                Self::Duplicate { field, detail } => vec![FieldError::new(field.clone(), detail.clone())],
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation { malformed: true, .. } => StatusCode::BAD_REQUEST,
            Self::Validation { malformed: false, .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Duplicate { .. } => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(err) = self {
            tracing::error!(error = ?err, "unexpected error");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Self::TooManyRequests { retry_after_secs, .. } = self {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// Maps actix's JSON extractor failures to problems: a body over the limit is 413, the wrong
/// content type 415, and malformed JSON 400 with the parser's line and column.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { length, limit } => {
            ApiError::PayloadTooLarge(format!("the body is {length} bytes; the limit is {limit} bytes"))
        }
        E::Overflow { limit } => ApiError::PayloadTooLarge(format!("the body is over the limit of {limit} bytes")),
        E::ContentType => ApiError::UnsupportedMediaType("send the body as application/json".into()),
        E::Deserialize(e) => {
            ApiError::Validation { malformed: !e.is_data(), errors: vec![FieldError::new("body", e.to_string())] }
        }
        E::Payload(e) => ApiError::BadRequest(format!("the body could not be read: {e}")),
        other => ApiError::BadRequest(format!("the body could not be read: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(err: ApiError) -> (StatusCode, serde_json::Value, Option<String>) {
        let res = err.error_response();
        let status = res.status();
        let ct = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
        let bytes = to_bytes(res.into_body()).await.unwrap_or_default();
        (status, serde_json::from_slice(&bytes).unwrap_or_default(), ct)
    }

    #[actix_web::test]
    async fn malformed_json_is_400_naming_the_position() {
        let parse = serde_json::from_str::<serde_json::Value>("{\"email\": ").unwrap_err();
        let (status, body, ct) = body_of(json_error(actix_web::error::JsonPayloadError::Deserialize(parse))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(ct.as_deref(), Some(PROBLEM_JSON));
        assert_eq!(body["code"], "validation");
        assert_eq!(body["errors"][0]["field"], "body");
        assert!(body["detail"].as_str().unwrap_or_default().contains("line 1"), "{body}");
    }

    #[actix_web::test]
    async fn wrong_shape_is_422() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Login {
            email: String,
        }
        let parse = serde_json::from_str::<Login>("{\"email\": 5}").unwrap_err();
        let (status, body, _) = body_of(json_error(actix_web::error::JsonPayloadError::Deserialize(parse))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["detail"].as_str().unwrap_or_default().contains("invalid type"), "{body}");
    }

    #[actix_web::test]
    async fn oversize_body_is_413() {
        let err = actix_web::error::JsonPayloadError::OverflowKnownLength { length: 2048, limit: 1024 };
        let (status, body, _) = body_of(json_error(err)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["type"], "/problems/payload-too-large");
    }

    #[actix_web::test]
    async fn internal_errors_reveal_nothing() {
        let (status, body, _) = body_of(ApiError::internal(anyhow::anyhow!("secret table users missing"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("secret"), "{body}");
        assert!(body.get("detail").is_none());
    }

    #[actix_web::test]
    async fn too_many_requests_says_when_to_retry() {
        let res = ApiError::TooManyRequests { retry_after_secs: 42, detail: "slow down".into() }.error_response();
        assert_eq!(res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("42"));
    }
}
