//! The meetings use cases: functions over a connection, the acting person, the instant of the
//! request and validated input. They authorize (the body's chair at that instant, from the
//! terms in force), change, audit, record the live event and queue mail in the caller's
//! transaction; the handler wakes the live feed after the commit. Observers and guests never get
//! a closed-session item from here: every view is built for the person who asks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::agenda;
use super::cache::ReadFacts;
use super::live::{self, EventKind};
use super::model::{
    Agenda, AgendaItem, AgendaItemRef, AgendaState, Amendment, Attendee, CurrentItem, Document, Home, HomeDraft,
    InvitationRole, ItemMove, ItemRow, ItemState, ItemUpdate, LinkedDraft, Meeting, MeetingInvitation, MeetingKind,
    MeetingRef, MeetingRow, MeetingState, MeetingSummary, MeetingUpdate, Need, NewItem, NewMeeting, Purpose,
    ValidMeeting, check_item, check_meeting,
};
use crate::accounts::actor::Actor;
use crate::accounts::model::{Organisation, OrganisationKind, OrganisationRef, OrganisationRow};
use crate::accounts::service::MailContext;
use crate::audit::{self, AuditEntry};
use crate::bodies::model::{BodyRow, PersonRef};
use crate::db::DbConnection;
use crate::db::schema::{
    agenda_amendments, agenda_documents, agenda_item_drafts, agenda_items, bodies, body_members, drafts,
    meeting_attendance, meeting_invitations, meetings, organisations, users,
};
use crate::error::Error;
use crate::policy::{Action, Standing, authorize};

// ---- who sees what ---------------------------------------------------------------------

/// A meeting as one person may see it: the row, and what they may do with it.
pub struct Seen {
    pub meeting: MeetingRow,
    /// The body's chair (or the secretariat): may run the meeting.
    pub chairs: bool,
    /// An observer or a guest: never sees closed-session items.
    pub restricted: bool,
}

fn load_meeting(conn: &mut DbConnection, id: i64) -> Result<MeetingRow, Error> {
    meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no meeting {id}")))
}

fn invitation_role(conn: &mut DbConnection, meeting_id: i64, org: i64) -> Result<Option<InvitationRole>, Error> {
    let role: Option<String> =
        meeting_invitations::table.find((meeting_id, org)).select(meeting_invitations::role).first(conn).optional()?;
    Ok(role.and_then(|r| r.parse().ok()))
}

/// Whether `actor` may see closed-session items.
pub fn restricted(actor: &Actor) -> bool {
    authorize(actor, &Action::SeeClosedSession).is_err()
}

fn standing(conn: &mut DbConnection, actor: &Actor, body_id: i64, now: DateTime<Utc>) -> Result<Standing, Error> {
    crate::bodies::service::standing(conn, actor, body_id, now)
}

