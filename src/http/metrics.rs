//! `GET /metrics`: counters and gauges in the Prometheus text format, for operators. Not public:
//! served on the separate `--metrics-bind` address, or on the main one to `--metrics-token`.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::app::AppState;
use crate::db::schema::mail_outbox;

pub use crate::metrics::Metrics;

/// The metrics, for Prometheus.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    // On the main address `/metrics` exists only for holders of `--metrics-token`.
    if configured_token(state.get_ref()).is_none() {
        return Err(ApiError::NotFound("no route for /metrics".into()));
    }
    check_token(&state, &req)?;
    render(&state).await
}

/// `GET /metrics` on the separate `--metrics-bind` address (which serves nothing else); it needs
/// the bearer token too when `--metrics-token` is set.
pub async fn metrics_on_own_address(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    check_token(&state, &req)?;
    render(&state).await
}

/// Refuses (401) a request without the configured metrics token, if one is configured.
fn check_token(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let Some(expected) = configured_token(state) else { return Ok(()) };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    // Compare digests, so the comparison takes as long whatever the token.
    if Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("the metrics need `Authorization: Bearer <metrics token>`".into()))
    }
}

/// The metrics token, if one is configured (an empty one counts as none).
fn configured_token(state: &AppState) -> Option<&str> {
    state.config.metrics_token.as_ref().map(|t| t.expose()).filter(|t| !t.is_empty())
}

/// Registers the only route of the `--metrics-bind` listener; anything else answers 404.
pub fn configure_own_address(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/metrics").route(web::get().to(metrics_on_own_address)))
        .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no route for {} (this address serves /metrics only)", req.path())))
}

async fn render(state: &AppState) -> Result<HttpResponse, ApiError> {
    let m = &state.metrics;
    let pending_mail = state
        .db
        .read(|c| Ok(mail_outbox::table.filter(mail_outbox::sent_at.is_null()).count().get_result::<i64>(c)?))
        .await
        .unwrap_or(-1);
    let pool = state.db.pool_state();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let responses: Vec<(String, String)> = ["1xx", "2xx", "3xx", "4xx", "5xx"]
        .iter()
        .zip(&m.responses)
        .map(|(c, n)| (format!("{{class=\"{c}\"}}"), n.load(Ordering::Relaxed).to_string()))
        .collect();
    metric("plenum_http_responses_total", "counter", "HTTP responses by status class.", &responses);
    metric(
        "plenum_ws_connections",
        "gauge",
        "Open drafting websocket connections.",
        &[(String::new(), m.ws_connections.load(Ordering::Relaxed).to_string())],
    );
    metric(
        "plenum_drafting_rooms",
        "gauge",
        "Drafts loaded in memory on this instance.",
        &[(String::new(), state.hub.loaded().to_string())],
    );
    metric(
        "plenum_draft_updates_stored_total",
        "counter",
        "Document updates committed to the log.",
        &[(String::new(), m.updates_stored.load(Ordering::Relaxed).to_string())],
    );
    metric(
        "plenum_draft_updates_refused_total",
        "counter",
        "Document updates refused from read-only senders.",
        &[(String::new(), m.updates_refused.load(Ordering::Relaxed).to_string())],
    );
    metric(
        "plenum_ws_closed_by_server_total",
        "counter",
        "Connections closed by the server (bad input, too slow).",
        &[(String::new(), m.connections_closed.load(Ordering::Relaxed).to_string())],
    );
    let agenda_reads: Vec<(String, String)> = ["memory", "database"]
        .iter()
        .zip(&m.agenda_reads)
        .map(|(s, n)| (format!("{{source=\"{s}\"}}"), n.load(Ordering::Relaxed).to_string()))
        .collect();
    metric(
        "plenum_agenda_reads_total",
        "counter",
        "Agenda reads answered from this instance's memory and from the database.",
        &agenda_reads,
    );
    metric(
        "plenum_mail_outbox_pending",
        "gauge",
        "Mail waiting to be delivered (-1: database unreachable).",
        &[(String::new(), pending_mail.to_string())],
    );
    metric(
        "plenum_db_pool_connections",
        "gauge",
        "Database connections in the pool.",
        &[("{state=\"open\"}".into(), pool.0.to_string()), ("{state=\"idle\"}".into(), pool.1.to_string())],
    );
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(out))
}
