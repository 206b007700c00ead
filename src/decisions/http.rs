//! The decision steps on `/api/drafts/{id}/…` and the register at `/api/decisions`: thin
//! handlers over [`super::service`]. After a step, the live room of the draft and the meetings
//! linking it are told (`AppState::draft_stepped`; other instances by NOTIFY).

use actix_web::{HttpResponse, web};

use super::model::{
    CallForObjections, Decision, DecisionQuery, Diff, DiffQuery, NewObjection, NewVersion, Objection, Version,
    VersionSummary, WrittenProcedureRequest,
};
use super::service;
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::drafting::model::DraftSummary;
use crate::drafting::service::summary;
use crate::http::error::ApiError;

async fn stepped(state: &AppState, draft: DraftSummary) -> HttpResponse {
    state.draft_stepped(draft.id).await;
    HttpResponse::Ok().json(draft)
}

/// Final reading: the clean text is read out and no longer edited (409 with the open brackets).
#[utoipa::path(post, path = "/api/drafts/{id}/final-reading", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, body = DraftSummary), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn final_reading(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let draft = state
        .db
        .write(move |c| service::final_reading(c, &actor, now, id).and_then(|row| summary(c, &actor, now, row)))
        .await?;
    Ok(stepped(&state, draft).await)
}

/// Back to drafting (from final reading, a call for objections, or broken silence).
#[utoipa::path(post, path = "/api/drafts/{id}/reopen", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, body = DraftSummary), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn reopen(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let draft = state
        .db
        .write(move |c| service::reopen(c, &actor, now, id).and_then(|row| summary(c, &actor, now, row)))
        .await?;
    Ok(stepped(&state, draft).await)
}

/// Calls for objections on the clean text, for `minutes` if given.
#[utoipa::path(post, path = "/api/drafts/{id}/call-for-objections", tag = "decisions", params(("id" = i64, Path)),
    request_body = CallForObjections,
    responses((status = 200, body = DraftSummary), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn call_for_objections(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<CallForObjections>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, minutes) = (path.into_inner(), state.clock.now(), body.into_inner().minutes);
    let draft = state
        .db
        .write(move |c| {
            service::call_for_objections(c, &actor, now, id, minutes).and_then(|row| summary(c, &actor, now, row))
        })
        .await?;
    Ok(stepped(&state, draft).await)
}

/// Objects (which returns the draft to drafting, or breaks silence) or abstains.
#[utoipa::path(post, path = "/api/drafts/{id}/objections", tag = "decisions", params(("id" = i64, Path)),
    request_body = NewObjection,
    responses((status = 200, body = DraftSummary), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn object(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<NewObjection>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input, ctx) = (path.into_inner(), state.clock.now(), body.into_inner(), state.decision_context());
    let draft = state
        .db
        .write(move |c| service::object(c, &actor, now, id, input, &ctx).and_then(|row| summary(c, &actor, now, row)))
        .await?;
    Ok(stepped(&state, draft).await)
}

