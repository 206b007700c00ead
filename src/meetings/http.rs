//! `/api/meetings`, `/api/agenda-items`, `/api/documents`, `/api/home` and the calendars: thin
//! handlers over [`super::service`] — extract, call with the clock's now, answer, and wake the
//! live feed after a change committed.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{
    Agenda, AgendaItem, CurrentItemRequest, Document, Home, ItemMove, ItemUpdate, Meeting, MeetingQuery, MeetingState,
    MeetingSummary, MeetingUpdate, NewItem, NewMeeting, UploadQuery,
};
use super::{documents, service};
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::http::error::ApiError;

/// Meetings the caller may see, soonest first.
#[utoipa::path(get, path = "/api/meetings", tag = "meetings", params(MeetingQuery),
    responses((status = 200, body = Vec<MeetingSummary>), (status = 401), (status = 422)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<MeetingQuery>,
) -> Result<HttpResponse, ApiError> {
    let (now, q) = (state.clock.now(), query.into_inner());
    let out = state.db.read_consistent(move |c| service::list(c, &actor, now, q.body_id, q.when.as_deref())).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Creates a meeting of a body (its chair, or the secretariat), not yet convened.
#[utoipa::path(post, path = "/api/meetings", tag = "meetings", request_body = NewMeeting,
    responses((status = 201, body = Meeting), (status = 401), (status = 403), (status = 422)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewMeeting>,
) -> Result<HttpResponse, ApiError> {
    let (now, input) = (state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| service::create(c, &actor, now, input)).await?;
    Ok(HttpResponse::Created().json(out))
}

/// One meeting.
#[utoipa::path(get, path = "/api/meetings/{id}", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Meeting), (status = 401), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let out = state.db.read_consistent(move |c| service::find(c, &actor, id, now)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Changes a meeting's title, venue, link, time zone or dates.
#[utoipa::path(patch, path = "/api/meetings/{id}", tag = "meetings", params(("id" = i64, Path)), request_body = MeetingUpdate,
    responses((status = 200, body = Meeting), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<MeetingUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input, mail) = (path.into_inner(), state.clock.now(), body.into_inner(), state.mail_context());
    let out = state.db.write(move |c| service::update(c, &actor, now, id, input, &mail)).await?;
    state.mailer.wake();
    state.meetings.wake(id).await;
    Ok(HttpResponse::Ok().json(out))
}

async fn transition(
    state: web::Data<AppState>,
    actor: Actor,
    id: i64,
    to: MeetingState,
) -> Result<HttpResponse, ApiError> {
    let (now, mail) = (state.clock.now(), state.mail_context());
    let out = state.db.write(move |c| service::transition(c, &actor, now, id, to, &mail)).await?;
    state.mailer.wake();
    state.meetings.wake(id).await;
    Ok(HttpResponse::Ok().json(out))
}

/// Convenes the meeting: every invited delegation is mailed the agenda and the calendar event.
#[utoipa::path(post, path = "/api/meetings/{id}/convene", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Meeting), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn convene(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    transition(state, actor, path.into_inner(), MeetingState::Convened).await
}

/// Opens the meeting: it is in session.
#[utoipa::path(post, path = "/api/meetings/{id}/open", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Meeting), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn open(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    transition(state, actor, path.into_inner(), MeetingState::InSession).await
}

/// Closes the meeting.
#[utoipa::path(post, path = "/api/meetings/{id}/close", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Meeting), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn close(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    transition(state, actor, path.into_inner(), MeetingState::Closed).await
}

/// Cancels a meeting that has not opened.
#[utoipa::path(post, path = "/api/meetings/{id}/cancel", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Meeting), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn cancel(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    transition(state, actor, path.into_inner(), MeetingState::Cancelled).await
}

