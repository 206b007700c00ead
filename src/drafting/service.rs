//! The drafting use cases: functions over a connection, the acting person and validated input.
//! They authorize, change and audit in the caller's transaction, and know nothing of HTTP, so
//! the handlers, the CLI, the demo and background jobs all go through them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{DraftRow, DraftState, ValidDraftUpdate, ValidNewDraft};
use super::store;
use crate::accounts::actor::Actor;
use crate::audit::{self, AuditEntry};
use crate::db::DbConnection;
use crate::db::schema::drafts;
use crate::error::Error;
use crate::policy::{Action, authorize};

/// Drafts, newest first: up to `limit + 1` rows with ids below `before` (the caller pages).
pub fn list(conn: &mut DbConnection, actor: &Actor, limit: i64, before: Option<i64>) -> Result<Vec<DraftRow>, Error> {
    authorize(actor, &Action::ReadDraft { linked_for_guest: false })?;
    let mut q = drafts::table.select(DraftRow::as_select()).order(drafts::id.desc()).limit(limit + 1).into_boxed();
    if let Some(before) = before {
        q = q.filter(drafts::id.lt(before));
    }
    Ok(q.load(conn)?)
}

/// One draft the actor may read; 404 if there is none.
pub fn find(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<DraftRow, Error> {
    let linked_for_guest = actor.kind == crate::accounts::model::OrganisationKind::Guest
        && crate::meetings::service::guest_may_read_draft(conn, actor.organisation_id, id)?;
    authorize(actor, &Action::ReadDraft { linked_for_guest })?;
    load(conn, id)
}

/// Loads a draft row, whoever asks; 404 if there is none.
pub fn load(conn: &mut DbConnection, id: i64) -> Result<DraftRow, Error> {
    drafts::table
        .find(id)
        .select(DraftRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no draft {id}")))
}

/// Opens a new, empty draft (participants' delegates and secretariat administrators).
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    input: ValidNewDraft,
) -> Result<DraftRow, Error> {
    authorize(actor, &Action::CreateDraft)?;
    let mut input = input;
    input.body_id = match input.body_id {
        Some(body_id) => match crate::bodies::service::load_body(conn, body_id) {
            Ok(body) => Some(body.id),
            Err(Error::NotFound(_)) => return Err(Error::invalid("body_id", "no such body")),
            Err(err) => return Err(err),
        },
        None => crate::bodies::service::plenary(conn)?,
    };
    let id = insert(conn, actor.user_id, now, &input, "")?;
    let row = load(conn, id)?;
    audit::record(conn, AuditEntry::by(actor, "draft.create", "draft", id).created(&row.audit_json()))?;
    Ok(row)
}

/// Renames a draft or locks and unlocks it (the chair of its body, at `now`, or the secretariat's
/// administrators). The caller tells the live room after the commit.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    id: i64,
    input: ValidDraftUpdate,
) -> Result<DraftRow, Error> {
    let before = load(conn, id)?;
    let standing = match before.body_id {
        Some(body_id) => crate::bodies::service::standing(conn, actor, body_id, now.and_utc())?,
        None => crate::policy::Standing::default(),
    };
    authorize(actor, &Action::ManageDraft { standing })?;
    if before.stage == super::model::DraftStage::Adopted {
        return Err(Error::Conflict("this draft is an adopted decision: it is frozen".into()));
    }
    diesel::update(drafts::table.find(id))
        .set((
            drafts::title.eq(input.title.as_ref().map_or(before.title.as_str(), |t| t.as_str())),
            drafts::reference.eq(input.reference.as_ref().map_or(before.reference.as_str(), |r| r.as_str())),
            drafts::state.eq(input.state.unwrap_or(before.state).as_str()),
            drafts::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = load(conn, id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "draft.update", "draft", id).diff(&before.audit_json(), &after.audit_json()),
    )?;
    Ok(after)
}

/// Inserts a draft row with an initial text, written by `created_by` (the demo seeds with it).
pub fn insert(
    conn: &mut DbConnection,
    created_by: i64,
    now: NaiveDateTime,
    input: &ValidNewDraft,
    text: &str,
) -> Result<i64, Error> {
    let id: i64 = diesel::insert_into(drafts::table)
        .values((
            drafts::title.eq(input.title.as_str()),
            drafts::reference.eq(input.reference.as_str()),
            drafts::body_id.eq(input.body_id),
            drafts::state.eq(DraftState::Drafting.as_str()),
            drafts::created_by.eq(created_by),
            drafts::created_at.eq(now),
            drafts::updated_at.eq(now),
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
            .ok_or_else(|| Error::internal(anyhow::anyhow!("a new draft's first sequence number was taken")))?;
    }
    Ok(id)
}

/// The stored text of a draft (snapshot and log). Run it inside `Db::read_consistent`.
pub fn stored_text(conn: &mut DbConnection, id: i64) -> Result<String, Error> {
    Ok(store::text_of(&store::load(conn, id)?.to_doc()?))
}
