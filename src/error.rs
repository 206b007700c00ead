//! The domain error: every way a use case can fail, with no HTTP in it. Services, stores, the
//! mailer and the live rooms return [`Error`]; the HTTP edge (`http::error`) maps each variant to
//! a problem+json answer, and the CLI prints it. Deliberate errors say what and where (a field
//! list for validation); [`Error::Internal`] is logged in full and reveals nothing to a client.

use serde::Serialize;

/// One offending field of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Where the problem is: a JSON field name (`email`), a path parameter or `body`.
    pub field: String,
    /// What is wrong with it, for a person.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request's fields are invalid (422), or the request could not be read at all as what
    /// it should be (`malformed`: 400).
    #[error("validation failed: {errors:?}")]
    Validation { malformed: bool, errors: Vec<FieldError> },
    /// The request cannot be understood at all.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No valid credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Credentials are fine but the actor may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The resource or route does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request conflicts with existing state (duplicate, wrong state).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A field's value is already taken (409, naming the field).
    #[error("conflict on {field}: {detail}")]
    Duplicate { field: String, detail: String },
    /// A token or link that was valid once no longer is.
    #[error("gone: {0}")]
    Gone(String),
    /// The body is larger than the configured limit.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// The body is not of an accepted media type.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64, detail: String },
    /// A dependency (the database) is not reachable right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything unexpected: logged in full, answered with a bare 500.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl Error {
    /// A validation error on one field (422).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation { malformed: false, errors: vec![FieldError::new(field, message)] }
    }

    /// A validation error on several fields (422); `Ok(())` when the list is empty.
    pub fn check(errors: Vec<FieldError>) -> Result<(), Self> {
        if errors.is_empty() { Ok(()) } else { Err(Self::Validation { malformed: false, errors }) }
    }

    /// An unexpected failure.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// The database (or another dependency) is unreachable.
    pub fn unavailable(err: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %err, "dependency unavailable");
        Self::Unavailable("the database is not reachable".into())
    }

    /// The stable, machine-readable name of the kind of problem.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation",
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict(_) | Self::Duplicate { .. } => "conflict",
            Self::Gone(_) => "gone",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// What went wrong, for a person (`None` for unexpected failures, which reveal nothing).
    pub fn detail(&self) -> Option<String> {
        match self {
            Self::Validation { errors, .. } => {
                Some(errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
            }
            Self::BadRequest(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::Gone(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::Unavailable(d)
            | Self::TooManyRequests { detail: d, .. } => Some(d.clone()),
            Self::MethodNotAllowed => Some("this resource does not accept that method".into()),
            Self::Duplicate { detail, .. } => Some(detail.clone()),
            Self::Internal(_) => None,
        }
    }
}

impl From<FieldError> for Error {
    fn from(err: FieldError) -> Self {
        Self::Validation { malformed: false, errors: vec![err] }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => Self::NotFound("no such resource".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::debug!(detail = info.message(), "unique violation");
                Self::Conflict("a resource with the same unique value already exists".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => Self::unavailable("connection closed"),
            other => Self::internal(other),
        }
    }
}
