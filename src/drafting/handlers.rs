//! `/api/drafts`: create, list, read and change decision drafts.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store;
use crate::app::AppState;
use crate::audit::{self, AuditEntry};
use crate::db::schema::drafts;
use crate::db::{DbConnection, now};
use crate::http::actor::Actor;
use crate::http::error::{ApiError, FieldError};
use crate::http::page::{Page, PageQuery};
use crate::http::validate;
use crate::policy::{Action, authorize};
use crate::realtime::room::Connected;

/// Where a draft is in its life. (Adoption, written procedure and withdrawal come with decisions.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    /// Participants' delegates edit the text live.
    Drafting,
    /// Read-only for everyone.
    Locked,
}

impl DraftState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Drafting => "drafting",
            Self::Locked => "locked",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "drafting" { Self::Drafting } else { Self::Locked }
    }
}

/// A row of `drafts`.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = drafts)]
pub struct DraftRow {
    pub id: i64,
    pub title: String,
    pub reference: String,
    pub state: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A draft in a list.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct DraftSummary {
    pub id: i64,
    pub title: String,
    /// The owning body or meeting, as free text for now (e.g. "Brussels Plenary 2007").
    pub reference: String,
    pub state: DraftState,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DraftRow> for DraftSummary {
    fn from(r: DraftRow) -> Self {
        Self {
            id: r.id,
            title: r.title,
            reference: r.reference,
            state: DraftState::parse(&r.state),
            created_by: r.created_by,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A draft with its current text and who is in the room.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct Draft {
    #[serde(flatten)]
    pub summary: DraftSummary,
    /// The current plain text of the shared `Y.Text` named `content`.
    pub text: String,
    /// People connected to the drafting room (on this server instance).
    pub connected: Vec<Connected>,
    /// Whether the caller may change the text right now.
    pub can_edit: bool,
}

/// A new draft.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDraft {
    pub title: String,
    /// The owning body or meeting.
    #[serde(default)]
    pub reference: String,
}

/// Changes to a draft.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftUpdate {
    pub title: Option<String>,
    pub reference: Option<String>,
    /// `locked` makes the text read-only for everyone, at once, in the live room too.
    pub state: Option<DraftState>,
}

fn parse_title(raw: &str) -> Result<String, FieldError> {
    validate::text("title", raw, 300, true)
}

fn parse_reference(raw: &str) -> Result<String, FieldError> {
    validate::text("reference", raw, 300, false)
}

/// Loads a draft row; 404 if there is none.
pub fn load(conn: &mut DbConnection, id: i64) -> Result<DraftRow, ApiError> {
    drafts::table
        .find(id)
        .select(DraftRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no draft {id}")))
}

/// Creates a draft row (and its audit entry) with an initial text; used by the API and the demo.
pub fn insert(
    conn: &mut DbConnection,
    created_by: i64,
    title: &str,
    reference: &str,
    text: &str,
) -> Result<i64, ApiError> {
    let at = now();
    let id: i64 = diesel::insert_into(drafts::table)
        .values((
            drafts::title.eq(title),
            drafts::reference.eq(reference),
            drafts::state.eq(DraftState::Drafting.as_str()),
            drafts::created_by.eq(created_by),
            drafts::created_at.eq(at),
            drafts::updated_at.eq(at),
        ))
        .returning(drafts::id)
        .get_result(conn)?;
    if !text.is_empty() {
        use yrs::{Doc, Text, Transact};
        let doc = Doc::new();
        let content = doc.get_or_insert_text(store::TEXT_NAME);
        let mut txn = doc.transact_mut();
        content.insert(&mut txn, 0, text);
        let update = txn.encode_update_v1();
        drop(txn);
        store::append(conn, id, 0, &[store::NewUpdate { user_id: created_by, data: update }], 0)?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a new draft's first sequence number was taken")))?;
    }
    Ok(id)
}

async fn view(state: &AppState, actor: &Actor, row: DraftRow) -> Result<Draft, ApiError> {
    let locked = DraftState::parse(&row.state) == DraftState::Locked;
    let can_edit = authorize(actor, &Action::EditDraft { locked }).is_ok();
    let id = row.id;
    let (text, connected) = match state.hub.view(id).await {
        Some(live) => (live.text, live.connected),
        None => {
            let text = state.db.read_consistent(move |c| Ok(store::text_of(&store::load(c, id)?.to_doc()?))).await?;
            (text, Vec::new())
        }
    };
    Ok(Draft { summary: row.into(), text, connected, can_edit })
}

/// Lists drafts, newest first.
#[utoipa::path(get, path = "/api/drafts", tag = "drafting", params(PageQuery),
    responses((status = 200, body = Page<DraftSummary>), (status = 401), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ReadDraft)?;
    let (limit, before) = (query.limit()?, query.after()?);
    let rows = state
        .db
        .read(move |c| {
            let mut q =
                drafts::table.select(DraftRow::as_select()).order(drafts::id.desc()).limit(limit + 1).into_boxed();
            if let Some(before) = before {
                q = q.filter(drafts::id.lt(before));
            }
            Ok(q.load(c)?)
        })
        .await?;
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
    let body = body.into_inner();
    let mut errors = Vec::new();
    let title = parse_title(&body.title).map_err(|e| errors.push(e)).ok();
    let reference = parse_reference(&body.reference).map_err(|e| errors.push(e)).ok();
    ApiError::check(errors)?;
    let (Some(title), Some(reference)) = (title, reference) else {
        return Err(ApiError::invalid("body", "invalid draft"));
    };
    let who = actor.clone();
    let row = state
        .db
        .write(move |c| {
            let id = insert(c, who.user_id, &title, &reference, "")?;
            let row = load(c, id)?;
            audit::record(
                c,
                AuditEntry::by(&who, "draft.create", "draft", id)
                    .created(&serde_json::json!({"title": row.title, "reference": row.reference, "state": row.state})),
            )?;
            Ok(row)
        })
        .await?;
    let draft = view(&state, &actor, row).await?;
    Ok(HttpResponse::Created().json(draft))
}

/// One draft with its current text and who is connected.
#[utoipa::path(get, path = "/api/drafts/{id}", tag = "drafting", params(("id" = i64, Path)),
    responses((status = 200, body = Draft), (status = 401), (status = 403), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ReadDraft)?;
    let id = path.into_inner();
    let row = state.db.read(move |c| load(c, id)).await?;
    Ok(HttpResponse::Ok().json(view(&state, &actor, row).await?))
}

/// Renames a draft or locks and unlocks it (secretariat administrators for now; the chair with
/// the decisions issue).
#[utoipa::path(patch, path = "/api/drafts/{id}", tag = "drafting", params(("id" = i64, Path)), request_body = DraftUpdate,
    responses((status = 200, body = Draft), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<DraftUpdate>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ManageDraft)?;
    let (id, body) = (path.into_inner(), body.into_inner());
    let title = body.title.as_deref().map(parse_title).transpose()?;
    let reference = body.reference.as_deref().map(parse_reference).transpose()?;
    let who = actor.clone();
    let row = state
        .db
        .write(move |c| {
            let before = load(c, id)?;
            diesel::update(drafts::table.find(id))
                .set((
                    drafts::title.eq(title.unwrap_or_else(|| before.title.clone())),
                    drafts::reference.eq(reference.unwrap_or_else(|| before.reference.clone())),
                    drafts::state.eq(body.state.map(DraftState::as_str).unwrap_or(&before.state)),
                    drafts::updated_at.eq(now()),
                ))
                .execute(c)?;
            let after = load(c, id)?;
            let json = |r: &DraftRow| serde_json::json!({"title": r.title, "reference": r.reference, "state": r.state});
            audit::record(c, AuditEntry::by(&who, "draft.update", "draft", id).diff(&json(&before), &json(&after)))?;
            Ok(after)
        })
        .await?;
    state.hub.set_locked(id, DraftState::parse(&row.state) == DraftState::Locked).await;
    Ok(HttpResponse::Ok().json(view(&state, &actor, row).await?))
}
