//! `/api/bodies` and `/api/terms`: thin handlers over [`super::service`] — extract, validate,
//! call with the clock's now, answer.

use actix_web::{HttpResponse, web};

use super::model::{
    ActingChair, ActingChairRequest, Body, BodySummary, BodyUpdate, ChairQuery, InOffice, Member, MemberInput, NewBody,
    NewTerm, Term, TermUpdate, ValidNewBody,
};
use super::service;
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::http::error::ApiError;

/// Every body, parents before children, with who holds its offices today.
#[utoipa::path(get, path = "/api/bodies", tag = "bodies",
    responses((status = 200, body = Vec<BodySummary>), (status = 401), (status = 403)))]
pub async fn list(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let out = state.db.read_consistent(move |c| service::list(c, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Creates a body (the secretariat's administrators, or the chair of the parent body).
#[utoipa::path(post, path = "/api/bodies", tag = "bodies", request_body = NewBody,
    responses((status = 201, body = Body), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewBody>,
) -> Result<HttpResponse, ApiError> {
    let input = ValidNewBody::try_from(body.into_inner())?;
    let now = state.clock.now();
    let out = state.db.write(move |c| service::create(c, &actor, now, input)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// One body: mandate, members, who is in office, the next handover and, for its chair and the
/// secretariat, what needs attention.
#[utoipa::path(get, path = "/api/bodies/{id}", tag = "bodies", params(("id" = i64, Path)),
    responses((status = 200, body = Body), (status = 401), (status = 403), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let out = state.db.read_consistent(move |c| service::view(c, &actor, id, now)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Changes a body (its chair, or the secretariat).
#[utoipa::path(patch, path = "/api/bodies/{id}", tag = "bodies", params(("id" = i64, Path)), request_body = BodyUpdate,
    responses((status = 200, body = Body), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<BodyUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, input, now) = (path.into_inner(), body.into_inner(), state.clock.now());
    let out = state.db.write(move |c| service::update(c, &actor, now, id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Adds an organisation to a body, or changes its membership (dates, provisional).
#[utoipa::path(put, path = "/api/bodies/{id}/members/{organisation_id}", tag = "bodies",
    params(("id" = i64, Path), ("organisation_id" = i64, Path)), request_body = MemberInput,
    responses((status = 200, body = Member), (status = 201, body = Member), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn put_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
    body: web::Json<MemberInput>,
) -> Result<HttpResponse, ApiError> {
    let ((id, org), input, now) = (path.into_inner(), body.into_inner(), state.clock.now());
    let (member, created) = state.db.write(move |c| service::put_member(c, &actor, now, id, org, input)).await?;
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(member))
}

/// Removes an organisation from a body.
#[utoipa::path(delete, path = "/api/bodies/{id}/members/{organisation_id}", tag = "bodies",
    params(("id" = i64, Path), ("organisation_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
pub async fn remove_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let ((id, org), now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::remove_member(c, &actor, now, id, org)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every term of a body's offices, past and future, oldest first.
#[utoipa::path(get, path = "/api/bodies/{id}/terms", tag = "bodies", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Term>), (status = 401), (status = 403), (status = 404)))]
pub async fn list_terms(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let out = state.db.read_consistent(move |c| service::list_terms(c, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Adds a term of office (the chair, or the secretariat). The rotation creates what follows.
#[utoipa::path(post, path = "/api/bodies/{id}/terms", tag = "bodies", params(("id" = i64, Path)), request_body = NewTerm,
    responses((status = 201, body = Term), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn add_term(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<NewTerm>,
) -> Result<HttpResponse, ApiError> {
    let (id, input, now) = (path.into_inner(), body.into_inner(), state.clock.now());
    let out = state.db.write(move |c| service::add_term(c, &actor, now, id, input)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// Changes a term — a postponement, an extension by decision, a withdrawal, a cancellation —
/// with a reason, which the audit log keeps.
#[utoipa::path(patch, path = "/api/terms/{id}", tag = "bodies", params(("id" = i64, Path)), request_body = TermUpdate,
    responses((status = 200, body = Term), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn change_term(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<TermUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, input, now) = (path.into_inner(), body.into_inner(), state.clock.now());
    let out = state.db.write(move |c| service::change_term(c, &actor, now, id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Who held (or will hold) the body's offices on a date (`?at=YYYY-MM-DD`, default today).
#[utoipa::path(get, path = "/api/bodies/{id}/chair", tag = "bodies", params(("id" = i64, Path), ChairQuery),
    responses((status = 200, body = InOffice), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn chair(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    query: web::Query<ChairQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, at, now) = (path.into_inner(), query.at, state.clock.now());
    let out = state.db.read_consistent(move |c| service::chair_at(c, &actor, id, at, now)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Makes the vice-chair acting chair, with the chair's powers (the chair, or the secretariat).
#[utoipa::path(post, path = "/api/bodies/{id}/acting-chair", tag = "bodies", params(("id" = i64, Path)),
    request_body = ActingChairRequest,
    responses((status = 201, body = ActingChair), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn start_acting(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<ActingChairRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, reason, now) = (path.into_inner(), body.into_inner().reason, state.clock.now());
    let out = state.db.write(move |c| service::start_acting(c, &actor, now, id, &reason)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// Ends the vice-chair's acting (the chair, the vice-chair, or the secretariat).
#[utoipa::path(delete, path = "/api/bodies/{id}/acting-chair", tag = "bodies", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
pub async fn end_acting(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::end_acting(c, &actor, now, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