/// The meeting if `actor` may see it; 404 otherwise (a meeting one may not see does not exist).
pub fn seen(conn: &mut DbConnection, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<Seen, Error> {
    let meeting = load_meeting(conn, id)?;
    let standing = standing(conn, actor, meeting.body_id, now)?;
    let invited = invitation_role(conn, id, actor.organisation_id)?.is_some();
    let draft = meeting.state == MeetingState::Draft;
    if authorize(actor, &Action::ReadMeeting { invited, draft, standing }).is_err() {
        return Err(Error::NotFound(format!("no meeting {id}")));
    }
    let chairs = authorize(actor, &Action::ChairMeeting { standing }).is_ok();
    Ok(Seen { meeting, chairs, restricted: restricted(actor) })
}

/// The meeting if `actor` may run it: 404 if it may not see it, 403 if it may not run it.
fn chaired(conn: &mut DbConnection, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<MeetingRow, Error> {
    let seen = seen(conn, actor, id, now)?;
    let standing = standing(conn, actor, seen.meeting.body_id, now)?;
    authorize(actor, &Action::ChairMeeting { standing })?;
    Ok(seen.meeting)
}

// ---- views -----------------------------------------------------------------------------

fn items_of(conn: &mut DbConnection, meeting_id: i64) -> Result<Vec<ItemRow>, Error> {
    Ok(agenda_items::table.filter(agenda_items::meeting_id.eq(meeting_id)).select(ItemRow::as_select()).load(conn)?)
}

fn current_item(items: &[ItemRow], restricted: bool) -> Option<CurrentItem> {
    let numbered = agenda::numbered(items);
    let (item, number) = numbered.iter().find(|(i, _)| i.state == ItemState::Current)?;
    let since = item.current_since.unwrap_or_default().and_utc();
    Some(if restricted && item.closed_session {
        CurrentItem { item_id: None, number: None, title: None, closed_session: true, since }
    } else {
        CurrentItem {
            item_id: Some(item.id),
            number: Some(number.clone()),
            title: Some(item.title.clone()),
            closed_session: item.closed_session,
            since,
        }
    })
}

fn body_short_names(conn: &mut DbConnection) -> Result<HashMap<i64, String>, Error> {
    Ok(bodies::table.select((bodies::id, bodies::short_name)).load::<(i64, String)>(conn)?.into_iter().collect())
}

fn summary(
    conn: &mut DbConnection,
    m: &MeetingRow,
    restricted: bool,
    names: &HashMap<i64, String>,
) -> Result<MeetingSummary, Error> {
    let items = items_of(conn, m.id)?;
    Ok(MeetingSummary {
        id: m.id,
        body_id: m.body_id,
        body_short_name: names.get(&m.body_id).cloned().unwrap_or_default(),
        kind: m.kind,
        title: m.title.clone(),
        venue: m.venue.clone(),
        online_url: m.online_url.clone(),
        time_zone: m.time_zone.clone(),
        starts_at: m.starts_at.and_utc(),
        ends_at: m.ends_at.and_utc(),
        state: m.state,
        current_item: current_item(&items, restricted),
    })
}

fn org_ref(row: OrganisationRow) -> OrganisationRef {
    OrganisationRef::from(&Organisation::from(row))
}

pub fn attendance(conn: &mut DbConnection, meeting_id: i64) -> Result<Vec<Attendee>, Error> {
    let rows: Vec<(i64, String, chrono::NaiveDateTime, OrganisationRow)> = meeting_attendance::table
        .inner_join(users::table.inner_join(organisations::table))
        .filter(meeting_attendance::meeting_id.eq(meeting_id))
        .order((organisations::name.asc(), users::display_name.asc()))
        .select((users::id, users::display_name, meeting_attendance::registered_at, OrganisationRow::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, display_name, at, org)| Attendee {
            user: PersonRef { id, display_name },
            organisation: org_ref(org),
            registered_at: at.and_utc(),
        })
        .collect())
}

/// One meeting as the person who asks sees it.
fn meeting_view(conn: &mut DbConnection, actor: &Actor, seen: &Seen) -> Result<Meeting, Error> {
    let m = &seen.meeting;
    let names = body_short_names(conn)?;
    let invitations: Vec<(String, OrganisationRow)> = meeting_invitations::table
        .inner_join(organisations::table)
        .filter(meeting_invitations::meeting_id.eq(m.id))
        .order(organisations::name.asc())
        .select((meeting_invitations::role, OrganisationRow::as_select()))
        .load(conn)?;
    let invitations: Vec<MeetingInvitation> = invitations
        .into_iter()
        .filter_map(|(role, org)| Some(MeetingInvitation { role: role.parse().ok()?, organisation: org_ref(org) }))
        .collect();
    let invited = invitations.iter().any(|i| i.organisation.id == actor.organisation_id);
    let can_register =
        authorize(actor, &Action::RegisterAttendance { organisation_id: actor.organisation_id, invited }).is_ok()
            && matches!(m.state, MeetingState::Convened | MeetingState::InSession);
    Ok(Meeting {
        summary: summary(conn, m, seen.restricted, &names)?,
        agenda_state: m.agenda_state,
        agenda_adopted_at: m.agenda_adopted_at.map(|t| t.and_utc()),
        invitations,
        attendance: attendance(conn, m.id)?,
        can_chair: seen.chairs,
        can_register,
        event_seq: m.event_seq,
    })
}

/// The items in closed session: those marked so, and every item below one of them.
fn closed_items(rows: &[ItemRow]) -> std::collections::HashSet<i64> {
    rows.iter()
        .filter(|i| rows.iter().any(|c| c.closed_session && agenda::is_within(rows, c.id, i.id)))
        .map(|i| i.id)
        .collect()
}

/// The agenda of `meeting`, without closed-session items when `restricted`.
pub fn agenda_view(conn: &mut DbConnection, meeting: &MeetingRow, restricted: bool) -> Result<Agenda, Error> {
    // Every query here is one static statement (no list of ids, no boxed query), so each is
    // prepared once per connection and kept: the agenda is read far more often than it changes.
    let rows = items_of(conn, meeting.id)?;
    let items_of_meeting =
        || agenda_items::table.filter(agenda_items::meeting_id.eq(meeting.id)).select(agenda_items::id);
    let docs: Vec<(i64, i64, String, String, i64, chrono::NaiveDateTime)> = agenda_documents::table
        .filter(agenda_documents::item_id.eq_any(items_of_meeting()))
        .order(agenda_documents::id.asc())
        .select((
            agenda_documents::item_id,
            agenda_documents::id,
            agenda_documents::filename,
            agenda_documents::content_type,
            agenda_documents::size,
            agenda_documents::uploaded_at,
        ))
        .load(conn)?;
    let links: Vec<(i64, i64, String, String)> = agenda_item_drafts::table
        .inner_join(drafts::table)
        .filter(agenda_item_drafts::item_id.eq_any(items_of_meeting()))
        .order(drafts::id.asc())
        .select((agenda_item_drafts::item_id, drafts::id, drafts::title, drafts::stage))
        .load(conn)?;
    let closed = closed_items(&rows);
    let items = agenda::numbered(&rows)
        .into_iter()
        .filter(|(i, _)| !(restricted && closed.contains(&i.id)))
        .map(|(i, number)| AgendaItem {
            id: i.id,
            parent_id: i.parent_id,
            position: i.position,
            number,
            title: i.title.clone(),
            description: i.description.clone(),
            purpose: i.purpose,
            presenter: i.presenter.clone(),
            duration_minutes: i.duration_minutes,
            closed_session: closed.contains(&i.id),
            state: i.state,
            current_since: i.current_since.map(|t| t.and_utc()),
            documents: docs
                .iter()
                .filter(|d| d.0 == i.id)
                .map(|d| Document {
                    id: d.1,
                    filename: d.2.clone(),
                    content_type: d.3.clone(),
                    size: d.4,
                    uploaded_at: d.5.and_utc(),
                })
                .collect(),
            drafts: links
                .iter()
                .filter(|l| l.0 == i.id)
                .map(|l| LinkedDraft { id: l.1, title: l.2.clone(), stage: l.3.clone() })
                .collect(),
        })
        .collect();
    let amendments = agenda_amendments::table
        .left_join(users::table)
        .filter(agenda_amendments::meeting_id.eq(meeting.id))
        // Restricted: only amendments in open session (`closed_session = false OR closed_session
        // = false`); else all of them (`… OR closed_session = true`).
        .filter(agenda_amendments::closed_session.eq(false).or(agenda_amendments::closed_session.eq(!restricted)))
        .order(agenda_amendments::id.asc())
        .select((
            agenda_amendments::at,
            users::display_name.nullable(),
            agenda_amendments::action,
            agenda_amendments::number,
            agenda_amendments::title,
            agenda_amendments::detail,
        ))
        .load::<(chrono::NaiveDateTime, Option<String>, String, Option<String>, Option<String>, String)>(conn)?
        .into_iter()
        .map(|(at, by, action, number, title, detail)| Amendment {
            at: at.and_utc(),
            by: by.unwrap_or_else(|| "the system".into()),
            action,
            number,
            title,
            detail,
        })
        .collect();
    Ok(Agenda {
        meeting_id: meeting.id,
        agenda_state: meeting.agenda_state,
        adopted_at: meeting.agenda_adopted_at.map(|t| t.and_utc()),
        items,
        amendments,
    })
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(Error::internal)
}

// ---- events ----------------------------------------------------------------------------

fn publish_agenda(conn: &mut DbConnection, meeting_id: i64, now: DateTime<Utc>) -> Result<(), Error> {
    let meeting = load_meeting(conn, meeting_id)?;
    let full = to_value(&agenda_view(conn, &meeting, false)?)?;
    let public = to_value(&agenda_view(conn, &meeting, true)?)?;
    live::record(conn, meeting_id, EventKind::Agenda, &full, Some(&public), now)?;
    let items = items_of(conn, meeting_id)?;
    let full = to_value(&current_item(&items, false))?;
    let public = to_value(&current_item(&items, true))?;
    live::record(conn, meeting_id, EventKind::CurrentItem, &full, Some(&public), now)?;
    Ok(())
}

fn publish_meeting(conn: &mut DbConnection, meeting_id: i64, kind: EventKind, now: DateTime<Utc>) -> Result<(), Error> {
    let meeting = load_meeting(conn, meeting_id)?;
    let names = body_short_names(conn)?;
    let data = match kind {
        EventKind::State => json!({"state": meeting.state}),
        EventKind::Attendance => to_value(&attendance(conn, meeting_id)?)?,
        _ => to_value(&summary(conn, &meeting, false, &names)?)?,
    };
    let public = match kind {
        EventKind::Meeting => to_value(&summary(conn, &meeting, true, &names)?)?,
        _ => data.clone(),
    };
    live::record(conn, meeting_id, kind, &data, Some(&public), now)?;
    Ok(())
}

/// Records an amendment when the agenda was already adopted.
fn amend(
    conn: &mut DbConnection,
    actor: &Actor,
    meeting: &MeetingRow,
    item: Option<&ItemRow>,
    action: &str,
    detail: String,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if meeting.agenda_state != AgendaState::Adopted {
        return Ok(());
    }
    let items = items_of(conn, meeting.id)?;
    let number = item.and_then(|it| agenda::numbered(&items).into_iter().find(|(i, _)| i.id == it.id).map(|(_, n)| n));
    diesel::insert_into(agenda_amendments::table)
        .values((
            agenda_amendments::meeting_id.eq(meeting.id),
            agenda_amendments::at.eq(now.naive_utc()),
            agenda_amendments::user_id.eq(actor.user_id),
            agenda_amendments::action.eq(action),
            agenda_amendments::item_id.eq(item.map(|i| i.id)),
            agenda_amendments::number.eq(number),
            agenda_amendments::title.eq(item.map(|i| i.title.clone())),
            agenda_amendments::detail.eq(detail),
            agenda_amendments::closed_session.eq(item.is_some_and(|i| i.closed_session)),
        ))
        .execute(conn)?;
    Ok(())
}

// ---- meetings --------------------------------------------------------------------------

/// Meetings the actor may see, soonest first; `when`: `upcoming`, `in_session` or `past`.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    body_id: Option<i64>,
    when: Option<&str>,
) -> Result<Vec<MeetingSummary>, Error> {
    let mut q = meetings::table
        .order((meetings::starts_at.asc(), meetings::id.asc()))
        .select(MeetingRow::as_select())
        .into_boxed();
    if let Some(body) = body_id {
        q = q.filter(meetings::body_id.eq(body));
    }
    let at = now.naive_utc();
    match when {
        None | Some("") => {}
        Some("in_session") => q = q.filter(meetings::state.eq(MeetingState::InSession.as_str())),
        Some("upcoming") => {
            q = q
                .filter(meetings::state.ne(MeetingState::InSession.as_str()))
                .filter(meetings::state.ne(MeetingState::Closed.as_str()))
                .filter(meetings::ends_at.ge(at))
        }
        Some("past") => {
            q = q
                .filter(meetings::state.ne(MeetingState::InSession.as_str()))
                .filter(meetings::ends_at.lt(at).or(meetings::state.eq(MeetingState::Closed.as_str())))
        }
        Some(_) => return Err(Error::invalid("when", "must be upcoming, in_session or past")),
    }
    let rows: Vec<MeetingRow> = q.load(conn)?;
    let names = body_short_names(conn)?;
    let mut out = Vec::new();
    for row in rows {
        if let Ok(seen) = seen(conn, actor, row.id, now) {
            out.push(summary(conn, &seen.meeting, seen.restricted, &names)?);
        }
    }
    Ok(out)
}

