//! `/api/users`: the delegates.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::model::{OrganisationKind, OrganisationRow, User, UserRow, load_user, parse_name};
use super::sessions;
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::audit::{self, AuditEntry};
use crate::db::schema::{organisations, users};
use crate::http::error::{ApiError, FieldError};
use crate::http::page::{Page, PageQuery};
use crate::policy::{Action, authorize};

/// Filters for the user list.
#[derive(Deserialize, Debug, IntoParams)]
pub struct UserFilter {
    /// Only this organisation's delegates.
    pub organisation_id: Option<i64>,
}

/// Lists users by id.
#[utoipa::path(get, path = "/api/users", tag = "accounts", params(PageQuery, UserFilter),
    responses((status = 200, body = Page<User>), (status = 401), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    page: web::Query<PageQuery>,
    filter: web::Query<UserFilter>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ViewDirectory)?;
    let (limit, after, org) = (page.limit()?, page.after()?, filter.organisation_id);
    let rows = state
        .db
        .read(move |c| {
            let mut q = users::table
                .inner_join(organisations::table)
                .filter(users::id.gt(after.unwrap_or(0)))
                .select((UserRow::as_select(), OrganisationRow::as_select()))
                .order(users::id.asc())
                .limit(limit + 1)
                .into_boxed();
            if let Some(org) = org {
                q = q.filter(users::organisation_id.eq(org));
            }
            Ok(q.load::<(UserRow, OrganisationRow)>(c)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |(u, _)| u.id, |(u, o)| User::from_rows(u, o))))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 401), (status = 403), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if id != actor.user_id {
        authorize(&actor, &Action::ViewDirectory)?;
    }
    let user = state
        .db
        .read(move |c| load_user(c, id).optional()?.ok_or_else(|| ApiError::NotFound(format!("no user {id}"))))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Changes to a user; absent fields stay as they are.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    /// Disabling ends the user's sessions and blocks sign-in (administrators).
    pub disabled: Option<bool>,
    /// Grants or removes administrator rights (administrators; secretariat users only).
    pub is_admin: Option<bool>,
}

/// Changes a user: administrators change anyone; a delegate changes their own name.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "accounts", params(("id" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = User), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<UserUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (path.into_inner(), body.into_inner());
    let name = body.display_name.as_deref().map(|n| parse_name("display_name", n)).transpose()?;
    let now = state.clock.naive();
    let user = state
        .db
        .write(move |c| {
            let before = load_user(c, id).optional()?.ok_or_else(|| ApiError::NotFound(format!("no user {id}")))?;
            let admin_fields = body.disabled.is_some() || body.is_admin.is_some();
            authorize(
                &actor,
                &Action::UpdateUser { user_id: id, organisation_id: before.organisation.id, admin_fields },
            )?;
            let mut errors = Vec::new();
            if id == actor.user_id && (body.disabled == Some(true) || body.is_admin == Some(false)) {
                errors.push(FieldError::new(
                    if body.disabled == Some(true) { "disabled" } else { "is_admin" },
                    "you cannot lock yourself out",
                ));
            }
            if body.is_admin == Some(true) && before.organisation.kind != OrganisationKind::Secretariat {
                errors.push(FieldError::new("is_admin", "only secretariat users can be administrators"));
            }
            ApiError::check(errors)?;
            diesel::update(users::table.find(id))
                .set((
                    users::display_name.eq(name.unwrap_or_else(|| before.display_name.clone())),
                    users::disabled.eq(body.disabled.unwrap_or(before.disabled)),
                    users::is_admin.eq(body.is_admin.unwrap_or(before.is_admin)),
                    users::updated_at.eq(now),
                ))
                .execute(c)?;
            if body.disabled == Some(true) && !before.disabled {
                sessions::revoke_all(c, &[id], now)?;
            } else if body.is_admin.is_some_and(|a| a != before.is_admin) {
                crate::realtime::access::announce(c, &[id])?;
            }
            let after = load_user(c, id)?;
            let (b, a) = (
                serde_json::to_value(&before).map_err(ApiError::internal)?,
                serde_json::to_value(&after).map_err(ApiError::internal)?,
            );
            audit::record(c, AuditEntry::by(&actor, "user.update", "user", id).diff(&b, &a))?;
            Ok(after)
        })
        .await?;
    state.hub.access_changed(&[id]);
    Ok(HttpResponse::Ok().json(user))
}
