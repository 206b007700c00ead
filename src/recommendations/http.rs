//! `/api/recommendations`, `/api/vocabularies`, `/api/review-visits`, `/api/evidence` and
//! `/api/stocktaking`: thin handlers over the services — extract, call, answer.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{
    EvidenceQuery, ImplementationEntry, ImplementationRecord, NewEntry, NewRecommendation, NewReviewVisit,
    NewVocabulary, Recommendation, RecommendationQuery, RecommendationUpdate, ReviewVisit, ReviewVisitQuery,
    ReviewVisitUpdate, UploadRef, ValidEntry, ValidVocabulary, Vocabulary,
};
use super::service::{self, Target};
use super::stocktaking::{Stocktaking, StocktakingQuery};
use super::visits;
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::page::PageQuery;
use crate::http::resource;
use crate::meetings::documents;
use crate::page::Page;
use crate::policy::{Action, authorize};

/// The routes of this area (`upload_limit` bounds evidence and report uploads).
pub fn configure(cfg: &mut web::ServiceConfig, upload_limit: usize) {
    // `{id:\d+}`: other paths under /api/recommendations/ (export.csv) are not ids.
    cfg.service(
        resource("/api/vocabularies").route(web::get().to(vocabularies)).route(web::post().to(create_vocabulary)),
    )
    .service(resource("/api/recommendations").route(web::get().to(list)).route(web::post().to(create)))
    .service(resource(r"/api/recommendations/{id:\d+}").route(web::get().to(get)).route(web::patch().to(update)))
    .service(resource(r"/api/recommendations/{id:\d+}/implementations").route(web::get().to(implementations)))
    .service(
        resource(r"/api/recommendations/{id:\d+}/implementations/{organisation_id:\d+}")
            .route(web::post().to(record_for_organisation)),
    )
    .service(
        resource(r"/api/recommendations/{id:\d+}/implementations/bodies/{body_id:\d+}")
            .route(web::post().to(record_for_body)),
    )
    .service(
        resource("/api/evidence")
            .app_data(web::PayloadConfig::new(upload_limit.saturating_add(1)))
            .route(web::post().to(upload)),
    )
    .service(resource("/api/evidence/{id}").route(web::get().to(download)))
    .service(resource("/api/review-visits").route(web::get().to(list_visits)).route(web::post().to(create_visit)))
    .service(resource("/api/review-visits/{id}").route(web::get().to(get_visit)).route(web::patch().to(update_visit)));
    configure_stocktaking(cfg);
}

/// The status vocabularies recommendations are tracked with.
#[utoipa::path(get, path = "/api/vocabularies", tag = "recommendations",
    responses((status = 200, body = Vec<Vocabulary>), (status = 401), (status = 403)))]
