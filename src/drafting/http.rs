//! `/api/drafts`: thin handlers over [`super::service`] — extract, call, answer.

use actix_web::{HttpResponse, web};

use super::model::{Draft, DraftRow, DraftSummary, DraftUpdate, NewDraft, ValidDraftUpdate, ValidNewDraft};
use super::service;
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::page::{Page, PageQuery};
use crate::policy::{Action, authorize};

/// The draft as the caller sees it: the live text if the room is loaded here, else the stored one.
async fn view(state: &AppState, actor: &Actor, row: DraftRow) -> Result<Draft, ApiError> {
    let can_edit = authorize(actor, &Action::EditDraft { locked: !row.writable() }).is_ok();
    let id = row.id;
    let (text, connected) = match state.hub.view(id).await {
        Some(live) => (live.text, live.connected),
        None => (state.db.read_consistent(move |c| service::stored_text(c, id)).await?, Vec::new()),
    };
    let brackets = super::brackets::parse(&text);
    Ok(Draft { summary: row.into(), text, connected, can_edit, brackets })
}

/// Lists drafts, newest first.
#[utoipa::path(get, path = "/api/drafts", tag = "drafting", params(PageQuery),
    responses((status = 200, body = Page<DraftSummary>), (status = 401), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, before) = (query.limit()?, query.after()?);
    let rows = state.db.read(move |c| service::list(c, &actor, limit, before)).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |r| r.id, DraftSummary::from)))
}

/// Opens a new draft (participants' delegates and secretariat administrators).
#[utoipa::path(post, path = "/api/drafts", tag = "drafting", request_body = NewDraft,
    responses((status = 201, body = Draft), (status = 401), (status = 403), (status = 422)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewDraft>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::CreateDraft)?;
    let input = ValidNewDraft::try_from(body.into_inner())?;
    let (who, now) = (actor.clone(), state.clock.naive());
    let row = state.db.write(move |c| service::create(c, &who, now, input)).await?;
    Ok(HttpResponse::Created().json(view(&state, &actor, row).await?))
}

/// One draft with its current text and who is connected.
#[utoipa::path(get, path = "/api/drafts/{id}", tag = "drafting", params(("id" = i64, Path)),
    responses((status = 200, body = Draft), (status = 401), (status = 403), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, who) = (path.into_inner(), actor.clone());
    let row = state.db.read(move |c| service::find(c, &who, id)).await?;
    Ok(HttpResponse::Ok().json(view(&state, &actor, row).await?))
}

/// Renames a draft or locks and unlocks it (the chair of its body, or the secretariat's
/// administrators).
#[utoipa::path(patch, path = "/api/drafts/{id}", tag = "drafting", params(("id" = i64, Path)), request_body = DraftUpdate,
    responses((status = 200, body = Draft), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<DraftUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, input) = (path.into_inner(), ValidDraftUpdate::try_from(body.into_inner())?);
    let (who, now) = (actor.clone(), state.clock.naive());
    let row = state.db.write(move |c| service::update(c, &who, now, id, input)).await?;
    state.hub.set_locked(id, !row.writable()).await;
    Ok(HttpResponse::Ok().json(view(&state, &actor, row).await?))
}