/// The objections and abstentions recorded on a draft.
#[utoipa::path(get, path = "/api/drafts/{id}/objections", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Objection>), (status = 401), (status = 403), (status = 404)))]
pub async fn objections(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let out = state.db.read(move |c| service::objections(c, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Declares adoption after a call for objections that met none: the numbered, frozen decision.
#[utoipa::path(post, path = "/api/drafts/{id}/adopt", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 201, body = Decision), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn adopt(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, now, ctx) = (path.into_inner(), state.clock.now(), state.decision_context());
    let decision = state.db.write(move |c| service::adopt(c, &actor, now, id, &ctx)).await?;
    state.draft_stepped(id).await;
    Ok(HttpResponse::Created().json(decision))
}

/// Circulates the clean text in writing until a deadline (mailed to every participant).
#[utoipa::path(post, path = "/api/drafts/{id}/written-procedure", tag = "decisions", params(("id" = i64, Path)),
    request_body = WrittenProcedureRequest,
    responses((status = 200, body = DraftSummary), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn written_procedure(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<WrittenProcedureRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, deadline, ctx) =
        (path.into_inner(), state.clock.now(), body.into_inner().deadline, state.decision_context());
    let draft = state
        .db
        .write(move |c| {
            service::written_procedure(c, &actor, now, id, deadline, &ctx).and_then(|row| summary(c, &actor, now, row))
        })
        .await?;
    Ok(stepped(&state, draft).await)
}

/// Withdraws a draft that is not adopted.
#[utoipa::path(post, path = "/api/drafts/{id}/withdraw", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, body = DraftSummary), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn withdraw(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let draft = state
        .db
        .write(move |c| service::withdraw(c, &actor, now, id).and_then(|row| summary(c, &actor, now, row)))
        .await?;
    Ok(stepped(&state, draft).await)
}

/// The saved versions of a draft.
#[utoipa::path(get, path = "/api/drafts/{id}/versions", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<VersionSummary>), (status = 401), (status = 403), (status = 404)))]
pub async fn versions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let out = state.db.read(move |c| service::versions(c, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Saves the current text as a named version.
#[utoipa::path(post, path = "/api/drafts/{id}/versions", tag = "decisions", params(("id" = i64, Path)), request_body = NewVersion,
    responses((status = 201, body = VersionSummary), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn new_version(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<NewVersion>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, label) = (path.into_inner(), state.clock.now(), body.into_inner().label);
    let out = state.db.write(move |c| service::new_version(c, &actor, now, id, &label)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// One version with its text.
#[utoipa::path(get, path = "/api/drafts/{id}/versions/{n}", tag = "decisions", params(("id" = i64, Path), ("n" = i32, Path)),
    responses((status = 200, body = Version), (status = 401), (status = 403), (status = 404)))]
pub async fn version(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, n) = path.into_inner();
    let out = state.db.read(move |c| service::version(c, &actor, id, n)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The word-level diff from one version to another (or to the current text).
#[utoipa::path(get, path = "/api/drafts/{id}/diff", tag = "decisions", params(("id" = i64, Path), DiffQuery),
    responses((status = 200, body = Diff), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn diff(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    query: web::Query<DiffQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (path.into_inner(), query.into_inner());
    let out = state.db.read_consistent(move |c| service::diff_of(c, &actor, id, q.from, q.to)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The register of adopted decisions, newest first (`?body_id=&year=&q=`).
#[utoipa::path(get, path = "/api/decisions", tag = "decisions", params(DecisionQuery),
    responses((status = 200, body = Vec<Decision>), (status = 401), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<DecisionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let out = state.db.read(move |c| service::list(c, &actor, q.body_id, q.year, q.q.as_deref())).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// One adopted decision.
#[utoipa::path(get, path = "/api/decisions/{id}", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, body = Decision), (status = 401), (status = 403), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let out = state.db.read(move |c| service::find(c, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// One adopted decision as Markdown.
#[utoipa::path(get, path = "/api/decisions/{id}.md", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, description = "text/markdown", content_type = "text/markdown"), (status = 401), (status = 403), (status = 404)))]
pub async fn markdown(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let d = state.db.read(move |c| service::find(c, &actor, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/markdown; charset=utf-8"))
        .body(service::markdown(&d)))
}

/// The current text (or a version) as passages by author, with the legend of organisations.
#[utoipa::path(get, path = "/api/drafts/{id}/authorship", tag = "decisions", params(("id" = i64, Path), super::model::AuthorshipQuery),
    responses((status = 200, body = super::model::Authorship), (status = 401), (status = 403), (status = 404)))]
pub async fn authorship(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    query: web::Query<super::model::AuthorshipQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = (path.into_inner(), query.version);
    let out = state.db.read_consistent(move |c| service::authorship(c, &actor, id, version)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The meeting's report in Markdown: agenda as adopted and amended, attendance, decisions with
/// their text, objections and abstentions, drafts still open with their brackets.
#[utoipa::path(get, path = "/api/meetings/{id}/report.md", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, description = "text/markdown", content_type = "text/markdown"), (status = 401), (status = 404)))]
pub async fn report_markdown(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let doc = state.db.read_consistent(move |c| super::report::document(c, &actor, id, now)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/markdown; charset=utf-8"))
        .body(doc.markdown()))
}

/// The meeting's report as a print-ready HTML page.
#[utoipa::path(get, path = "/api/meetings/{id}/report.html", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, description = "text/html", content_type = "text/html"), (status = 401), (status = 404)))]
pub async fn report_html(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let doc = state.db.read_consistent(move |c| super::report::document(c, &actor, id, now)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(doc.html()))
}

/// Makes the meeting's report (as observers may see it) a draft of its body: the communiqué,
/// co-edited live and adopted like any decision (the chair, or the secretariat).
#[utoipa::path(post, path = "/api/meetings/{id}/report", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 201, body = DraftSummary), (status = 401), (status = 403), (status = 404)))]
pub async fn report_draft(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let draft = state
        .db
        .write(move |c| service::draft_report(c, &actor, now, id).and_then(|row| summary(c, &actor, now, row)))
        .await?;
    Ok(HttpResponse::Created().json(draft))
}

/// Declares that the draft, once adopted, amends or repeals an adopted decision (the chair).
#[utoipa::path(post, path = "/api/drafts/{id}/relations", tag = "decisions", params(("id" = i64, Path)),
    request_body = super::model::NewRelation,
    responses((status = 200, body = Vec<super::model::DecisionLink>), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn relate(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<super::model::NewRelation>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input) = (path.into_inner(), state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| service::relate(c, &actor, now, id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// One adopted decision as a print-ready HTML page: number, title, adoption, what it amends or
/// repeals, its text, and what has amended or repealed it.
#[utoipa::path(get, path = "/api/decisions/{id}.html", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, description = "text/html", content_type = "text/html"), (status = 401), (status = 403), (status = 404)))]
pub async fn html(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let d = state.db.read(move |c| service::find(c, &actor, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(super::document::decision(&d).html()))
}

/// One adopted decision as a PDF document (an attachment).
#[utoipa::path(get, path = "/api/decisions/{id}.pdf", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"), (status = 401), (status = 403), (status = 404)))]
pub async fn pdf(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let d = state.db.read(move |c| service::find(c, &actor, id)).await?;
    let name = super::document::file_name(&d.number, &format!("decision-{id}"), "pdf");
    pdf_attachment(super::document::decision(&d), name).await
}

/// The meeting's report as a PDF document (an attachment), with the same content as
/// `report.md` and `report.html` for the same reader.
#[utoipa::path(get, path = "/api/meetings/{id}/report.pdf", tag = "decisions", params(("id" = i64, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"), (status = 401), (status = 404)))]
pub async fn report_pdf(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let doc = state.db.read_consistent(move |c| super::report::document(c, &actor, id, now)).await?;
    pdf_attachment(doc, format!("meeting-{id}-report.pdf")).await
}

/// Renders `doc` on the blocking pool (laying out a long report is CPU work) and answers it as
/// a download named `file_name`.
async fn pdf_attachment(doc: super::document::Document, file_name: String) -> Result<HttpResponse, ApiError> {
    use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
    let bytes = actix_web::rt::task::spawn_blocking(move || super::pdf::render(&doc))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))??;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(file_name)],
        })
        .body(bytes))
}