/// One meeting; 404 if the actor may not see it.
pub fn find(conn: &mut DbConnection, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<Meeting, Error> {
    let seen = seen(conn, actor, id, now)?;
    meeting_view(conn, actor, &seen)
}

/// Creates a meeting of a body, in the `draft` state, inviting the body's members (observers
/// as observers).
pub fn create(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, input: NewMeeting) -> Result<Meeting, Error> {
    let valid = check_meeting(
        &input.title,
        &input.venue,
        input.online_url.as_deref(),
        &input.time_zone,
        input.starts_at,
        input.ends_at,
    )?;
    let body: BodyRow = match crate::bodies::service::load_body(conn, input.body_id) {
        Ok(b) => b,
        Err(Error::NotFound(_)) => return Err(Error::invalid("body_id", "no such body")),
        Err(e) => return Err(e),
    };
    authorize(actor, &Action::ChairMeeting { standing: standing(conn, actor, body.id, now)? })?;
    let id = insert_meeting(conn, actor.user_id, body.id, input.kind, &valid, now)?;
    let row = load_meeting(conn, id)?;
    audit::record(conn, AuditEntry::by(actor, "meeting.create", "meeting", id).created(&row.audit_json()))?;
    find(conn, actor, id, now)
}

/// Inserts a meeting and its default invitations (the demo seeds with it; callers authorize and
/// audit).
pub fn insert_meeting(
    conn: &mut DbConnection,
    created_by: i64,
    body_id: i64,
    kind: MeetingKind,
    valid: &ValidMeeting,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let at = now.naive_utc();
    let id: i64 = diesel::insert_into(meetings::table)
        .values((
            meetings::body_id.eq(body_id),
            meetings::kind.eq(kind.as_str()),
            meetings::title.eq(&valid.title),
            meetings::venue.eq(&valid.venue),
            meetings::online_url.eq(&valid.online_url),
            meetings::time_zone.eq(&valid.time_zone),
            meetings::starts_at.eq(valid.starts_at.naive_utc()),
            meetings::ends_at.eq(valid.ends_at.naive_utc()),
            meetings::state.eq(MeetingState::Draft.as_str()),
            meetings::created_by.eq(created_by),
            meetings::created_at.eq(at),
            meetings::updated_at.eq(at),
        ))
        .returning(meetings::id)
        .get_result(conn)?;
    let members: Vec<(i64, String)> = body_members::table
        .inner_join(organisations::table)
        .filter(body_members::body_id.eq(body_id))
        .filter(body_members::until.is_null().or(body_members::until.ge(valid.starts_at.date_naive())))
        .select((organisations::id, organisations::kind))
        .load(conn)?;
    for (org, kind) in members {
        let role =
            if kind == OrganisationKind::Observer.as_str() { InvitationRole::Observer } else { InvitationRole::Member };
        diesel::insert_into(meeting_invitations::table)
            .values((
                meeting_invitations::meeting_id.eq(id),
                meeting_invitations::organisation_id.eq(org),
                meeting_invitations::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(id)
}

/// Changes a meeting's title, venue, link, time zone or dates. Once convened, a change of date
/// or venue is mailed to the invited delegations as an update of the same calendar event.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: MeetingUpdate,
    mail: &MailContext,
) -> Result<Meeting, Error> {
    let before = load_meeting(conn, id)?;
    let valid = check_meeting(
        input.title.as_deref().unwrap_or(&before.title),
        input.venue.as_deref().unwrap_or(&before.venue),
        input.online_url.clone().unwrap_or(before.online_url.clone()).as_deref(),
        input.time_zone.as_deref().unwrap_or(&before.time_zone),
        input.starts_at.unwrap_or(before.starts_at.and_utc()),
        input.ends_at.unwrap_or(before.ends_at.and_utc()),
    )?;
    chaired(conn, actor, id, now)?;
    if matches!(before.state, MeetingState::Closed | MeetingState::Cancelled) {
        return Err(Error::Conflict(format!("the meeting is {}: it can no longer change", before.state.as_str())));
    }
    let moved = valid.starts_at.naive_utc() != before.starts_at
        || valid.ends_at.naive_utc() != before.ends_at
        || valid.venue != before.venue
        || valid.online_url != before.online_url
        || valid.time_zone != before.time_zone;
    diesel::update(meetings::table.find(id))
        .set((
            meetings::title.eq(&valid.title),
            meetings::venue.eq(&valid.venue),
            meetings::online_url.eq(&valid.online_url),
            meetings::time_zone.eq(&valid.time_zone),
            meetings::starts_at.eq(valid.starts_at.naive_utc()),
            meetings::ends_at.eq(valid.ends_at.naive_utc()),
            meetings::ical_sequence.eq(before.ical_sequence + i32::from(moved)),
            meetings::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let after = load_meeting(conn, id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "meeting.update", "meeting", id).diff(&before.audit_json(), &after.audit_json()),
    )?;
    publish_meeting(conn, id, EventKind::Meeting, now)?;
    if moved && matches!(after.state, MeetingState::Convened | MeetingState::InSession) {
        super::notices::mail_invited(conn, &after, super::notices::Notice::Updated, mail)?;
    }
    find(conn, actor, id, now)
}

/// Moves a meeting along `draft → convened → in_session → closed`, or cancels it. Convening
/// mails every invited delegation the agenda and the calendar event.
pub fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    to: MeetingState,
    mail: &MailContext,
) -> Result<Meeting, Error> {
    let before = chaired(conn, actor, id, now)?;
    use MeetingState::{Cancelled, Closed, Convened, Draft, InSession};
    let allowed = matches!(
        (before.state, to),
        (Draft, Convened) | (Convened, InSession) | (InSession, Closed) | (Draft | Convened, Cancelled)
    );
    if !allowed {
        return Err(Error::Conflict(format!(
            "a meeting that is {} cannot become {}",
            before.state.as_str(),
            to.as_str()
        )));
    }
    let sequence = before.ical_sequence + i32::from(to == Cancelled);
    diesel::update(meetings::table.find(id))
        .set((
            meetings::state.eq(to.as_str()),
            meetings::ical_sequence.eq(sequence),
            meetings::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    if to == Closed {
        // Nothing stays on the floor once the meeting closes.
        diesel::update(
            agenda_items::table
                .filter(agenda_items::meeting_id.eq(id))
                .filter(agenda_items::state.eq(ItemState::Current.as_str())),
        )
        .set(agenda_items::state.eq(ItemState::Done.as_str()))
        .execute(conn)?;
        publish_agenda(conn, id, now)?;
    }
    let after = load_meeting(conn, id)?;
    let action = match to {
        Convened => "meeting.convene",
        InSession => "meeting.open",
        Closed => "meeting.close",
        _ => "meeting.cancel",
    };
    audit::record(conn, AuditEntry::by(actor, action, "meeting", id).diff(&before.audit_json(), &after.audit_json()))?;
    publish_meeting(conn, id, EventKind::State, now)?;
    match to {
        Convened => super::notices::mail_invited(conn, &after, super::notices::Notice::Convened, mail)?,
        Cancelled if before.state == Convened => {
            super::notices::mail_invited(conn, &after, super::notices::Notice::Cancelled, mail)?
        }
        _ => {}
    }
    find(conn, actor, id, now)
}

/// Invites (`invite`) or uninvites a guest organisation to this meeting only.
pub fn set_guest(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    org: i64,
    invite: bool,
) -> Result<(), Error> {
    let meeting = chaired(conn, actor, id, now)?;
    let kind: String = organisations::table
        .find(org)
        .select(organisations::kind)
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no organisation {org}")))?;
    if kind != OrganisationKind::Guest.as_str() {
        return Err(Error::invalid(
            "organisation_id",
            "only guest organisations are invited one meeting at a time; members and observers come with the body",
        ));
    }
    if matches!(meeting.state, MeetingState::Closed | MeetingState::Cancelled) {
        return Err(Error::Conflict(format!("the meeting is {}", meeting.state.as_str())));
    }
    let exists = invitation_role(conn, id, org)?.is_some();
    if invite && !exists {
        diesel::insert_into(meeting_invitations::table)
            .values((
                meeting_invitations::meeting_id.eq(id),
                meeting_invitations::organisation_id.eq(org),
                meeting_invitations::role.eq(InvitationRole::Guest.as_str()),
            ))
            .execute(conn)?;
    } else if !invite {
        if !exists {
            return Err(Error::NotFound(format!("organisation {org} is not invited")));
        }
        diesel::delete(meeting_invitations::table.find((id, org))).execute(conn)?;
    }
    let action = if invite { "meeting.guest.invite" } else { "meeting.guest.remove" };
    audit::record(conn, AuditEntry::by(actor, action, "meeting", id).created(&json!({"organisation_id": org})))?;
    publish_meeting(conn, id, EventKind::Meeting, now)
}

/// Registers (`attend`) or unregisters a delegate: the delegation itself, or the secretariat.
pub fn set_attendance(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    user_id: i64,
    attend: bool,
) -> Result<(), Error> {
    let seen = seen(conn, actor, id, now)?;
    let org: i64 = users::table
        .find(user_id)
        .select(users::organisation_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no user {user_id}")))?;
    let invited = invitation_role(conn, id, org)?.is_some();
    authorize(actor, &Action::RegisterAttendance { organisation_id: org, invited })?;
    if !invited {
        return Err(Error::invalid("user_id", "this delegate's organisation is not invited to the meeting"));
    }
    if !matches!(seen.meeting.state, MeetingState::Convened | MeetingState::InSession) {
        return Err(Error::Conflict("delegates register once the meeting is convened, until it closes".into()));
    }
    let exists: i64 = meeting_attendance::table.find((id, user_id)).count().get_result(conn)?;
    match (attend, exists > 0) {
        (true, false) => {
            diesel::insert_into(meeting_attendance::table)
                .values((
                    meeting_attendance::meeting_id.eq(id),
                    meeting_attendance::user_id.eq(user_id),
                    meeting_attendance::registered_by.eq(actor.user_id),
                    meeting_attendance::registered_at.eq(now.naive_utc()),
                ))
                .execute(conn)?;
        }
        (false, true) => {
            diesel::delete(meeting_attendance::table.find((id, user_id))).execute(conn)?;
        }
        (false, false) => return Err(Error::NotFound(format!("user {user_id} is not registered"))),
        (true, true) => return Ok(()),
    }
    let action = if attend { "meeting.attendance.add" } else { "meeting.attendance.remove" };
    audit::record(conn, AuditEntry::by(actor, action, "meeting", id).created(&json!({"user_id": user_id})))?;
    publish_meeting(conn, id, EventKind::Attendance, now)
}

// ---- the agenda ------------------------------------------------------------------------

/// The agenda as the actor may see it.
/// The agenda as `actor` may see it, with the facts that decide who may read it (kept with it by
/// this instance's [`AgendaCache`](super::cache::AgendaCache)); call it in one consistent read.
pub fn agenda(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(Agenda, ReadFacts), Error> {
    let seen = seen(conn, actor, id, now)?;
    let invited = meeting_invitations::table
        .filter(meeting_invitations::meeting_id.eq(id))
        .select(meeting_invitations::organisation_id)
        .load(conn)?;
    let agenda = agenda_view(conn, &seen.meeting, seen.restricted)?;
    Ok((agenda, ReadFacts { state: seen.meeting.state, invited }))
}

fn editable(meeting: &MeetingRow) -> Result<(), Error> {
    if meeting.agenda_open() {
        Ok(())
    } else {
        Err(Error::Conflict(format!("the meeting is {}: its agenda can no longer change", meeting.state.as_str())))
    }
}

fn load_item(conn: &mut DbConnection, id: i64) -> Result<ItemRow, Error> {
    agenda_items::table
        .find(id)
        .select(ItemRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no agenda item {id}")))
}

/// An item the actor may see (a closed-session item does not exist for observers and guests),
/// with its meeting as seen by the actor.
fn seen_item(conn: &mut DbConnection, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<(ItemRow, Seen), Error> {
    let item = load_item(conn, id)?;
    let seen = seen(conn, actor, item.meeting_id, now)?;
    if seen.restricted {
        let items = items_of(conn, item.meeting_id)?;
        if items.iter().any(|c| c.closed_session && agenda::is_within(&items, c.id, item.id)) {
            return Err(Error::NotFound(format!("no agenda item {id}")));
        }
    }
    Ok((item, seen))
}

/// Adds an item at the end of its parent's list.
pub fn add_item(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: NewItem,
) -> Result<AgendaItem, Error> {
    let valid = check_item(
        &input.title,
        &input.description,
        input.purpose.unwrap_or(Purpose::ForDiscussion),
        &input.presenter,
        input.duration_minutes,
        input.closed_session,
    )?;
    let meeting = chaired(conn, actor, id, now)?;
    editable(&meeting)?;
    let items = items_of(conn, id)?;
    if let Some(parent) = input.parent_id
        && !items.iter().any(|i| i.id == parent)
    {
        return Err(Error::invalid("parent_id", "no such item on this agenda"));
    }
    let position = items.iter().filter(|i| i.parent_id == input.parent_id).map(|i| i.position + 1).max().unwrap_or(0);
    let item_id: i64 = diesel::insert_into(agenda_items::table)
        .values((
            agenda_items::meeting_id.eq(id),
            agenda_items::parent_id.eq(input.parent_id),
            agenda_items::position.eq(position),
            agenda_items::title.eq(&valid.title),
            agenda_items::description.eq(&valid.description),
            agenda_items::purpose.eq(valid.purpose.as_str()),
            agenda_items::presenter.eq(&valid.presenter),
            agenda_items::duration_minutes.eq(valid.duration_minutes),
            agenda_items::closed_session.eq(valid.closed_session),
            agenda_items::state.eq(ItemState::Pending.as_str()),
            agenda_items::created_at.eq(now.naive_utc()),
            agenda_items::updated_at.eq(now.naive_utc()),
        ))
        .returning(agenda_items::id)
        .get_result(conn)?;
    let item = load_item(conn, item_id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "agenda_item.create", "agenda_item", item_id).created(&item.audit_json()),
    )?;
    amend(conn, actor, &meeting, Some(&item), "added", String::new(), now)?;
    publish_agenda(conn, id, now)?;
    item_view(conn, &meeting, item_id)
}

/// Inserts a checked item (the demo seeds with it; callers authorize, audit and publish).
pub fn insert_item(
    conn: &mut DbConnection,
    meeting_id: i64,
    parent_id: Option<i64>,
    position: i32,
    item: &super::model::ValidItem,
    state: ItemState,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    Ok(diesel::insert_into(agenda_items::table)
        .values((
            agenda_items::meeting_id.eq(meeting_id),
            agenda_items::parent_id.eq(parent_id),
            agenda_items::position.eq(position),
            agenda_items::title.eq(&item.title),
            agenda_items::description.eq(&item.description),
            agenda_items::purpose.eq(item.purpose.as_str()),
            agenda_items::presenter.eq(&item.presenter),
            agenda_items::duration_minutes.eq(item.duration_minutes),
            agenda_items::closed_session.eq(item.closed_session),
            agenda_items::state.eq(state.as_str()),
            agenda_items::created_at.eq(now.naive_utc()),
            agenda_items::updated_at.eq(now.naive_utc()),
        ))
        .returning(agenda_items::id)
        .get_result(conn)?)
}

fn item_view(conn: &mut DbConnection, meeting: &MeetingRow, item_id: i64) -> Result<AgendaItem, Error> {
    agenda_view(conn, meeting, false)?
        .items
        .into_iter()
        .find(|i| i.id == item_id)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("agenda item {item_id} missing from its agenda")))
}

/// Changes an item (its text, purpose, presenter, duration, closed session or state).
pub fn update_item(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: ItemUpdate,
) -> Result<AgendaItem, Error> {
    let (before, _) = seen_item(conn, actor, id, now)?;
    let valid = check_item(
        input.title.as_deref().unwrap_or(&before.title),
        input.description.as_deref().unwrap_or(&before.description),
        input.purpose.unwrap_or(before.purpose),
        input.presenter.as_deref().unwrap_or(&before.presenter),
        input.duration_minutes.unwrap_or(before.duration_minutes),
        input.closed_session.unwrap_or(before.closed_session),
    )?;
    let meeting = chaired(conn, actor, before.meeting_id, now)?;
    editable(&meeting)?;
    let state = input.state.unwrap_or(before.state);
    if state == ItemState::Current && before.state != ItemState::Current {
        return Err(Error::invalid("state", "use POST /api/meetings/{id}/current-item to put an item on the floor"));
    }
    diesel::update(agenda_items::table.find(id))
        .set((
            agenda_items::title.eq(&valid.title),
            agenda_items::description.eq(&valid.description),
            agenda_items::purpose.eq(valid.purpose.as_str()),
            agenda_items::presenter.eq(&valid.presenter),
            agenda_items::duration_minutes.eq(valid.duration_minutes),
            agenda_items::closed_session.eq(valid.closed_session),
            agenda_items::state.eq(state.as_str()),
            agenda_items::current_since.eq(if state == ItemState::Current { before.current_since } else { None }),
            agenda_items::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let after = load_item(conn, id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "agenda_item.update", "agenda_item", id).diff(&before.audit_json(), &after.audit_json()),
    )?;
    let changes = crate::audit::changes(&before.audit_json(), &after.audit_json());
    let detail = changes.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default();
    // An item that was or became closed keeps the amendment among participants.
    let mut noted = after.clone();
    noted.closed_session = before.closed_session || after.closed_session;
    amend(conn, actor, &meeting, Some(&noted), "changed", detail, now)?;
    publish_agenda(conn, before.meeting_id, now)?;
    item_view(conn, &meeting, id)
}

/// Removes an item without sub-items (its documents and draft links go with it; drafts that
/// belonged to it stay with the meeting).
pub fn delete_item(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<(), Error> {
    let (item, _) = seen_item(conn, actor, id, now)?;
    let meeting = chaired(conn, actor, item.meeting_id, now)?;
    editable(&meeting)?;
    let children: i64 = agenda_items::table.filter(agenda_items::parent_id.eq(id)).count().get_result(conn)?;
    if children > 0 {
        return Err(Error::Conflict("this item has sub-items: move or delete them first".into()));
    }
    amend(conn, actor, &meeting, Some(&item), "removed", String::new(), now)?;
    diesel::delete(agenda_documents::table.filter(agenda_documents::item_id.eq(id))).execute(conn)?;
    diesel::delete(agenda_item_drafts::table.filter(agenda_item_drafts::item_id.eq(id))).execute(conn)?;
    diesel::update(drafts::table.filter(drafts::agenda_item_id.eq(id)))
        .set(drafts::agenda_item_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(agenda_items::table.find(id)).execute(conn)?;
    let siblings: Vec<ItemRow> = items_of(conn, item.meeting_id)?;
    renumber(conn, &siblings, item.parent_id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "agenda_item.delete", "agenda_item", id).diff(&item.audit_json(), &Value::Null),
    )?;
    publish_agenda(conn, item.meeting_id, now)
}

fn renumber(conn: &mut DbConnection, items: &[ItemRow], parent: Option<i64>) -> Result<(), Error> {
    let mut list: Vec<&ItemRow> = items.iter().filter(|i| i.parent_id == parent).collect();
    list.sort_by_key(|i| (i.position, i.id));
    for (n, item) in list.iter().enumerate() {
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        if item.position != n {
            diesel::update(agenda_items::table.find(item.id)).set(agenda_items::position.eq(n)).execute(conn)?;
        }
    }
    Ok(())
}

/// Moves one item under a parent at a position; the whole agenda renumbers.
pub fn move_item(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: ItemMove,
) -> Result<Agenda, Error> {
    let meeting = chaired(conn, actor, id, now)?;
    editable(&meeting)?;
    let items = items_of(conn, id)?;
    let Some(item) = items.iter().find(|i| i.id == input.item_id).cloned() else {
        return Err(Error::invalid("item_id", "no such item on this agenda"));
    };
    if let Some(parent) = input.parent_id {
        if !items.iter().any(|i| i.id == parent) {
            return Err(Error::invalid("parent_id", "no such item on this agenda"));
        }
        if agenda::is_within(&items, item.id, parent) {
            return Err(Error::invalid("parent_id", "an item cannot move under itself or one of its sub-items"));
        }
    }
    if input.position < 0 {
        return Err(Error::invalid("position", "must be 0 or more"));
    }
    let before = agenda::numbered(&items).into_iter().find(|(i, _)| i.id == item.id).map(|(_, n)| n);
    for (item_id, parent, position) in
        agenda::moved(&items, item.id, input.parent_id, usize::try_from(input.position).unwrap_or(0))
    {
        diesel::update(agenda_items::table.find(item_id))
            .set((agenda_items::parent_id.eq(parent), agenda_items::position.eq(position)))
            .execute(conn)?;
    }
    let after_items = items_of(conn, id)?;
    let after = agenda::numbered(&after_items).into_iter().find(|(i, _)| i.id == item.id).map(|(_, n)| n);
    audit::record(
        conn,
        AuditEntry::by(actor, "agenda_item.move", "agenda_item", item.id)
            .diff(&json!({"number": before}), &json!({"number": after})),
    )?;
    amend(
        conn,
        actor,
        &meeting,
        Some(&item),
        "moved",
        format!("from {} to {}", before.unwrap_or_default(), after.clone().unwrap_or_default()),
        now,
    )?;
    publish_agenda(conn, id, now)?;
    let meeting = load_meeting(conn, id)?;
    agenda_view(conn, &meeting, false)
}

/// Adopts the agenda as it stands; later changes are recorded as amendments.
pub fn adopt_agenda(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<Agenda, Error> {
    let meeting = chaired(conn, actor, id, now)?;
    if !matches!(meeting.state, MeetingState::Convened | MeetingState::InSession) {
        return Err(Error::Conflict("the agenda is adopted at the meeting: convene it first".into()));
    }
    if meeting.agenda_state == AgendaState::Adopted {
        return Err(Error::Conflict("the agenda is already adopted".into()));
    }
    diesel::update(meetings::table.find(id))
        .set((
            meetings::agenda_state.eq(AgendaState::Adopted.as_str()),
            meetings::agenda_adopted_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "agenda.adopt", "meeting", id).created(&json!({"agenda_state": "adopted"})),
    )?;
    publish_agenda(conn, id, now)?;
    let meeting = load_meeting(conn, id)?;
    agenda_view(conn, &meeting, false)
}

/// Puts an item on the floor (or none): the item that was current is done.
pub fn set_current(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    item: Option<i64>,
) -> Result<Agenda, Error> {
    let meeting = chaired(conn, actor, id, now)?;
    if meeting.state != MeetingState::InSession {
        return Err(Error::Conflict("items are taken up while the meeting is in session: open it first".into()));
    }
    let items = items_of(conn, id)?;
    if let Some(item) = item
        && !items.iter().any(|i| i.id == item)
    {
        return Err(Error::invalid("item_id", "no such item on this agenda"));
    }
    let previous = items.iter().find(|i| i.state == ItemState::Current).map(|i| i.id);
    if previous == item {
        return agenda_view(conn, &meeting, false);
    }
    if let Some(prev) = previous {
        diesel::update(agenda_items::table.find(prev))
            .set((
                agenda_items::state.eq(ItemState::Done.as_str()),
                agenda_items::current_since.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    if let Some(item) = item {
        diesel::update(agenda_items::table.find(item))
            .set((agenda_items::state.eq(ItemState::Current.as_str()), agenda_items::current_since.eq(now.naive_utc())))
            .execute(conn)?;
    }
    audit::record(
        conn,
        AuditEntry::by(actor, "meeting.current_item", "meeting", id)
            .diff(&json!({"item_id": previous}), &json!({"item_id": item})),
    )?;
    publish_agenda(conn, id, now)?;
    agenda_view(conn, &meeting, false)
}

/// Links (`link`) or unlinks a draft to an item.
pub fn link_draft(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    draft_id: i64,
    link: bool,
) -> Result<(), Error> {
    let (item, _) = seen_item(conn, actor, item_id, now)?;
    let meeting = chaired(conn, actor, item.meeting_id, now)?;
    editable(&meeting)?;
    let found: i64 = drafts::table.find(draft_id).count().get_result(conn)?;
    if found == 0 {
        return Err(Error::NotFound(format!("no draft {draft_id}")));
    }
    let exists: i64 = agenda_item_drafts::table.find((item_id, draft_id)).count().get_result(conn)?;
    match (link, exists > 0) {
        (true, false) => {
            diesel::insert_into(agenda_item_drafts::table)
                .values((agenda_item_drafts::item_id.eq(item_id), agenda_item_drafts::draft_id.eq(draft_id)))
                .execute(conn)?;
        }
        (false, true) => {
            diesel::delete(agenda_item_drafts::table.find((item_id, draft_id))).execute(conn)?;
            // A draft that belonged to this item no longer does (it stays with the meeting).
            diesel::update(drafts::table.find(draft_id).filter(drafts::agenda_item_id.eq(item_id)))
                .set(drafts::agenda_item_id.eq(None::<i64>))
                .execute(conn)?;
        }
        (false, false) => return Err(Error::NotFound(format!("draft {draft_id} is not linked to item {item_id}"))),
        (true, true) => return Ok(()),
    }
    let action = if link { "agenda_item.link_draft" } else { "agenda_item.unlink_draft" };
    audit::record(conn, AuditEntry::by(actor, action, "agenda_item", item_id).created(&json!({"draft_id": draft_id})))?;
    publish_agenda(conn, item.meeting_id, now)
}

/// Makes sure the item lists the draft: links it (with [`link_draft`]'s checks, its audit and
/// its live event) unless it is listed already.
pub fn ensure_draft_listed(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    draft_id: i64,
) -> Result<(), Error> {
    let listed: i64 = agenda_item_drafts::table.find((item_id, draft_id)).count().get_result(conn)?;
    if listed > 0 { Ok(()) } else { link_draft(conn, actor, now, item_id, draft_id, true) }
}

/// Checks where a draft of `body_id` is to belong, as `actor` sees things at `now`: the meeting
/// must be one of that body's, the agenda item one of that meeting's; given only the item, the
/// meeting is the item's. A meeting or item the actor may not see (a closed-session item, for an
/// observer) is "no such" one. 422 naming the field otherwise. Returns the meeting and the item.
pub fn check_draft_place(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    body_id: Option<i64>,
    meeting_id: Option<i64>,
    item_id: Option<i64>,
) -> Result<(Option<i64>, Option<i64>), Error> {
    let item = match item_id.map(|id| seen_item(conn, actor, id, now)).transpose() {
        Ok(item) => item.map(|(item, _)| item),
        Err(Error::NotFound(_)) => return Err(Error::invalid("agenda_item_id", "no such agenda item")),
        Err(err) => return Err(err),
    };
    // Given only the item, what is wrong with its meeting is wrong with the item.
    let (meeting_id, field) = match (meeting_id, &item) {
        (Some(id), _) => (id, "meeting_id"),
        (None, Some(item)) => (item.meeting_id, "agenda_item_id"),
        (None, None) => return Ok((None, None)),
    };
    let meeting = match seen(conn, actor, meeting_id, now) {
        Ok(seen) => seen.meeting,
        Err(Error::NotFound(_)) if field == "meeting_id" => return Err(Error::invalid(field, "no such meeting")),
        Err(Error::NotFound(_)) => return Err(Error::invalid(field, "no such agenda item")),
        Err(err) => return Err(err),
    };
    if Some(meeting.body_id) != body_id {
        let what = if field == "meeting_id" {
            "is a meeting of another body"
        } else {
            "is on the agenda of another body's meeting"
        };
        return Err(Error::invalid(field, what));
    }
    if let Some(item) = &item
        && item.meeting_id != meeting.id
    {
        return Err(Error::invalid("agenda_item_id", "is not on the agenda of this meeting"));
    }
    Ok((Some(meeting.id), item.map(|i| i.id)))
}

/// Where a draft belongs, as one person may see it: its meeting and its agenda item.
pub type DraftPlace = (Option<MeetingRef>, Option<AgendaItemRef>);

/// What `actor` may see, at `now`, of the places drafts belong to: for each `(meeting, item)`
/// pair, the meeting if the actor may see it, and the item too unless it is closed to the actor.
/// Each meeting is looked at once however many drafts belong to it.
pub fn draft_places(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    places: &[(Option<i64>, Option<i64>)],
) -> Result<Vec<DraftPlace>, Error> {
    let mut meetings: HashMap<i64, Option<(MeetingRef, Vec<AgendaItemRef>)>> = HashMap::new();
    for meeting_id in places.iter().filter_map(|p| p.0) {
        if meetings.contains_key(&meeting_id) {
            continue;
        }
        let visible = match seen(conn, actor, meeting_id, now) {
            Ok(seen) => {
                let rows = items_of(conn, meeting_id)?;
                let closed = closed_items(&rows);
                let items = agenda::numbered(&rows)
                    .into_iter()
                    .filter(|(i, _)| !(seen.restricted && closed.contains(&i.id)))
                    .map(|(i, number)| AgendaItemRef { id: i.id, number, title: i.title.clone() })
                    .collect();
                Some((MeetingRef { id: seen.meeting.id, title: seen.meeting.title }, items))
            }
            Err(Error::NotFound(_)) => None,
            Err(err) => return Err(err),
        };
        meetings.insert(meeting_id, visible);
    }
    Ok(places
        .iter()
        .map(|(meeting_id, item_id)| match meeting_id.and_then(|id| meetings.get(&id)).and_then(Option::as_ref) {
            Some((meeting, items)) => {
                (Some(meeting.clone()), item_id.and_then(|id| items.iter().find(|i| i.id == id).cloned()))
            }
            None => (None, None),
        })
        .collect())
}

/// The meetings whose agenda links the draft.
pub fn meetings_linking(conn: &mut DbConnection, draft_id: i64) -> Result<Vec<i64>, Error> {
    let mut meetings: Vec<i64> = agenda_item_drafts::table
        .inner_join(agenda_items::table.on(agenda_items::id.eq(agenda_item_drafts::item_id)))
        .filter(agenda_item_drafts::draft_id.eq(draft_id))
        .select(agenda_items::meeting_id)
        .load(conn)?;
    meetings.sort_unstable();
    meetings.dedup();
    Ok(meetings)
}

/// A linked draft moved a step (final reading, objections, adoption …): every meeting whose
/// agenda links it gets an agenda event, in the caller's transaction. Returns those meetings,
/// whose live feeds the caller wakes after the commit.
pub fn draft_changed(conn: &mut DbConnection, draft_id: i64, now: DateTime<Utc>) -> Result<Vec<i64>, Error> {
    let meetings = meetings_linking(conn, draft_id)?;
    for meeting in &meetings {
        publish_agenda(conn, *meeting, now)?;
    }
    Ok(meetings)
}

/// Whether a guest's organisation is invited to a meeting (not closed, not cancelled) where
/// this draft is linked to an item that is not in closed session: then its delegates may read it.
pub fn guest_may_read_draft(conn: &mut DbConnection, organisation_id: i64, draft_id: i64) -> Result<bool, Error> {
    let linked: Vec<i64> = agenda_item_drafts::table
        .filter(agenda_item_drafts::draft_id.eq(draft_id))
        .select(agenda_item_drafts::item_id)
        .load(conn)?;
    let items: Vec<ItemRow> =
        agenda_items::table.filter(agenda_items::id.eq_any(&linked)).select(ItemRow::as_select()).load(conn)?;
    for item in items {
        let Ok(meeting) = load_meeting(conn, item.meeting_id) else { continue };
        if matches!(meeting.state, MeetingState::Draft | MeetingState::Cancelled) {
            continue;
        }
        let all = items_of(conn, meeting.id)?;
        let closed = all.iter().any(|c| c.closed_session && agenda::is_within(&all, c.id, item.id));
        if !closed && invitation_role(conn, meeting.id, organisation_id)? == Some(InvitationRole::Guest) {
            return Ok(true);
        }
    }
    Ok(false)
}

// ---- documents -------------------------------------------------------------------------

/// Attaches an uploaded, checked document to an item.
pub fn add_document(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    file: super::documents::CheckedFile,
) -> Result<Document, Error> {
    let (item, _) = seen_item(conn, actor, item_id, now)?;
    let meeting = chaired(conn, actor, item.meeting_id, now)?;
    editable(&meeting)?;
    let id: i64 = diesel::insert_into(agenda_documents::table)
        .values((
            agenda_documents::item_id.eq(item_id),
            agenda_documents::filename.eq(&file.filename),
            agenda_documents::content_type.eq(file.content_type),
            agenda_documents::size.eq(i64::try_from(file.data.len()).unwrap_or(i64::MAX)),
            agenda_documents::sha256.eq(&file.sha256),
            agenda_documents::data.eq(&file.data),
            agenda_documents::uploaded_by.eq(actor.user_id),
            agenda_documents::uploaded_at.eq(now.naive_utc()),
        ))
        .returning(agenda_documents::id)
        .get_result(conn)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "document.upload", "document", id).created(
            &json!({"item_id": item_id, "filename": file.filename, "content_type": file.content_type, "size": file.data.len(), "sha256": file.sha256}),
        ),
    )?;
    amend(conn, actor, &meeting, Some(&item), "document added", file.filename.clone(), now)?;
    publish_agenda(conn, item.meeting_id, now)?;
    Ok(Document {
        id,
        filename: file.filename,
        content_type: file.content_type.to_string(),
        size: i64::try_from(file.data.len()).unwrap_or(i64::MAX),
        uploaded_at: now,
    })
}

/// A document's name, type and bytes, if the actor may see its item.
pub fn document(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> Result<(String, String, Vec<u8>), Error> {
    let (item_id, filename, content_type, data): (i64, String, String, Vec<u8>) = agenda_documents::table
        .find(id)
        .select((
            agenda_documents::item_id,
            agenda_documents::filename,
            agenda_documents::content_type,
            agenda_documents::data,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no document {id}")))?;
    seen_item(conn, actor, item_id, now).map_err(|_| Error::NotFound(format!("no document {id}")))?;
    Ok((filename, content_type, data))
}

/// Removes a document.
pub fn delete_document(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<(), Error> {
    let (item_id, filename): (i64, String) = agenda_documents::table
        .find(id)
        .select((agenda_documents::item_id, agenda_documents::filename))
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no document {id}")))?;
    let (item, _) = seen_item(conn, actor, item_id, now).map_err(|_| Error::NotFound(format!("no document {id}")))?;
    let meeting = chaired(conn, actor, item.meeting_id, now)?;
    editable(&meeting)?;
    diesel::delete(agenda_documents::table.find(id)).execute(conn)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "document.delete", "document", id).diff(&json!({"filename": filename}), &Value::Null),
    )?;
    amend(conn, actor, &meeting, Some(&item), "document removed", filename, now)?;
    publish_agenda(conn, item.meeting_id, now)
}

// ---- the live feed's first frame and the calendar ---------------------------------------

/// The snapshot a follower starts from: the meeting, its agenda (as the actor may see them),
/// and the number of the last event they include.
pub fn snapshot(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(i64, Value, bool), Error> {
    let seen = seen(conn, actor, id, now)?;
    let meeting = meeting_view(conn, actor, &seen)?;
    let agenda = agenda_view(conn, &seen.meeting, seen.restricted)?;
    let seq = seen.meeting.event_seq;
    Ok((
        seq,
        json!({"type": "snapshot", "seq": seq, "server_now": now, "meeting": meeting, "agenda": agenda}),
        seen.restricted,
    ))
}

/// The meeting (and, for a body, every meeting) as iCalendar, as the actor may see them.
pub fn calendar_of_meeting(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
    public_url: &str,
) -> Result<String, Error> {
    let seen = seen(conn, actor, id, now)?;
    let agenda = agenda_view(conn, &seen.meeting, seen.restricted)?;
    let names = body_short_names(conn)?;
    Ok(super::calendar::calendar(&[(&seen.meeting, &agenda)], &names, public_url))
}

/// Every meeting of a body the actor may see, as a subscribable iCalendar feed.
pub fn calendar_of_body(
    conn: &mut DbConnection,
    actor: &Actor,
    body_id: i64,
    now: DateTime<Utc>,
    public_url: &str,
) -> Result<String, Error> {
    authorize(actor, &Action::ViewBodies)?;
    crate::bodies::service::load_body(conn, body_id)?;
    let ids: Vec<i64> = meetings::table
        .filter(meetings::body_id.eq(body_id))
        .order(meetings::starts_at.asc())
        .select(meetings::id)
        .load(conn)?;
    let mut pairs = Vec::new();
    for id in ids {
        if let Ok(seen) = seen(conn, actor, id, now) {
            let agenda = agenda_view(conn, &seen.meeting, seen.restricted)?;
            pairs.push((seen.meeting, agenda));
        }
    }
    let names = body_short_names(conn)?;
    let refs: Vec<(&MeetingRow, &Agenda)> = pairs.iter().map(|(m, a)| (m, a)).collect();
    Ok(super::calendar::calendar(&refs, &names, public_url))
}

// ---- home ------------------------------------------------------------------------------

/// What a person sees after signing in: meetings in session and upcoming, open drafts, and
/// what needs them.
pub fn home(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>) -> Result<Home, Error> {
    let in_session = list(conn, actor, now, None, Some("in_session"))?;
    let upcoming: Vec<MeetingSummary> = list(conn, actor, now, None, Some("upcoming"))?.into_iter().take(10).collect();
    let mut needs = Vec::new();
    for m in &upcoming {
        if m.state == MeetingState::Draft {
            needs.push(Need {
                kind: "convene".into(),
                message: format!("{} is not convened yet", m.title),
                meeting_id: Some(m.id),
                body_id: Some(m.body_id),
            });
        }
    }
    for (body_id, code, message) in crate::bodies::service::attention(conn, actor, now)? {
        needs.push(Need { kind: code.as_str().into(), message, meeting_id: None, body_id: Some(body_id) });
    }
    let drafts = if authorize(actor, &Action::ReadDraft { linked_for_guest: false }).is_ok() {
        drafts::table
            .filter(drafts::state.eq("drafting"))
            .order(drafts::updated_at.desc())
            .limit(10)
            .select((drafts::id, drafts::title, drafts::state))
            .load::<(i64, String, String)>(conn)?
            .into_iter()
            .map(|(id, title, state)| HomeDraft { id, title, state })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Home { in_session, upcoming, drafts, needs })
}
