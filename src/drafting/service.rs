//! The drafting use cases: functions over a connection, the acting person and validated input.
//! They authorize, change and audit in the caller's transaction, and know nothing of HTTP, so
//! the handlers, the CLI, the demo and background jobs all go through them.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::{DraftRights, DraftRow, DraftState, DraftSummary, TextGate, ValidDraftUpdate, ValidNewDraft};
use super::store;
use crate::accounts::actor::Actor;
use crate::audit::{self, AuditEntry};
use crate::db::DbConnection;
use crate::db::schema::drafts;
use crate::error::Error;
use crate::policy::{Action, Standing, authorize};

/// Drafts, newest first: up to `limit + 1` rows with ids below `before` (the caller pages).
pub fn list(conn: &mut DbConnection, actor: &Actor, limit: i64, before: Option<i64>) -> Result<Vec<DraftRow>, Error> {
    authorize(actor, &Action::ReadDraft { linked_for_guest: false })?;
    let mut q = drafts::table.select(DraftRow::as_select()).order(drafts::id.desc()).limit(limit + 1).into_boxed();
    if let Some(before) = before {
        q = q.filter(drafts::id.lt(before));
    }
    Ok(q.load(conn)?)
}

/// The drafts as `actor` sees them at `now`: each with the meeting and agenda item it belongs
/// to, as far as the actor may see them.
pub fn summaries(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    rows: Vec<DraftRow>,
) -> Result<Vec<DraftSummary>, Error> {
    let places: Vec<(Option<i64>, Option<i64>)> = rows.iter().map(|r| (r.meeting_id, r.agenda_item_id)).collect();
    let places = crate::meetings::service::draft_places(conn, actor, now, &places)?;
    Ok(rows.into_iter().zip(places).map(|(row, (meeting, item))| DraftSummary::new(row, meeting, item)).collect())
}

/// One draft as `actor` sees it at `now` (see [`summaries`]).
pub fn summary(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    row: DraftRow,
) -> Result<DraftSummary, Error> {
    summaries(conn, actor, now, vec![row])?
        .pop()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("a draft went missing from its own summary")))
}

