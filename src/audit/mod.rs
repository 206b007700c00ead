//! The audit log: who changed what, when, with the before and after of each changed field.
//! Written by [`record`] in the same transaction as the change it describes.

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::accounts::actor::Actor;
use crate::app::AppState;
use crate::db::DbConnection;
use crate::db::schema::audit_log;
use crate::error::Error;
use crate::http::page::PageQuery;
use crate::page::Page;
use crate::policy::{Action, authorize};

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_user_id: Option<i64>,
    pub actor_organisation_id: Option<i64>,
    pub request_id: Option<String>,
    /// What happened, as `resource.verb` (`organisation.update`, `session.create`).
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: String,
    /// `{field: {before, after}}`.
    pub changes: Value,
}

impl AuditEntry {
    /// A change made by a signed-in actor.
    pub fn by(actor: &Actor, action: &'static str, resource_type: &'static str, resource_id: impl ToString) -> Self {
        Self {
            actor_user_id: Some(actor.user_id),
            actor_organisation_id: Some(actor.organisation_id),
            request_id: actor.request_id.clone(),
            action,
            resource_type,
            resource_id: resource_id.to_string(),
            changes: Value::Object(Map::new()),
        }
    }

    /// A change made from the command line (the first administrator, the demo), by no user.
    pub fn system(
        action: &'static str,
        resource_type: &'static str,
        resource_id: impl ToString,
        after: &Value,
    ) -> Self {
        Self {
            actor_user_id: None,
            actor_organisation_id: None,
            request_id: None,
            action,
            resource_type,
            resource_id: resource_id.to_string(),
            changes: Value::Object(Map::new()),
        }
        .created(after)
    }

    /// A change made by a user who is not signed in yet (accepting an invitation, signing in).
    pub fn by_user(
        user_id: i64,
        organisation_id: i64,
        action: &'static str,
        resource_type: &'static str,
        resource_id: impl ToString,
    ) -> Self {
        Self {
            actor_user_id: Some(user_id),
            actor_organisation_id: Some(organisation_id),
            request_id: None,
            action,
            resource_type,
            resource_id: resource_id.to_string(),
            changes: Value::Object(Map::new()),
        }
    }

    /// Sets the changes as the difference between two JSON views of the resource.
    pub fn diff(mut self, before: &Value, after: &Value) -> Self {
        self.changes = changes(before, after);
        self
    }

    /// Sets the changes of a created resource (every field's `after`).
    pub fn created(self, after: &Value) -> Self {
        self.diff(&Value::Object(Map::new()), after)
    }

    /// Attaches a request id.
    pub fn request(mut self, request_id: Option<String>) -> Self {
        if request_id.is_some() {
            self.request_id = request_id;
        }
        self
    }
}

/// `{field: {before, after}}` for each top-level field that differs.
pub fn changes(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for key in b.keys().chain(a.keys()) {
        if out.contains_key(key) || key == "updated_at" {
            continue;
        }
        let (old, new) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
        if old != new {
            out.insert(key.clone(), serde_json::json!({ "before": old, "after": new }));
        }
    }
    Value::Object(out)
}

/// Appends `entry` to the log (call inside the transaction that makes the change).
pub fn record(conn: &mut DbConnection, entry: AuditEntry) -> Result<(), Error> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(crate::db::now()),
            audit_log::actor_user_id.eq(entry.actor_user_id),
            audit_log::actor_organisation_id.eq(entry.actor_organisation_id),
            audit_log::action.eq(entry.action),
            audit_log::resource_type.eq(entry.resource_type),
            audit_log::resource_id.eq(&entry.resource_id),
            audit_log::changes.eq(entry.changes.to_string()),
            audit_log::request_id.eq(entry.request_id.as_deref()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: i64,
    at: NaiveDateTime,
    actor_user_id: Option<i64>,
    actor_organisation_id: Option<i64>,
    action: String,
    resource_type: String,
    resource_id: String,
    changes: String,
    request_id: Option<String>,
}

/// An entry of the audit log, as the API shows it.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_user_id: Option<i64>,
    pub actor_organisation_id: Option<i64>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    /// `{field: {before, after}}`.
    pub changes: Value,
    pub request_id: Option<String>,
}

/// The audit log, newest first (secretariat administrators).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(PageQuery),
    responses((status = 200, body = Page<AuditRecord>), (status = 401), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    authorize(&actor, &Action::ViewAudit)?;
    let (limit, before) = (query.limit()?, query.after()?);
    let rows = state
        .db
        .read(move |c| {
            let mut q = audit_log::table.select(AuditRow::as_select()).order(audit_log::id.desc()).into_boxed();
            if let Some(before) = before {
                q = q.filter(audit_log::id.lt(before));
            }
            Ok(q.limit(limit + 1).load(c)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |r| AuditRecord {
            id: r.id,
            at: r.at.and_utc(),
            actor_user_id: r.actor_user_id,
            actor_organisation_id: r.actor_organisation_id,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            changes: serde_json::from_str(&r.changes).unwrap_or(Value::Null),
            request_id: r.request_id,
        },
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn changes_list_only_what_differs() {
        let c = super::changes(
            &json!({"name": "A", "status": "active", "updated_at": 1}),
            &json!({"name": "A", "status": "suspended", "updated_at": 2}),
        );
        assert_eq!(c, json!({"status": {"before": "active", "after": "suspended"}}));
    }
}
