//! `/api/drafts`: thin handlers over [`super::service`] — extract, call, answer.

use actix_web::{HttpResponse, web};

use super::model::{Draft, DraftRow, DraftSummary, DraftUpdate, NewDraft, ValidDraftUpdate, ValidNewDraft};
use super::service;
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::page::PageQuery;
use crate::page::Page;
use crate::policy::{Action, authorize};

/// The draft as the caller sees it: the live text if the room is loaded here, else the stored one.
async fn view(state: &AppState, actor: &Actor, row: DraftRow) -> Result<Draft, ApiError> {
    let id = row.id;
    let (text, connected) = match state.hub.view(id).await {
        Some(live) => (live.text, live.connected),
        None => (state.db.read_consistent(move |c| service::stored_text(c, id)).await?, Vec::new()),
    };
    let brackets = super::brackets::parse(&text);
    let (who, now) = (actor.clone(), state.clock.now());
    let (summary, rights) = state
        .db
        .read(move |c| {
            let rights = service::rights(c, &who, &row, now)?;
            Ok((service::summary(c, &who, now, row)?, rights))
        })
        .await?;
    Ok(Draft { summary, text, connected, rights, brackets })
}

/// The live feed of the meeting whose agenda item the draft belongs to shows the item's drafts.
async fn wake_agenda(state: &AppState, row: &DraftRow) {
    if let (Some(meeting), Some(_)) = (row.meeting_id, row.agenda_item_id) {
        state.meetings.wake(meeting).await;
    }
}

/// Lists drafts, newest first.
#[utoipa::path(get, path = "/api/drafts", tag = "drafting", params(PageQuery),
    responses((status = 200, body = Page<DraftSummary>), (status = 401), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, before, now) = (query.limit()?, query.after()?, state.clock.now());
    let drafts = state
        .db
        .read(move |c| {
            let rows = service::list(c, &actor, limit, before)?;
            service::summaries(c, &actor, now, rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(drafts, limit, |d| d.id, |d| d)))
}

/// Opens a new draft (participants' delegates and secretariat administrators), optionally
/// belonging to a meeting of its body and an item of that meeting's agenda.
#[utoipa::path(post, path = "/api/drafts", tag = "drafting", request_body = NewDraft,
    responses((status = 201, body = Draft), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewDraft>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::CreateDraft)?;
    let input = ValidNewDraft::try_from(body.into_inner())?;
    let (who, now) = (actor.clone(), state.clock.naive());
    let row = state.db.write(move |c| service::create(c, &who, now, input)).await?;
    wake_agenda(&state, &row).await;
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

/// Renames a draft, locks and unlocks it, or changes the meeting and agenda item it belongs to
/// (the chair of its body, or the secretariat's administrators).
#[utoipa::path(patch, path = "/api/drafts/{id}", tag = "drafting", params(("id" = i64, Path)), request_body = DraftUpdate,
    responses((status = 200, body = Draft), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<DraftUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, input) = (path.into_inner(), ValidDraftUpdate::try_from(body.into_inner())?);
    let (who, now) = (actor.clone(), state.clock.naive());
    let row = state.db.write(move |c| service::update(c, &who, now, id, input)).await?;
    state.draft_stepped(id).await;
    Ok(HttpResponse::Ok().json(view(&state, &actor, row).await?))
}