/// One draft the actor may read; 404 if there is none.
pub fn find(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<DraftRow, Error> {
    let linked_for_guest = actor.kind == crate::accounts::model::OrganisationKind::Guest
        && crate::meetings::service::guest_may_read_draft(conn, actor.organisation_id, id)?;
    authorize(actor, &Action::ReadDraft { linked_for_guest })?;
    load(conn, id)
}

/// Whether `actor` may change the draft's text at `now`: every participant's delegate while it
/// is drafted, the chair of its body alone in final reading, nobody otherwise. The one rule for
/// the room's writers, the check before each batch is stored, and `can_edit`.
pub fn may_edit(conn: &mut DbConnection, actor: &Actor, draft: &DraftRow, now: DateTime<Utc>) -> Result<bool, Error> {
    let gate = draft.gate();
    let standing = match (gate, draft.body_id) {
        (TextGate::ChairOnly, Some(body_id)) => crate::bodies::service::standing(conn, actor, body_id, now)?,
        _ => Standing::default(),
    };
    Ok(authorize(actor, &Action::EditDraft { gate, standing }).is_ok())
}

/// What `actor` may do with the draft at `now`: edit its text, conduct it, object to it.
pub fn rights(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &DraftRow,
    now: DateTime<Utc>,
) -> Result<DraftRights, Error> {
    let standing = match draft.body_id {
        Some(body_id) => crate::bodies::service::standing(conn, actor, body_id, now)?,
        None => Standing::default(),
    };
    Ok(DraftRights {
        can_edit: authorize(actor, &Action::EditDraft { gate: draft.gate(), standing }).is_ok(),
        can_conduct: authorize(actor, &Action::ConductDecision { standing }).is_ok(),
        can_object: authorize(actor, &Action::Object).is_ok(),
    })
}

/// Whether `actor` holds the chair's powers in the draft's body at `now`.
pub fn chairs(conn: &mut DbConnection, actor: &Actor, draft: &DraftRow, now: DateTime<Utc>) -> Result<bool, Error> {
    match draft.body_id {
        Some(body_id) => Ok(crate::bodies::service::standing(conn, actor, body_id, now)?.chairs()),
        None => Ok(false),
    }
}

/// Tells the other instances, when the caller's transaction commits, that the draft's stage or
/// lock changed (a no-op on SQLite, which serves one instance; its hub is told after the commit).
pub fn announce_stage(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(STAGE_CHANNEL)
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// Who may write the draft now, and the notice its room sends to clients following its stage.
pub fn stage_notice(conn: &mut DbConnection, id: i64) -> Result<(TextGate, String), Error> {
    use crate::db::schema::draft_objections;
    let draft = load(conn, id)?;
    let recorded: i64 = draft_objections::table.filter(draft_objections::draft_id.eq(id)).count().get_result(conn)?;
    Ok((draft.gate(), draft.stage_notice(recorded).to_string()))
}

/// The PostgreSQL channel on which instances announce a draft's new stage or lock (payload: its id).
pub const STAGE_CHANNEL: &str = "plenum_draft_stage";

/// Loads a draft row, whoever asks; 404 if there is none.
pub fn load(conn: &mut DbConnection, id: i64) -> Result<DraftRow, Error> {
    drafts::table
        .find(id)
        .select(DraftRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no draft {id}")))
}

/// Opens a new, empty draft (participants' delegates and secretariat administrators), in a
/// body (the plenary by default) and, if asked, belonging to one of its meetings and an item of
/// that meeting's agenda, which then lists the draft (which takes the meeting's chair).
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
    (input.meeting_id, input.agenda_item_id) = crate::meetings::service::check_draft_place(
        conn,
        actor,
        now.and_utc(),
        input.body_id,
        input.meeting_id,
        input.agenda_item_id,
    )?;
    let id = insert(conn, actor.user_id, now, &input, "")?;
    let row = load(conn, id)?;
    audit::record(conn, AuditEntry::by(actor, "draft.create", "draft", id).created(&row.audit_json()))?;
    if let Some(item) = row.agenda_item_id {
        crate::meetings::service::ensure_draft_listed(conn, actor, now.and_utc(), item, id)?;
    }
    Ok(row)
}

/// Renames a draft, locks and unlocks it, or changes the meeting and agenda item it belongs to
/// (the chair of its body, at `now`, or the secretariat's administrators); a new item lists the
/// draft. The caller tells the live room, and the live feeds of the meetings whose agendas link
/// the draft, after the commit.
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
    let (meeting_id, agenda_item_id) = new_place(conn, actor, now, &before, &input)?;
    diesel::update(drafts::table.find(id))
        .set((
            drafts::title.eq(input.title.as_ref().map_or(before.title.as_str(), |t| t.as_str())),
            drafts::meeting_id.eq(meeting_id),
            drafts::agenda_item_id.eq(agenda_item_id),
            drafts::state.eq(input.state.unwrap_or(before.state).as_str()),
            drafts::updated_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(item) = agenda_item_id.filter(|_| agenda_item_id != before.agenda_item_id) {
        crate::meetings::service::ensure_draft_listed(conn, actor, now.and_utc(), item, id)?;
    }
    let after = load(conn, id)?;
    if after.gate() != before.gate() {
        announce_stage(conn, id)?;
    }
    if after.title != before.title {
        // Agendas show the titles of the drafts they link: their followers see the new one.
        crate::meetings::service::draft_changed(conn, id, now.and_utc())?;
    }
    audit::record(
        conn,
        AuditEntry::by(actor, "draft.update", "draft", id).diff(&before.audit_json(), &after.audit_json()),
    )?;
    Ok(after)
}

/// Where a draft belongs after `input`: as before unless it names a meeting or an item, then
/// checked. A change of meeting without an item leaves the draft with no item.
fn new_place(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    before: &DraftRow,
    input: &ValidDraftUpdate,
) -> Result<(Option<i64>, Option<i64>), Error> {
    let (meeting, item) = match (input.meeting_id, input.agenda_item_id) {
        (None, None) => return Ok((before.meeting_id, before.agenda_item_id)),
        (Some(None), Some(Some(_))) => {
            return Err(Error::invalid(
                "agenda_item_id",
                "belongs to a meeting: leave out meeting_id, or name the item's",
            ));
        }
        // Given alone, an item brings its meeting.
        (None, Some(Some(item))) => (None, Some(item)),
        (None, Some(None)) => (before.meeting_id, None),
        (Some(meeting), Some(item)) => (meeting, item),
        (Some(meeting), None) if meeting == before.meeting_id => (meeting, before.agenda_item_id),
        (Some(meeting), None) => (meeting, None),
    };
    crate::meetings::service::check_draft_place(conn, actor, now.and_utc(), before.body_id, meeting, item)
}

/// Inserts a draft row with an initial text, written by `created_by` (the demo seeds with it).
/// The caller has checked the meeting and agenda item, and lists the draft on the item.
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
            drafts::body_id.eq(input.body_id),
            drafts::meeting_id.eq(input.meeting_id),
            drafts::agenda_item_id.eq(input.agenda_item_id),
            drafts::state.eq(DraftState::Drafting.as_str()),
            drafts::created_by.eq(created_by),
            drafts::created_at.eq(now),
            drafts::updated_at.eq(now),
        ))
        .returning(drafts::id)
        .get_result(conn)?;
    if !text.is_empty() {
        use yrs::{Text, Transact};
        let doc = store::new_doc();
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