pub async fn vocabularies(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let out = state.db.read(move |c| service::list_vocabularies(c, &actor)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Defines a vocabulary (the secretariat's administrators).
#[utoipa::path(post, path = "/api/vocabularies", tag = "recommendations", request_body = NewVocabulary,
    responses((status = 201, body = Vocabulary), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create_vocabulary(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewVocabulary>,
) -> Result<HttpResponse, ApiError> {
    // Who may comes before what: a refusal does not depend on the body sent.
    authorize(&actor, &Action::ManageVocabularies)?;
    let input = ValidVocabulary::try_from(body.into_inner())?;
    let now = state.clock.now();
    let out = state.db.write(move |c| service::create_vocabulary(c, &actor, now, input)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// The recommendations the caller may see, in issue order, filtered.
#[utoipa::path(get, path = "/api/recommendations", tag = "recommendations", params(RecommendationQuery, PageQuery),
    responses((status = 200, body = Page<Recommendation>), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<RecommendationQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let (limit, after, now) = (page.limit()?, page.after()?, state.clock.now());
    let out = state.db.read_consistent(move |c| service::list(c, &actor, now, &filter, limit, after)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Issues a recommendation (the issuing body's chair, or the secretariat).
#[utoipa::path(post, path = "/api/recommendations", tag = "recommendations", request_body = NewRecommendation,
    responses((status = 201, body = Recommendation), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewRecommendation>,
) -> Result<HttpResponse, ApiError> {
    let (now, input) = (state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| service::create(c, &actor, now, input)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// One recommendation with each addressee's current status.
#[utoipa::path(get, path = "/api/recommendations/{id}", tag = "recommendations", params(("id" = i64, Path)),
    responses((status = 200, body = Recommendation), (status = 401), (status = 403), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let out = state.db.read_consistent(move |c| service::find(c, &actor, now, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Changes a recommendation's title, text, due date, priority, themes, restriction, parent (or
/// its vocabulary while nothing is recorded); never its addressees (409).
#[utoipa::path(patch, path = "/api/recommendations/{id}", tag = "recommendations", params(("id" = i64, Path)),
    request_body = RecommendationUpdate,
    responses((status = 200, body = Recommendation), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<RecommendationUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input) = (path.into_inner(), state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| service::update(c, &actor, now, id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Every addressee's implementation record, with its history (oldest first).
#[utoipa::path(get, path = "/api/recommendations/{id}/implementations", tag = "recommendations", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ImplementationRecord>), (status = 401), (status = 403), (status = 404)))]
pub async fn implementations(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let out = state.db.read_consistent(move |c| service::implementations(c, &actor, now, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

async fn record(
    state: web::Data<AppState>,
    actor: Actor,
    id: i64,
    target: Target,
    body: NewEntry,
) -> Result<HttpResponse, ApiError> {
    let input = ValidEntry::try_from(body)?;
    let now = state.clock.now();
    let out = state.db.write(move |c| service::record(c, &actor, now, id, target, input)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// Records progress on a participant's record: its own delegates, the issuing body's chair or
/// the secretariat. Append-only: a correction is a new entry with `corrects_id`.
#[utoipa::path(post, path = "/api/recommendations/{id}/implementations/{organisation_id}", tag = "recommendations",
    params(("id" = i64, Path), ("organisation_id" = i64, Path)), request_body = NewEntry,
    responses((status = 201, body = ImplementationEntry), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn record_for_organisation(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
    body: web::Json<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let (id, org) = path.into_inner();
    record(state, actor, id, Target::Organisation(org), body.into_inner()).await
}

/// Records progress on a body's record: the addressed body's chair, the issuing body's chair or
/// the secretariat.
#[utoipa::path(post, path = "/api/recommendations/{id}/implementations/bodies/{body_id}", tag = "recommendations",
    params(("id" = i64, Path), ("body_id" = i64, Path)), request_body = NewEntry,
    responses((status = 201, body = ImplementationEntry), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn record_for_body(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
    body: web::Json<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let (id, body_id) = path.into_inner();
    record(state, actor, id, Target::Body(body_id), body.into_inner()).await
}

/// Uploads a file (evidence of implementation, or a review visit's report): the raw file as the
/// body, its name as `?filename=`. It stays the uploader's until attached.
#[utoipa::path(post, path = "/api/evidence", tag = "recommendations", params(EvidenceQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = UploadRef), (status = 401), (status = 403), (status = 413), (status = 415), (status = 422)))]
pub async fn upload(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    query: web::Query<EvidenceQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let declared = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let file = documents::check(&query.filename, declared.as_deref(), body.to_vec(), state.config.upload_limit)?;
    let now = state.clock.now();
    let out = state.db.write(move |c| service::store_upload(c, &actor, now, file)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// Downloads an uploaded file (as an attachment, with the type decided at upload).
#[utoipa::path(get, path = "/api/evidence/{id}", tag = "recommendations", params(("id" = i64, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 401), (status = 404)))]
pub async fn download(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (filename, content_type, data) = state.db.read(move |c| service::download(c, &actor, id)).await?;
    Ok(crate::http::attachment(&filename, content_type, data))
}

/// The review visits (everyone but guests), newest first.
#[utoipa::path(get, path = "/api/review-visits", tag = "recommendations", params(ReviewVisitQuery),
    responses((status = 200, body = Vec<ReviewVisit>), (status = 401), (status = 403), (status = 422)))]
pub async fn list_visits(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<ReviewVisitQuery>,
) -> Result<HttpResponse, ApiError> {
    let (now, q) = (state.clock.now(), query.into_inner());
    let out = state.db.read_consistent(move |c| visits::list(c, &actor, now, &q)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Plans a review visit (the following body's chair, or the secretariat).
#[utoipa::path(post, path = "/api/review-visits", tag = "recommendations", request_body = NewReviewVisit,
    responses((status = 201, body = ReviewVisit), (status = 401), (status = 403), (status = 422)))]
pub async fn create_visit(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewReviewVisit>,
) -> Result<HttpResponse, ApiError> {
    let (now, input) = (state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| visits::create(c, &actor, now, input)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// One review visit, with the recommendations of its report.
#[utoipa::path(get, path = "/api/review-visits/{id}", tag = "recommendations", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewVisit), (status = 401), (status = 403), (status = 404)))]
pub async fn get_visit(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let out = state.db.read_consistent(move |c| visits::find(c, &actor, now, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Changes a review visit, or moves it forward: `planned → visited → report_adopted`.
#[utoipa::path(patch, path = "/api/review-visits/{id}", tag = "recommendations", params(("id" = i64, Path)),
    request_body = ReviewVisitUpdate,
    responses((status = 200, body = ReviewVisit), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update_visit(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<ReviewVisitUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input) = (path.into_inner(), state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| visits::update(c, &actor, now, id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

// ==== stocktaking, CSV exports (stocktaking.rs): handlers and routes below this line ========
// ---- stocktaking and exports

/// The stocktaking and export routes (registered after the others).
fn configure_stocktaking(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/stocktaking").route(web::get().to(stocktaking)))
        .service(resource("/api/stocktaking.csv").route(web::get().to(stocktaking_csv)))
        .service(resource("/api/recommendations/export.csv").route(web::get().to(export_csv)));
}

/// A CSV download: `text/csv; charset=utf-8`, as an attachment named `filename`.
fn csv_attachment(filename: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .body(bytes)
}

/// Where a body's recommendations stood at the end of `as_of` (default today in the body's time
/// zone), computed from the history: by status, participant, theme and source; the overdue; what
/// changed since the previous meeting. Observers see only the recommendations not restricted.
#[utoipa::path(get, path = "/api/stocktaking", tag = "recommendations", params(StocktakingQuery),
    responses((status = 200, body = Stocktaking), (status = 401), (status = 403), (status = 422)))]
pub async fn stocktaking(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<StocktakingQuery>,
) -> Result<HttpResponse, ApiError> {
    let (request, now) = (query.parse()?, state.clock.now());
    let out = state.db.read_consistent(move |c| super::stocktaking::stocktaking(c, &actor, now, request)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The stocktaking as CSV: one row per implementation record with its status at the end of
/// `as_of` (header row; RFC 4180 quoting).
#[utoipa::path(get, path = "/api/stocktaking.csv", tag = "recommendations", params(StocktakingQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 401), (status = 403), (status = 422)))]
pub async fn stocktaking_csv(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<StocktakingQuery>,
) -> Result<HttpResponse, ApiError> {
    let (request, now) = (query.parse()?, state.clock.now());
    let bytes = state.db.read_consistent(move |c| super::stocktaking::stocktaking_csv(c, &actor, now, request)).await?;
    let day = request.as_of.map_or_else(|| "today".to_string(), |d| d.to_string());
    Ok(csv_attachment(&format!("stocktaking-{}-{day}.csv", request.body_id), bytes))
}

/// Every implementation record as it stands now, as CSV, with the list's filters
/// (`organisation_id`, `status` and `overdue` select records).
#[utoipa::path(get, path = "/api/recommendations/export.csv", tag = "recommendations", params(RecommendationQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 401), (status = 403), (status = 422)))]
pub async fn export_csv(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<RecommendationQuery>,
) -> Result<HttpResponse, ApiError> {
    let (query, now) = (query.into_inner(), state.clock.now());
    let bytes = state.db.read_consistent(move |c| super::stocktaking::export_csv(c, &actor, now, &query)).await?;
    Ok(csv_attachment("recommendations.csv", bytes))
}
