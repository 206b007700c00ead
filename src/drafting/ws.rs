//! `GET /api/drafts/{id}/ws`: the sync websocket. Authorised before the upgrade: no or bad
//! token → 401, no read access → 403, unknown draft → 404; never a socket first.

use actix_web::{HttpRequest, HttpResponse, web};

use super::service;
use crate::accounts::actor::Actor;
use crate::accounts::sessions;
use crate::app::AppState;
use crate::drafting::model::TextGate;
use crate::http::error::ApiError;
use crate::http::upgrade;
use crate::policy::{Action, Standing, authorize};
use crate::realtime::connection::{self, Access};
use crate::realtime::room::Participant;

/// `?events=stage`: besides the y-protocols, the socket carries the draft's stage changes as
/// message type [`crate::realtime::room::STAGE_MESSAGE`] (stock clients, which do not ask, never
/// see one).
#[derive(serde::Deserialize, Debug, Default)]
pub struct SocketQuery {
    #[serde(default)]
    pub events: Option<String>,
}

/// Whether the person may write drafts at all (the draft's stage and the chair decide the rest).
fn may_draft(actor: &Actor) -> bool {
    authorize(actor, &Action::EditDraft { gate: TextGate::Open, standing: Standing::default() }).is_ok()
}

/// Upgrades to a websocket speaking the y-protocols on the draft's `Y.Text` named `content`.
#[utoipa::path(get, path = "/api/drafts/{id}/ws", tag = "drafting", params(("id" = i64, Path),
    ("token" = Option<String>, Query, description = "The session token, for clients that cannot send a cookie or header"),
    ("events" = Option<String>, Query, description = "`stage`: also send the draft's stage changes, as y-protocols message type 100 carrying a JSON string")),
    responses((status = 101, description = "Switching to the y-protocols websocket"), (status = 400, description = "Not a websocket request"),
    (status = 401), (status = 403), (status = 404)))]
pub async fn connect(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<i64>,
    query: web::Query<SocketQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (who, now) = (actor.clone(), state.clock.now());
    // Reading is authorized by `find` (a guest reads only drafts linked to its meeting).
    let chairs = state
        .db
        .read(move |c| {
            let draft = service::find(c, &who, id)?;
            service::chairs(c, &who, &draft, now)
        })
        .await?;
    let who = Participant {
        user_id: actor.user_id,
        session_id: actor.session_id,
        name: actor.display_name.clone(),
        organisation: actor.organisation_name.clone(),
        kind: actor.kind.as_str().to_string(),
        may_write: may_draft(&actor),
        chairs,
        stage_events: query.events.as_deref().is_some_and(|e| e.split(',').any(|e| e == "stage")),
    };
    let slot = state.hub.reserve_connection(actor.user_id).ok_or_else(|| ApiError::TooManyRequests {
        retry_after_secs: 5,
        detail: format!(
            "you already have {} live drafting connections open; close some tabs",
            state.hub.config().max_connections_per_user
        ),
    })?;
    let (may_write, session_id, hub) = (who.may_write, actor.session_id, state.hub.clone());
    let (actor_kind, actor_status) = (actor.kind, actor.organisation_status);
    let recheck = move |active: bool| {
        let state = state.clone();
        async move {
            match sessions::revalidate(&state, session_id, active).await {
                Ok(now) if now.kind != actor_kind || now.organisation_status != actor_status => Access::Changed,
                Ok(now) if may_draft(&now) != may_write => Access::Changed,
                Ok(_) => Access::Unchanged,
                Err(ApiError::Unauthorized(_)) => Access::Ended,
                // A database hiccup is not a reason to drop a delegate in the middle of a sentence.
                Err(_) => Access::Unchanged,
            }
        }
    };
    let max_message = hub.config().max_message_bytes;
    upgrade::websocket(&req, max_message, move |socket| connection::run(hub, id, who, recheck, socket, slot))
}
