//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::error::ApiError;
use crate::app::AppState;

/// Body of the health probes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    pub status: &'static str,
}

/// The process is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "The process runs", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers; 503 problem+json otherwise (and 200 again once it is back).
#[utoipa::path(get, path = "/readyz", tag = "service", responses(
    (status = 200, description = "Ready to serve", body = Health),
    (status = 503, description = "The database does not answer", body = super::error::Problem, content_type = "application/problem+json"),
))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await.map_err(|e| match e {
        ApiError::Unavailable(_) => e,
        other => ApiError::unavailable(other),
    })?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