/// Invites a guest organisation to this meeting only.
#[utoipa::path(put, path = "/api/meetings/{id}/guests/{organisation_id}", tag = "meetings",
    params(("id" = i64, Path), ("organisation_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn invite_guest(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let ((id, org), now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::set_guest(c, &actor, now, id, org, true)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Withdraws a guest organisation's invitation.
#[utoipa::path(delete, path = "/api/meetings/{id}/guests/{organisation_id}", tag = "meetings",
    params(("id" = i64, Path), ("organisation_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn remove_guest(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let ((id, org), now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::set_guest(c, &actor, now, id, org, false)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers a delegate of one's own delegation to attend.
#[utoipa::path(put, path = "/api/meetings/{id}/attendance/{user_id}", tag = "meetings",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn register(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let ((id, user), now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::set_attendance(c, &actor, now, id, user, true)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Withdraws a delegate's registration.
#[utoipa::path(delete, path = "/api/meetings/{id}/attendance/{user_id}", tag = "meetings",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn unregister(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let ((id, user), now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::set_attendance(c, &actor, now, id, user, false)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// The agenda, as the caller may see it.
#[utoipa::path(get, path = "/api/meetings/{id}/agenda", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Agenda), (status = 401), (status = 404)))]
pub async fn agenda(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let restricted = service::restricted(&actor);
    let json = match state.agendas.get(id, &actor, restricted) {
        Some(json) => {
            state.metrics.agenda_reads[0].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            json
        }
        None => {
            let epoch = state.agendas.epoch();
            let (agenda, facts) = state.db.read_consistent(move |c| service::agenda(c, &actor, id, now)).await?;
            let json = web::Bytes::from(serde_json::to_vec(&agenda).map_err(ApiError::internal)?);
            state.agendas.put(id, epoch, facts, restricted, json.clone());
            state.metrics.agenda_reads[1].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            json
        }
    };
    Ok(HttpResponse::Ok().insert_header(header::ContentType::json()).body(json))
}

/// Adds an item at the end of its parent's list.
#[utoipa::path(post, path = "/api/meetings/{id}/agenda", tag = "meetings", params(("id" = i64, Path)), request_body = NewItem,
    responses((status = 201, body = AgendaItem), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn add_item(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<NewItem>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input) = (path.into_inner(), state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| service::add_item(c, &actor, now, id, input)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::Created().json(out))
}

/// Adopts the agenda; later changes are recorded as amendments.
#[utoipa::path(post, path = "/api/meetings/{id}/agenda/adopt", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, body = Agenda), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn adopt(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let out = state.db.write(move |c| service::adopt_agenda(c, &actor, now, id)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::Ok().json(out))
}

/// Moves one item under a parent, at a position; the agenda renumbers.
#[utoipa::path(post, path = "/api/meetings/{id}/agenda/order", tag = "meetings", params(("id" = i64, Path)), request_body = ItemMove,
    responses((status = 200, body = Agenda), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn order(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<ItemMove>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input) = (path.into_inner(), state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| service::move_item(c, &actor, now, id, input)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::Ok().json(out))
}

/// Puts an item on the floor (`item_id: null`: none); the previous one is done.
#[utoipa::path(post, path = "/api/meetings/{id}/current-item", tag = "meetings", params(("id" = i64, Path)),
    request_body = CurrentItemRequest,
    responses((status = 200, body = Agenda), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn current_item(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<CurrentItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, item) = (path.into_inner(), state.clock.now(), body.into_inner().item_id);
    let out = state.db.write(move |c| service::set_current(c, &actor, now, id, item)).await?;
    state.meetings.wake(id).await;
    Ok(HttpResponse::Ok().json(out))
}

async fn meeting_of_item(state: &AppState, item: i64) -> Option<i64> {
    use diesel::prelude::*;
    state
        .db
        .read(move |c| {
            Ok(crate::db::schema::agenda_items::table
                .find(item)
                .select(crate::db::schema::agenda_items::meeting_id)
                .first::<i64>(c)
                .optional()?)
        })
        .await
        .ok()
        .flatten()
}

/// Changes an agenda item.
#[utoipa::path(patch, path = "/api/agenda-items/{id}", tag = "meetings", params(("id" = i64, Path)), request_body = ItemUpdate,
    responses((status = 200, body = AgendaItem), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update_item(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<ItemUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, input) = (path.into_inner(), state.clock.now(), body.into_inner());
    let out = state.db.write(move |c| service::update_item(c, &actor, now, id, input)).await?;
    if let Some(meeting) = meeting_of_item(&state, id).await {
        state.meetings.wake(meeting).await;
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Removes an agenda item that has no sub-items.
#[utoipa::path(delete, path = "/api/agenda-items/{id}", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn delete_item(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let meeting = meeting_of_item(&state, id).await;
    state.db.write(move |c| service::delete_item(c, &actor, now, id)).await?;
    if let Some(meeting) = meeting {
        state.meetings.wake(meeting).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Attaches a document to an item: the raw file as the body, its name as `?filename=`.
#[utoipa::path(post, path = "/api/agenda-items/{id}/documents", tag = "meetings", params(("id" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Document), (status = 401), (status = 403), (status = 404), (status = 409), (status = 413),
    (status = 415), (status = 422)))]
pub async fn upload(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<i64>,
    query: web::Query<UploadQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let declared = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let file = documents::check(&query.filename, declared.as_deref(), body.to_vec(), state.config.upload_limit)?;
    let (id, now) = (path.into_inner(), state.clock.now());
    let out = state.db.write(move |c| service::add_document(c, &actor, now, id, file)).await?;
    if let Some(meeting) = meeting_of_item(&state, id).await {
        state.meetings.wake(meeting).await;
    }
    Ok(HttpResponse::Created().json(out))
}

/// Downloads a document (as an attachment, with the type decided at upload).
#[utoipa::path(get, path = "/api/documents/{id}", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 401), (status = 404)))]
pub async fn download(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let (filename, content_type, data) = state.db.read(move |c| service::document(c, &actor, now, id)).await?;
    Ok(crate::http::attachment(&filename, content_type, data))
}

/// Removes a document.
#[utoipa::path(delete, path = "/api/documents/{id}", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn delete_document(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let who = actor.clone();
    let item = state
        .db
        .read(move |c| {
            use diesel::prelude::*;
            Ok(crate::db::schema::agenda_documents::table
                .find(id)
                .select(crate::db::schema::agenda_documents::item_id)
                .first::<i64>(c)
                .optional()?)
        })
        .await?;
    state.db.write(move |c| service::delete_document(c, &who, now, id)).await?;
    if let Some(item) = item
        && let Some(meeting) = meeting_of_item(&state, item).await
    {
        state.meetings.wake(meeting).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Links a draft to an agenda item (its guests may then read it).
#[utoipa::path(put, path = "/api/agenda-items/{id}/drafts/{draft_id}", tag = "meetings",
    params(("id" = i64, Path), ("draft_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn link_draft(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let ((item, draft), now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::link_draft(c, &actor, now, item, draft, true)).await?;
    if let Some(meeting) = meeting_of_item(&state, item).await {
        state.meetings.wake(meeting).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Unlinks a draft from an agenda item.
#[utoipa::path(delete, path = "/api/agenda-items/{id}/drafts/{draft_id}", tag = "meetings",
    params(("id" = i64, Path), ("draft_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn unlink_draft(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let ((item, draft), now) = (path.into_inner(), state.clock.now());
    state.db.write(move |c| service::link_draft(c, &actor, now, item, draft, false)).await?;
    if let Some(meeting) = meeting_of_item(&state, item).await {
        state.meetings.wake(meeting).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

fn calendar_response(ics: String, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}.ics\"")))
        .body(ics)
}

/// The meeting as an iCalendar event.
#[utoipa::path(get, path = "/api/meetings/{id}/calendar.ics", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 401), (status = 404)))]
pub async fn meeting_calendar(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, url) = (path.into_inner(), state.clock.now(), state.config.public_url.clone());
    let ics = state.db.read_consistent(move |c| service::calendar_of_meeting(c, &actor, id, now, &url)).await?;
    Ok(calendar_response(ics, &format!("meeting-{id}")))
}

/// Every meeting of a body the caller may see, as a subscribable iCalendar feed.
#[utoipa::path(get, path = "/api/bodies/{id}/calendar.ics", tag = "meetings", params(("id" = i64, Path)),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 401), (status = 403), (status = 404)))]
pub async fn body_calendar(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, url) = (path.into_inner(), state.clock.now(), state.config.public_url.clone());
    let ics = state.db.read_consistent(move |c| service::calendar_of_body(c, &actor, id, now, &url)).await?;
    Ok(calendar_response(ics, &format!("body-{id}")))
}

/// The caller's "today": meetings in session and upcoming, open drafts, what needs them.
#[utoipa::path(get, path = "/api/home", tag = "meetings", responses((status = 200, body = Home), (status = 401)))]
pub async fn home(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let out = state.db.read_consistent(move |c| service::home(c, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(out))
}
