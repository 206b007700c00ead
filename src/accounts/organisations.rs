//! `/api/organisations`: the body's participants, observers, guests and secretariat.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use super::model::{
    NewOrganisationRow, Organisation, OrganisationKind, OrganisationRow, OrganisationStatus, insert_organisation,
    parse_name,
};
use super::sessions;
use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::audit::{self, AuditEntry};
use crate::db::DbConnection;
use crate::db::schema::{organisations, users};
use crate::http::error::{ApiError, FieldError};
use crate::http::page::{Page, PageQuery};
use crate::policy::{Action, authorize};

/// Reads a field that may be absent (leave as is), `null` (clear) or a value (set).
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A short code: 2–16 letters, digits or `-`, stored upper-case (`BW`, `EU`, `WDC`).
pub fn parse_short_code(raw: &str) -> Result<String, FieldError> {
    let code = raw.trim().to_uppercase();
    if !(2..=16).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FieldError::new("short_code", "must be 2 to 16 letters, digits or '-'"));
    }
    Ok(code)
}

fn parse_countries(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for c in raw {
        let name = parse_name("countries", c)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.len() > 100 {
        return Err(FieldError::new("countries", "at most 100 countries"));
    }
    Ok(out)
}

/// A new organisation.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub kind: OrganisationKind,
    pub name: String,
    pub short_code: String,
    pub status: Option<OrganisationStatus>,
    pub admitted_on: Option<NaiveDate>,
    /// For a regional organisation: the countries it represents.
    #[serde(default)]
    pub countries: Vec<String>,
}

/// Changes to an organisation; absent fields stay as they are.
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationUpdate {
    pub name: Option<String>,
    pub short_code: Option<String>,
    /// Suspending or withdrawing ends its delegates' sessions; they may sign in again to read.
    pub status: Option<OrganisationStatus>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub admitted_on: Option<Option<NaiveDate>>,
    pub countries: Option<Vec<String>>,
}

fn load(conn: &mut DbConnection, id: i64) -> Result<Organisation, ApiError> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .map(Organisation::from)
        .ok_or_else(|| ApiError::NotFound(format!("no organisation {id}")))
}

fn ensure_unique(conn: &mut DbConnection, name: &str, code: &str, except: Option<i64>) -> Result<(), ApiError> {
    let mut q = organisations::table
        .filter(organisations::name.eq(name).or(organisations::short_code.eq(code)))
        .select((organisations::name, organisations::short_code))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(organisations::id.ne(id));
    }
    if let Some((n, _)) = q.first::<(String, String)>(conn).optional()? {
        let what = if n == name {
            format!("an organisation named {name}")
        } else {
            format!("an organisation with code {code}")
        };
        return Err(ApiError::Conflict(format!("there is already {what}")));
    }
    Ok(())
}

/// Lists organisations by id.
#[utoipa::path(get, path = "/api/organisations", tag = "accounts", params(PageQuery),
    responses((status = 200, body = Page<Organisation>), (status = 401), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ViewDirectory)?;
    let (limit, after) = (query.limit()?, query.after()?);
    let rows = state
        .db
        .read(move |c| {
            Ok(organisations::table
                .filter(organisations::id.gt(after.unwrap_or(0)))
                .order(organisations::id.asc())
                .limit(limit + 1)
                .select(OrganisationRow::as_select())
                .load(c)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |r| r.id, Organisation::from)))
}

/// One organisation.
#[utoipa::path(get, path = "/api/organisations/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = Organisation), (status = 401), (status = 403), (status = 404)))]
pub async fn get(state: web::Data<AppState>, actor: Actor, path: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ViewDirectory)?;
    let id = path.into_inner();
    Ok(HttpResponse::Ok().json(state.db.read(move |c| load(c, id)).await?))
}

/// Creates an organisation (secretariat administrators).
#[utoipa::path(post, path = "/api/organisations", tag = "accounts", request_body = NewOrganisation,
    responses((status = 201, body = Organisation), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ManageOrganisations)?;
    let body = body.into_inner();
    let mut errors = Vec::new();
    let name = parse_name("name", &body.name).map_err(|e| errors.push(e)).ok();
    let code = parse_short_code(&body.short_code).map_err(|e| errors.push(e)).ok();
    let countries = parse_countries(&body.countries).map_err(|e| errors.push(e)).ok();
    ApiError::check(errors)?;
    let (Some(name), Some(code), Some(countries)) = (name, code, countries) else {
        return Err(ApiError::invalid("body", "invalid organisation"));
    };
    let org = state
        .db
        .write(move |c| {
            ensure_unique(c, &name, &code, None)?;
            let countries: Vec<&str> = countries.iter().map(String::as_str).collect();
            let id = insert_organisation(
                c,
                NewOrganisationRow {
                    kind: body.kind,
                    name: &name,
                    short_code: &code,
                    status: body.status.unwrap_or(OrganisationStatus::Active),
                    admitted_on: body.admitted_on,
                    countries: &countries,
                },
            )?;
            let org = load(c, id)?;
            let after = serde_json::to_value(&org).map_err(ApiError::internal)?;
            audit::record(c, AuditEntry::by(&actor, "organisation.create", "organisation", id).created(&after))?;
            Ok(org)
        })
        .await?;
    Ok(HttpResponse::Created().json(org))
}

/// Changes an organisation (secretariat administrators).
#[utoipa::path(patch, path = "/api/organisations/{id}", tag = "accounts", params(("id" = i64, Path)), request_body = OrganisationUpdate,
    responses((status = 200, body = Organisation), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i64>,
    body: web::Json<OrganisationUpdate>,
) -> Result<HttpResponse, ApiError> {
    authorize(&actor, &Action::ManageOrganisations)?;
    let (id, body) = (path.into_inner(), body.into_inner());
    let mut errors = Vec::new();
    let name =
        body.name.as_deref().map(|n| parse_name("name", n)).transpose().map_err(|e| errors.push(e)).ok().flatten();
    let code = body.short_code.as_deref().map(parse_short_code).transpose().map_err(|e| errors.push(e)).ok().flatten();
    let countries =
        body.countries.as_deref().map(parse_countries).transpose().map_err(|e| errors.push(e)).ok().flatten();
    ApiError::check(errors)?;
    let now = state.clock.naive();
    let org = state
        .db
        .write(move |c| {
            let before = load(c, id)?;
            let name = name.unwrap_or_else(|| before.name.clone());
            let code = code.unwrap_or_else(|| before.short_code.clone());
            ensure_unique(c, &name, &code, Some(id))?;
            let status = body.status.unwrap_or(before.status);
            let countries = countries.unwrap_or_else(|| before.countries.clone());
            diesel::update(organisations::table.find(id))
                .set((
                    organisations::name.eq(&name),
                    organisations::short_code.eq(&code),
                    organisations::status.eq(status.as_str()),
                    organisations::admitted_on.eq(body.admitted_on.unwrap_or(before.admitted_on)),
                    organisations::countries.eq(serde_json::to_string(&countries).map_err(ApiError::internal)?),
                    organisations::updated_at.eq(now),
                ))
                .execute(c)?;
            let members: Vec<i64> = users::table.filter(users::organisation_id.eq(id)).select(users::id).load(c)?;
            if status != OrganisationStatus::Active && before.status == OrganisationStatus::Active {
                sessions::revoke_all(c, &members, now)?;
            }
            let after = load(c, id)?;
            let (b, a) = (
                serde_json::to_value(&before).map_err(ApiError::internal)?,
                serde_json::to_value(&after).map_err(ApiError::internal)?,
            );
            audit::record(c, AuditEntry::by(&actor, "organisation.update", "organisation", id).diff(&b, &a))?;
            Ok((after, members))
        })
        .await?;
    let (org, members) = org;
    state.hub.access_changed(&members);
    Ok(HttpResponse::Ok().json(org))
}
