//! The bodies use cases: functions over a connection, the acting person, the instant of the
//! request (from the injected clock) and validated input. They authorize (with the actor's
//! [`Standing`] read from the terms in force at that instant), change, audit and queue mail in the
//! caller's transaction, and know nothing of HTTP: the handlers, the demo and the scheduler
//! ([`run_scheduled`]) all go through them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::model::{
    ActingChair, ActingChairRow, Body, BodyKind, BodyRow, BodySummary, BodyUpdate, Handover, InOffice, Member,
    MemberInput, MemberRow, NewTerm, Office, PersonRef, RotationRule, Term, TermRow, TermUpdate, ValidBodyUpdate,
    ValidNewBody, ValidRotation, ValidTerm, Warning, WarningCode,
};
use super::rotation;
use crate::accounts::actor::Actor;
use crate::accounts::model::{Organisation, OrganisationKind, OrganisationRef, OrganisationRow, OrganisationStatus};
use crate::accounts::service::MailContext;
use crate::audit::{self, AuditEntry};
use crate::db::DbConnection;
use crate::db::schema::{acting_chairs, bodies, body_members, chair_notices, chair_terms, organisations, users};
use crate::error::{Error, FieldError};
use crate::mail::{self, Template};
use crate::policy::{Action, Standing, authorize};

// ---- loading ---------------------------------------------------------------------------

/// A body by id; 404 if there is none.
pub fn load_body(conn: &mut DbConnection, id: i64) -> Result<BodyRow, Error> {
    bodies::table
        .find(id)
        .select(BodyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no body {id}")))
}

/// The plenary: the first body of that kind without a parent, if there is one.
pub fn plenary(conn: &mut DbConnection) -> Result<Option<i64>, Error> {
    Ok(bodies::table
        .filter(bodies::kind.eq(BodyKind::Plenary.as_str()))
        .filter(bodies::parent_id.is_null())
        .order(bodies::id.asc())
        .select(bodies::id)
        .first(conn)
        .optional()?)
}

/// Every term of a body, oldest first.
pub fn terms_of(conn: &mut DbConnection, body_id: i64) -> Result<Vec<TermRow>, Error> {
    Ok(chair_terms::table
        .filter(chair_terms::body_id.eq(body_id))
        .order((chair_terms::starts_on.asc(), chair_terms::id.asc()))
        .select(TermRow::as_select())
        .load(conn)?)
}

/// The acting-chair switch in force at `now`, with the vice-chair's term: switched on, not
/// switched off, and its vice-chair still in office.
fn acting_at(
    conn: &mut DbConnection,
    body: &BodyRow,
    terms: &[TermRow],
    now: DateTime<Utc>,
) -> Result<Option<(ActingChairRow, TermRow)>, Error> {
    let today = body.today(now);
    let rows: Vec<ActingChairRow> = acting_chairs::table
        .filter(acting_chairs::body_id.eq(body.id))
        .filter(acting_chairs::ended_at.is_null())
        .filter(acting_chairs::since.le(now.naive_utc()))
        .select(ActingChairRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().find_map(|row| {
        let term = terms.iter().find(|t| t.id == row.term_id && t.in_force(today))?.clone();
        Some((row, term))
    }))
}

/// Whether `actor` holds `term`: its organisation holds it and, where it names one delegate,
/// the actor is that delegate.
fn holds(actor: &Actor, term: &TermRow) -> bool {
    term.organisation_id == actor.organisation_id && term.person_user_id.is_none_or(|p| p == actor.user_id)
}

fn standing_in(actor: &Actor, body: &BodyRow, terms: &[TermRow], acting: bool, now: DateTime<Utc>) -> Standing {
    let (chairs, vice) = rotation::in_force(terms, body.today(now));
    let vice_chair = vice.is_some_and(|t| holds(actor, t));
    Standing { chair: chairs.iter().any(|t| holds(actor, t)), vice_chair, acting_chair: vice_chair && acting }
}

/// What `actor` holds in body `body_id` at `now`, read from the terms in force then (in the
/// body's time zone). Nothing is stored: on the handover instant the answer changes by itself.
pub fn standing(conn: &mut DbConnection, actor: &Actor, body_id: i64, now: DateTime<Utc>) -> Result<Standing, Error> {
    let body = load_body(conn, body_id)?;
    let terms = terms_of(conn, body_id)?;
    let acting = acting_at(conn, &body, &terms, now)?.is_some();
    Ok(standing_in(actor, &body, &terms, acting, now))
}

// ---- views -----------------------------------------------------------------------------

/// Organisations and people named by terms, loaded once per request.
struct Names {
    orgs: HashMap<i64, OrganisationRef>,
    people: HashMap<i64, PersonRef>,
}

impl Names {
    fn load(conn: &mut DbConnection, terms: &[&TermRow], extra_people: &[i64]) -> Result<Self, Error> {
        let org_ids: Vec<i64> = terms.iter().map(|t| t.organisation_id).collect();
        let orgs = organisations::table
            .filter(organisations::id.eq_any(&org_ids))
            .select(OrganisationRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|row| {
                let org = Organisation::from(row);
                (org.id, OrganisationRef::from(&org))
            })
            .collect();
        let mut person_ids: Vec<i64> = terms.iter().filter_map(|t| t.person_user_id).collect();
        person_ids.extend_from_slice(extra_people);
        let people = users::table
            .filter(users::id.eq_any(&person_ids))
            .select((users::id, users::display_name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .map(|(id, display_name)| (id, PersonRef { id, display_name }))
            .collect();
        Ok(Self { orgs, people })
    }

    fn term(&self, t: &TermRow) -> Result<Term, Error> {
        let organisation = self
            .orgs
            .get(&t.organisation_id)
            .cloned()
            .ok_or_else(|| Error::internal(anyhow::anyhow!("term {} names a missing organisation", t.id)))?;
        Ok(Term {
            id: t.id,
            body_id: t.body_id,
            office: t.office,
            organisation,
            person: t.person_user_id.and_then(|p| self.people.get(&p).cloned()),
            starts_on: t.starts_on,
            ends_on: t.ends_on,
            origin: t.origin,
            note: t.note.clone(),
            cancelled: t.cancelled,
            created_at: t.created_at.and_utc(),
        })
    }

    fn terms(&self, terms: &[&TermRow]) -> Result<Vec<Term>, Error> {
        terms.iter().map(|t| self.term(t)).collect()
    }
}

fn in_office(
    conn: &mut DbConnection,
    terms: &[TermRow],
    date: NaiveDate,
    acting: Option<&(ActingChairRow, TermRow)>,
) -> Result<InOffice, Error> {
    let (chairs, vice) = rotation::in_force(terms, date);
    let mut named: Vec<&TermRow> = chairs.clone();
    named.extend(vice);
    named.extend(acting.map(|(_, t)| t));
    let names = Names::load(conn, &named, &acting.map(|(a, _)| a.set_by).into_iter().collect::<Vec<_>>())?;
    let acting_chair = match acting {
        Some((row, term)) => Some(ActingChair {
            id: row.id,
            term: names.term(term)?,
            since: row.since.and_utc(),
            reason: row.reason.clone(),
            set_by: names
                .people
                .get(&row.set_by)
                .cloned()
                .unwrap_or(PersonRef { id: row.set_by, display_name: String::new() }),
        }),
        None => None,
    };
    Ok(InOffice {
        date,
        chairs: names.terms(&chairs)?,
        vice_chair: vice.map(|t| names.term(t)).transpose()?,
        acting_chair,
    })
}

fn members_of(conn: &mut DbConnection, body_id: i64) -> Result<Vec<Member>, Error> {
    let rows: Vec<(MemberRow, OrganisationRow)> = body_members::table
        .inner_join(organisations::table)
        .filter(body_members::body_id.eq(body_id))
        .order(organisations::name.asc())
        .select((MemberRow::as_select(), OrganisationRow::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(m, o)| Member {
            organisation: OrganisationRef::from(&Organisation::from(o)),
            since: m.since,
            until: m.until,
            provisional: m.provisional,
        })
        .collect())
}

fn warnings(body: &BodyRow, terms: &[TermRow], today: NaiveDate) -> Vec<Warning> {
    rotation::warnings(body, terms, today)
        .into_iter()
        .map(|(code, message, handover_on)| Warning { code, message, handover_on })
        .collect()
}

/// Every body the actor may see, parents before children, with who holds its offices today.
pub fn list(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>) -> Result<Vec<BodySummary>, Error> {
    authorize(actor, &Action::ViewBodies)?;
    let rows: Vec<BodyRow> = bodies::table.order(bodies::id.asc()).select(BodyRow::as_select()).load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for body in tree_order(rows) {
        let terms = terms_of(conn, body.id)?;
        let acting = acting_at(conn, &body, &terms, now)?;
        out.push(BodySummary {
            in_office: in_office(conn, &terms, body.today(now), acting.as_ref())?,
            id: body.id,
            name: body.name,
            short_name: body.short_name,
            kind: body.kind,
            parent_id: body.parent_id,
            ends_on: body.ends_on,
        });
    }
    Ok(out)
}

/// Orders bodies depth-first: each parent, then its children (by id).
fn tree_order(rows: Vec<BodyRow>) -> Vec<BodyRow> {
    let ids: std::collections::HashSet<i64> = rows.iter().map(|b| b.id).collect();
    let mut children: HashMap<Option<i64>, Vec<BodyRow>> = HashMap::new();
    for row in rows {
        // A parent that is somehow missing makes a root rather than hiding the body.
        let parent = row.parent_id.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(row);
    }
    let mut out = Vec::new();
    let mut stack: Vec<BodyRow> = children.remove(&None).unwrap_or_default().into_iter().rev().collect();
    while let Some(body) = stack.pop() {
        if let Some(kids) = children.remove(&Some(body.id)) {
            stack.extend(kids.into_iter().rev());
        }
        out.push(body);
    }
    out
}

/// One body as `actor` sees it at `now`.
pub fn view(conn: &mut DbConnection, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<Body, Error> {
    authorize(actor, &Action::ViewBodies)?;
    let body = load_body(conn, id)?;
    let terms = terms_of(conn, id)?;
    let acting = acting_at(conn, &body, &terms, now)?;
    let standing = standing_in(actor, &body, &terms, acting.is_some(), now);
    let today = body.today(now);
    let can_manage = authorize(actor, &Action::ManageBody { standing }).is_ok();
    let can_set_acting_chair = authorize(actor, &Action::SetActingChair { standing, on: acting.is_none() }).is_ok();
    let next_handover = match rotation::next_handover(&terms, today) {
        Some((on, outgoing, incoming)) => {
            let all: Vec<&TermRow> = outgoing.iter().chain(incoming.iter()).copied().collect();
            let names = Names::load(conn, &all, &[])?;
            Some(Handover {
                on,
                at: body.day_starts(on),
                outgoing: names.terms(&outgoing)?,
                incoming: names.terms(&incoming)?,
            })
        }
        None => None,
    };
    Ok(Body {
        members: members_of(conn, id)?,
        in_office: in_office(conn, &terms, today, acting.as_ref())?,
        warnings: if can_manage { warnings(&body, &terms, today) } else { Vec::new() },
        next_handover,
        can_manage,
        can_set_acting_chair,
        rotation: body.rotation(),
        id: body.id,
        name: body.name,
        short_name: body.short_name,
        kind: body.kind,
        mandate: body.mandate,
        parent_id: body.parent_id,
        created_on: body.created_on,
        ends_on: body.ends_on,
        observers_may_join: body.observers_may_join,
        observers_may_chair: body.observers_may_chair,
        time_zone: body.time_zone,
    })
}

/// Who holds the body's offices on `at` (default: today in the body's time zone).
pub fn chair_at(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    at: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<InOffice, Error> {
    authorize(actor, &Action::ViewBodies)?;
    let body = load_body(conn, id)?;
    let terms = terms_of(conn, id)?;
    let date = at.unwrap_or_else(|| body.today(now));
    // The acting switch is about the present: shown only for today.
    let acting = if date == body.today(now) { acting_at(conn, &body, &terms, now)? } else { None };
    in_office(conn, &terms, date, acting.as_ref())
}

/// Every term of a body, past and future, oldest first.
pub fn list_terms(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<Vec<Term>, Error> {
    authorize(actor, &Action::ViewBodies)?;
    load_body(conn, id)?;
    let terms = terms_of(conn, id)?;
    let refs: Vec<&TermRow> = terms.iter().collect();
    Names::load(conn, &refs, &[])?.terms(&refs)
}

// ---- bodies ----------------------------------------------------------------------------

/// Takes the body's row lock on PostgreSQL (SQLite writers are already serialised), so that two
/// instances checking terms for overlaps, or applying the rotation, take turns.
pub fn lock_body(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let n = diesel::update(bodies::table.find(id)).set(bodies::id.eq(bodies::id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound(format!("no body {id}")));
    }
    Ok(())
}

fn ensure_unique(conn: &mut DbConnection, name: &str, short: &str, except: Option<i64>) -> Result<(), Error> {
    let mut q = bodies::table
        .filter(bodies::name.eq(name).or(bodies::short_name.eq(short)))
        .select((bodies::name, bodies::short_name))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(bodies::id.ne(id));
    }
    match q.first::<(String, String)>(conn).optional()? {
        Some((n, _)) if n == name => {
            Err(Error::Duplicate { field: "name".into(), detail: format!("there is already a body named {name}") })
        }
        Some(_) => Err(Error::Duplicate {
            field: "short_name".into(),
            detail: format!("there is already a body with the short name {short}"),
        }),
        None => Ok(()),
    }
}

/// Checks the ids a rotation names (organisations of the order, the source body).
fn check_rotation(conn: &mut DbConnection, rotation: &ValidRotation, body_id: Option<i64>) -> Result<(), Error> {
    let mut errors = Vec::new();
    if !rotation.order.is_empty() {
        let found: i64 =
            organisations::table.filter(organisations::id.eq_any(&rotation.order)).count().get_result(conn)?;
        if found != i64::try_from(rotation.order.len()).unwrap_or(i64::MAX) {
            errors.push(FieldError::new("rotation.order", "names an organisation that does not exist"));
        }
    }
    if let Some(source) = rotation.source_body_id {
        if Some(source) == body_id {
            errors.push(FieldError::new("rotation.source_body_id", "cannot be the body itself"));
        } else if bodies::table.find(source).count().get_result::<i64>(conn)? == 0 {
            errors.push(FieldError::new("rotation.source_body_id", "no such body"));
        }
    }
    Error::check(errors)
}

/// Creates a body (the secretariat, or the chair of the parent body).
pub fn create(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, input: ValidNewBody) -> Result<Body, Error> {
    let parent = match input.parent_id {
        Some(parent_id) => {
            let parent = bodies::table.find(parent_id).select(BodyRow::as_select()).first(conn).optional()?;
            let parent = parent.ok_or_else(|| Error::invalid("parent_id", "no such body"))?;
            if parent.kind == BodyKind::AdHoc {
                return Err(Error::invalid("parent_id", "an ad hoc group cannot have bodies below it"));
            }
            standing(conn, actor, parent.id, now)?
        }
        None => Standing::default(),
    };
    authorize(actor, &Action::CreateBody { parent })?;
    ensure_unique(conn, &input.name, &input.short_name, None)?;
    check_rotation(conn, &input.rotation, None)?;
    let id = insert_body(conn, &input, now)?;
    let created = load_body(conn, id)?.audit_json();
    audit::record(conn, AuditEntry::by(actor, "body.create", "body", id).created(&created))?;
    view(conn, actor, id, now)
}

/// Inserts a checked body (callers authorize and audit; the demo seeds with it).
pub fn insert_body(conn: &mut DbConnection, input: &ValidNewBody, now: DateTime<Utc>) -> Result<i64, Error> {
    let at = now.naive_utc();
    let created_on = input.created_on.unwrap_or_else(|| now.date_naive());
    if input.ends_on.is_some_and(|end| end < created_on) {
        return Err(Error::invalid("ends_on", "is before the body is created"));
    }
    Ok(diesel::insert_into(bodies::table)
        .values((
            bodies::name.eq(&input.name),
            bodies::short_name.eq(&input.short_name),
            bodies::kind.eq(input.kind.as_str()),
            bodies::mandate.eq(&input.mandate),
            bodies::parent_id.eq(input.parent_id),
            bodies::created_on.eq(created_on),
            bodies::ends_on.eq(input.ends_on),
            bodies::observers_may_join.eq(input.observers_may_join),
            bodies::observers_may_chair.eq(input.observers_may_chair),
            bodies::time_zone.eq(&input.time_zone),
            bodies::rotation_rule.eq(input.rotation.rule.as_str()),
            bodies::rotation_order.eq(serde_json::to_string(&input.rotation.order).map_err(Error::internal)?),
            bodies::term_months.eq(input.rotation.term_months),
            bodies::lead_days.eq(input.rotation.lead_days),
            bodies::rotation_source_id.eq(input.rotation.source_body_id),
            bodies::created_at.eq(at),
            bodies::updated_at.eq(at),
        ))
        .returning(bodies::id)
        .get_result(conn)?)
}

/// Inserts a membership (the demo seeds with it; [`put_member`] checks and audits).
pub fn insert_member(
    conn: &mut DbConnection,
    body_id: i64,
    organisation_id: i64,
    since: NaiveDate,
    provisional: bool,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    diesel::insert_into(body_members::table)
        .values((
            body_members::body_id.eq(body_id),
            body_members::organisation_id.eq(organisation_id),
            body_members::since.eq(since),
            body_members::provisional.eq(provisional),
            body_members::created_at.eq(now.naive_utc()),
            body_members::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Changes a body (its chair, or the secretariat). A changed rotation applies at once.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    update: BodyUpdate,
) -> Result<Body, Error> {
    let before = load_body(conn, id)?;
    let input = ValidBodyUpdate::merge(&before, update)?;
    authorize(actor, &Action::ManageBody { standing: standing(conn, actor, id, now)? })?;
    lock_body(conn, id)?;
    ensure_unique(conn, &input.name, &input.short_name, Some(id))?;
    check_rotation(conn, &input.rotation, Some(id))?;
    diesel::update(bodies::table.find(id))
        .set((
            bodies::name.eq(&input.name),
            bodies::short_name.eq(&input.short_name),
            bodies::mandate.eq(&input.mandate),
            bodies::ends_on.eq(input.ends_on),
            bodies::observers_may_join.eq(input.observers_may_join),
            bodies::observers_may_chair.eq(input.observers_may_chair),
            bodies::time_zone.eq(&input.time_zone),
            bodies::rotation_rule.eq(input.rotation.rule.as_str()),
            bodies::rotation_order.eq(serde_json::to_string(&input.rotation.order).map_err(Error::internal)?),
            bodies::term_months.eq(input.rotation.term_months),
            bodies::lead_days.eq(input.rotation.lead_days),
            bodies::rotation_source_id.eq(input.rotation.source_body_id),
            bodies::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let after = load_body(conn, id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "body.update", "body", id).diff(&before.audit_json(), &after.audit_json()),
    )?;
    advance(conn, id, now)?;
    view(conn, actor, id, now)
}

// ---- members ---------------------------------------------------------------------------

fn organisation(conn: &mut DbConnection, id: i64) -> Result<Option<Organisation>, Error> {
    Ok(organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .map(Organisation::from))
}

/// Adds an organisation to a body or changes its membership; `true` when it is new.
pub fn put_member(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    body_id: i64,
    organisation_id: i64,
    input: MemberInput,
) -> Result<(Member, bool), Error> {
    let body = load_body(conn, body_id)?;
    let org = organisation(conn, organisation_id)?
        .ok_or_else(|| Error::NotFound(format!("no organisation {organisation_id}")))?;
    authorize(actor, &Action::ManageBody { standing: standing(conn, actor, body_id, now)? })?;
    match org.kind {
        OrganisationKind::Participant => {}
        OrganisationKind::Observer if body.observers_may_join => {}
        OrganisationKind::Observer => {
            return Err(Error::invalid(
                "organisation_id",
                format!("{} is an observer: {} does not admit observers", org.name, body.name),
            ));
        }
        _ => return Err(Error::invalid("organisation_id", "only participants and observers can be members of a body")),
    }
    let before: Option<MemberRow> =
        body_members::table.find((body_id, organisation_id)).select(MemberRow::as_select()).first(conn).optional()?;
    let since = input.since.or(before.as_ref().map(|m| m.since)).unwrap_or_else(|| body.today(now));
    let until = input.until.unwrap_or(before.as_ref().and_then(|m| m.until));
    let provisional = input.provisional.or(before.as_ref().map(|m| m.provisional)).unwrap_or(false);
    if until.is_some_and(|u| u < since) {
        return Err(Error::invalid("until", "must not be before the start of the membership"));
    }
    let at = now.naive_utc();
    let after = serde_json::json!({"organisation_id": organisation_id, "since": since, "until": until, "provisional": provisional});
    let resource = format!("{body_id}/{organisation_id}");
    match &before {
        Some(m) => {
            diesel::update(body_members::table.find((body_id, organisation_id)))
                .set((
                    body_members::since.eq(since),
                    body_members::until.eq(until),
                    body_members::provisional.eq(provisional),
                    body_members::updated_at.eq(at),
                ))
                .execute(conn)?;
            let old = serde_json::json!({"organisation_id": organisation_id, "since": m.since, "until": m.until, "provisional": m.provisional});
            audit::record(
                conn,
                AuditEntry::by(actor, "body.member.update", "body_member", resource).diff(&old, &after),
            )?;
        }
        None => {
            diesel::insert_into(body_members::table)
                .values((
                    body_members::body_id.eq(body_id),
                    body_members::organisation_id.eq(organisation_id),
                    body_members::since.eq(since),
                    body_members::until.eq(until),
                    body_members::provisional.eq(provisional),
                    body_members::created_at.eq(at),
                    body_members::updated_at.eq(at),
                ))
                .execute(conn)?;
            audit::record(conn, AuditEntry::by(actor, "body.member.add", "body_member", resource).created(&after))?;
        }
    }
    let member = Member { organisation: OrganisationRef::from(&org), since, until, provisional };
    Ok((member, before.is_none()))
}

/// Removes an organisation from a body (the audit log keeps what it was).
pub fn remove_member(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    body_id: i64,
    organisation_id: i64,
) -> Result<(), Error> {
    load_body(conn, body_id)?;
    authorize(actor, &Action::ManageBody { standing: standing(conn, actor, body_id, now)? })?;
    let before: MemberRow = body_members::table
        .find((body_id, organisation_id))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("organisation {organisation_id} is not a member of body {body_id}")))?;
    diesel::delete(body_members::table.find((body_id, organisation_id))).execute(conn)?;
    let old = serde_json::json!({"organisation_id": organisation_id, "since": before.since, "until": before.until, "provisional": before.provisional});
    audit::record(
        conn,
        AuditEntry::by(actor, "body.member.remove", "body_member", format!("{body_id}/{organisation_id}"))
            .diff(&old, &serde_json::Value::Null),
    )?;
    Ok(())
}

// ---- terms -----------------------------------------------------------------------------

/// Checks what a term needs from the database: an organisation allowed to hold the office, a
/// delegate of it (if one is named), and no clash with the body's other terms.
fn check_term(
    conn: &mut DbConnection,
    body: &BodyRow,
    terms: &[TermRow],
    term: &ValidTerm,
    except: Option<i64>,
) -> Result<(), Error> {
    if term.cancelled {
        return Ok(());
    }
    let mut errors = Vec::new();
    match organisation(conn, term.organisation_id)? {
        None => errors.push(FieldError::new("organisation_id", "no such organisation")),
        Some(org) => {
            if org.status != OrganisationStatus::Active {
                errors.push(FieldError::new(
                    "organisation_id",
                    format!("{} is {}: only an active organisation can hold an office", org.name, org.status.as_str()),
                ));
            }
            match org.kind {
                OrganisationKind::Participant => {}
                OrganisationKind::Observer if body.observers_may_chair => {}
                OrganisationKind::Observer => errors.push(FieldError::new(
                    "organisation_id",
                    format!(
                        "{} is an observer, and {} does not allow observers to hold its offices",
                        org.name, body.name
                    ),
                )),
                _ => errors.push(FieldError::new(
                    "organisation_id",
                    "only participants (and observers, where the body allows it) can hold an office",
                )),
            }
        }
    }
    if let Some(person) = term.person_user_id {
        let found: Option<(i64, bool)> =
            users::table.find(person).select((users::organisation_id, users::disabled)).first(conn).optional()?;
        match found {
            Some((org, false)) if org == term.organisation_id => {}
            Some((org, _)) if org != term.organisation_id => errors
                .push(FieldError::new("person_user_id", "is not a delegate of the organisation holding the office")),
            Some(_) => errors.push(FieldError::new("person_user_id", "this account is disabled")),
            None => errors.push(FieldError::new("person_user_id", "no such user")),
        }
    }
    let clashes = |other: &TermRow| match (term.office, other.office) {
        (Office::Chair, Office::Chair | Office::CoChair) | (Office::CoChair, Office::Chair) => true,
        (Office::CoChair, Office::CoChair) => other.organisation_id == term.organisation_id,
        (Office::ViceChair, Office::ViceChair) => true,
        _ => false,
    };
    if let Some(other) = terms.iter().find(|o| {
        Some(o.id) != except && !o.cancelled && clashes(o) && o.starts_on <= term.ends_on && term.starts_on <= o.ends_on
    }) {
        errors.push(FieldError::new(
            "starts_on",
            format!(
                "overlaps the {} term {} ({} to {}); co-chairs are entered as co_chair, and a term is shortened or cancelled with a reason",
                other.office.as_str(),
                other.id,
                other.starts_on,
                other.ends_on
            ),
        ));
    }
    if term.ends_on < body.created_on {
        errors.push(FieldError::new("ends_on", format!("is before the body was created ({})", body.created_on)));
    }
    Error::check(errors)
}

fn load_term(conn: &mut DbConnection, id: i64) -> Result<TermRow, Error> {
    chair_terms::table
        .find(id)
        .select(TermRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no term {id}")))
}

pub fn insert_term(
    conn: &mut DbConnection,
    body_id: i64,
    t: &ValidTerm,
    by: Option<i64>,
    at: DateTime<Utc>,
) -> Result<i64, Error> {
    let at = at.naive_utc();
    Ok(diesel::insert_into(chair_terms::table)
        .values((
            chair_terms::body_id.eq(body_id),
            chair_terms::office.eq(t.office.as_str()),
            chair_terms::organisation_id.eq(t.organisation_id),
            chair_terms::person_user_id.eq(t.person_user_id),
            chair_terms::starts_on.eq(t.starts_on),
            chair_terms::ends_on.eq(t.ends_on),
            chair_terms::origin.eq(t.origin.as_str()),
            chair_terms::note.eq(&t.note),
            chair_terms::cancelled.eq(false),
            chair_terms::created_by.eq(by),
            chair_terms::created_at.eq(at),
            chair_terms::updated_at.eq(at),
        ))
        .returning(chair_terms::id)
        .get_result(conn)?)
}

fn term_view(conn: &mut DbConnection, row: &TermRow) -> Result<Term, Error> {
    Names::load(conn, &[row], &[])?.term(row)
}

/// Adds a term of office (the body's chair, or the secretariat); the rotation then creates
/// what follows from it (a vice-chair's term brings the next chair's).
pub fn add_term(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    body_id: i64,
    input: NewTerm,
) -> Result<Term, Error> {
    let body = load_body(conn, body_id)?;
    let term = ValidTerm::new(input, body.term_months)?;
    authorize(actor, &Action::ManageBody { standing: standing(conn, actor, body_id, now)? })?;
    lock_body(conn, body_id)?;
    let terms = terms_of(conn, body_id)?;
    check_term(conn, &body, &terms, &term, None)?;
    let id = insert_term(conn, body_id, &term, Some(actor.user_id), now)?;
    let row = load_term(conn, id)?;
    audit::record(conn, AuditEntry::by(actor, "term.create", "term", id).created(&row.audit_json()))?;
    advance_following(conn, body_id, now)?;
    term_view(conn, &row)
}

/// Changes a term: a postponement, an extension by decision, a withdrawal, a cancellation. The
/// reason is required and goes into the audit log with the before and after.
pub fn change_term(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    update: TermUpdate,
) -> Result<Term, Error> {
    let before = load_term(conn, id)?;
    let body = load_body(conn, before.body_id)?;
    let (term, reason) = ValidTerm::changed(&before, update)?;
    authorize(actor, &Action::ManageBody { standing: standing(conn, actor, body.id, now)? })?;
    lock_body(conn, body.id)?;
    let terms = terms_of(conn, body.id)?;
    check_term(conn, &body, &terms, &term, Some(id))?;
    diesel::update(chair_terms::table.find(id))
        .set((
            chair_terms::organisation_id.eq(term.organisation_id),
            chair_terms::person_user_id.eq(term.person_user_id),
            chair_terms::starts_on.eq(term.starts_on),
            chair_terms::ends_on.eq(term.ends_on),
            chair_terms::note.eq(&term.note),
            chair_terms::cancelled.eq(term.cancelled),
            chair_terms::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let after = load_term(conn, id)?;
    let mut changes = after.audit_json();
    changes["reason"] = serde_json::Value::String(reason.clone());
    let mut old = before.audit_json();
    old["reason"] = serde_json::Value::Null;
    audit::record(conn, AuditEntry::by(actor, "term.update", "term", id).diff(&old, &changes))?;
    advance_following(conn, body.id, now)?;
    term_view(conn, &after)
}

// ---- the acting chair ------------------------------------------------------------------

/// Switches the vice-chair on as acting chair (the chair, or the secretariat).
pub fn start_acting(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    body_id: i64,
    reason: &str,
) -> Result<ActingChair, Error> {
    let reason = crate::validate::text("reason", reason, 2_000, true)?;
    let body = load_body(conn, body_id)?;
    let standing = standing(conn, actor, body_id, now)?;
    authorize(actor, &Action::SetActingChair { standing, on: true })?;
    lock_body(conn, body_id)?;
    let terms = terms_of(conn, body_id)?;
    if acting_at(conn, &body, &terms, now)?.is_some() {
        return Err(Error::Conflict("the vice-chair is already acting chair".into()));
    }
    let (_, vice) = rotation::in_force(&terms, body.today(now));
    let vice =
        vice.ok_or_else(|| Error::Conflict(format!("{} has no vice-chair in office to act", body.name)))?.clone();
    let id: i64 = diesel::insert_into(acting_chairs::table)
        .values((
            acting_chairs::body_id.eq(body_id),
            acting_chairs::term_id.eq(vice.id),
            acting_chairs::since.eq(now.naive_utc()),
            acting_chairs::reason.eq(&reason),
            acting_chairs::set_by.eq(actor.user_id),
        ))
        .returning(acting_chairs::id)
        .get_result(conn)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "body.acting_chair.start", "body", body_id)
            .created(&serde_json::json!({"acting_chair": id, "term_id": vice.id, "reason": reason})),
    )?;
    let acting = acting_at(conn, &body, &terms, now)?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("the acting chair just set is not in force")))?;
    in_office(conn, &terms, body.today(now), Some(&acting))?
        .acting_chair
        .ok_or_else(|| Error::internal(anyhow::anyhow!("acting chair missing from its view")))
}

/// Switches the acting chair off (the chair, the vice-chair, or the secretariat).
pub fn end_acting(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, body_id: i64) -> Result<(), Error> {
    let body = load_body(conn, body_id)?;
    let standing = standing(conn, actor, body_id, now)?;
    authorize(actor, &Action::SetActingChair { standing, on: false })?;
    let terms = terms_of(conn, body_id)?;
    let (row, _) = acting_at(conn, &body, &terms, now)?
        .ok_or_else(|| Error::NotFound(format!("nobody is acting chair of {}", body.name)))?;
    diesel::update(acting_chairs::table.find(row.id))
        .set((acting_chairs::ended_at.eq(now.naive_utc()), acting_chairs::ended_by.eq(actor.user_id)))
        .execute(conn)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "body.acting_chair.end", "body", body_id)
            .diff(&serde_json::json!({"acting_chair": row.id}), &serde_json::json!({"acting_chair": null})),
    )?;
    Ok(())
}

// ---- the rotation, applied -------------------------------------------------------------

/// Creates the terms body `body_id`'s rotation rule calls for as of `now` (idempotent: what
/// exists is not created twice, even by two instances at once). Returns the new terms' ids.
pub fn advance(conn: &mut DbConnection, body_id: i64, now: DateTime<Utc>) -> Result<Vec<i64>, Error> {
    lock_body(conn, body_id)?;
    let body = load_body(conn, body_id)?;
    let terms = terms_of(conn, body_id)?;
    let source = match (body.rotation_rule, body.rotation_source_id) {
        (RotationRule::PreviousChairOf, Some(source)) => terms_of(conn, source)?,
        _ => terms.clone(),
    };
    let mut created = Vec::new();
    for planned in rotation::plan(&body, &terms, &source, body.today(now)) {
        let term = ValidTerm {
            office: Office::Chair,
            organisation_id: planned.organisation_id,
            person_user_id: None,
            starts_on: planned.starts_on,
            ends_on: planned.ends_on,
            origin: planned.origin,
            note: String::new(),
            cancelled: false,
        };
        // A successor that may not hold the office (suspended, an observer where observers may
        // not chair) is not installed: the missing-successor warning tells the chair instead.
        let current = terms_of(conn, body_id)?;
        if let Err(err) = check_term(conn, &body, &current, &term, None) {
            tracing::info!(body = body.id, organisation = planned.organisation_id, %err, "automatic successor not installed");
            continue;
        }
        let id = insert_term(conn, body_id, &term, None, now)?;
        let row = load_term(conn, id)?;
        audit::record(conn, AuditEntry::system("term.create", "term", id, &row.audit_json()))?;
        created.push(id);
    }
    Ok(created)
}

/// [`advance`] for a body whose terms changed, and for the bodies whose rule follows it.
fn advance_following(conn: &mut DbConnection, body_id: i64, now: DateTime<Utc>) -> Result<(), Error> {
    advance(conn, body_id, now)?;
    let followers: Vec<i64> = bodies::table
        .filter(bodies::rotation_rule.eq(RotationRule::PreviousChairOf.as_str()))
        .filter(bodies::rotation_source_id.eq(body_id))
        .select(bodies::id)
        .load(conn)?;
    for follower in followers {
        advance(conn, follower, now)?;
    }
    Ok(())
}

/// The addresses of the delegates who hold `term` (its named person, or every active delegate
/// of its organisation), with their names.
fn holders(conn: &mut DbConnection, term: &TermRow) -> Result<Vec<(String, String)>, Error> {
    use crate::accounts::service::{Delegates, reachable};
    reachable(conn, Delegates::Holding { organisation_id: term.organisation_id, person: term.person_user_id })
}

fn secretariat_admins(conn: &mut DbConnection) -> Result<Vec<(String, String)>, Error> {
    crate::accounts::service::reachable(conn, crate::accounts::service::Delegates::SecretariatAdmins)
}

/// Records that a notice went out; `false` if it already had (here or on another instance).
/// Callers hold the body's lock (see [`advance`]), so two instances take turns here; the unique
/// key on the notice is the backstop.
fn first_notice(
    conn: &mut DbConnection,
    body_id: i64,
    kind: &str,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let sent: i64 = chair_notices::table
        .filter(chair_notices::body_id.eq(body_id))
        .filter(chair_notices::kind.eq(kind))
        .filter(chair_notices::handover_on.eq(on))
        .count()
        .get_result(conn)?;
    if sent > 0 {
        return Ok(false);
    }
    diesel::insert_into(chair_notices::table)
        .values((
            chair_notices::body_id.eq(body_id),
            chair_notices::kind.eq(kind),
            chair_notices::handover_on.eq(on),
            chair_notices::sent_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(true)
}

fn describe(conn: &mut DbConnection, terms: &[&TermRow]) -> Result<String, Error> {
    if terms.is_empty() {
        return Ok("nobody".into());
    }
    let names = Names::load(conn, terms, &[])?;
    Ok(names.terms(terms)?.iter().map(|t| t.organisation.name.clone()).collect::<Vec<_>>().join(" and "))
}

/// The scheduler's work for one body at `now`: apply the rotation, then send (once) the
/// handover notice to the outgoing and incoming chairs and the missing-successor warning to the
/// chair and the secretariat, a lead time ahead. Returns how many mails were queued.
pub fn run_for_body(
    conn: &mut DbConnection,
    body_id: i64,
    now: DateTime<Utc>,
    mail: &MailContext,
) -> Result<usize, Error> {
    advance(conn, body_id, now)?;
    let body = load_body(conn, body_id)?;
    let terms = terms_of(conn, body_id)?;
    let today = body.today(now);
    let link = format!("{}/bodies/{}", mail.public_url.trim_end_matches('/'), body.id);
    let lead = i64::from(body.lead_days.max(0));
    let mut sent = 0;
    if let Some((on, outgoing, incoming)) = rotation::next_handover(&terms, today)
        && !incoming.is_empty()
        && (on - today).num_days() <= lead
        && first_notice(conn, body.id, "handover", on, now)?
    {
        let (out_names, in_names) = (describe(conn, &outgoing)?, describe(conn, &incoming)?);
        let mut recipients = Vec::new();
        for term in outgoing.iter().chain(incoming.iter()) {
            recipients.extend(holders(conn, term)?);
        }
        recipients.sort();
        recipients.dedup();
        for (email, name) in recipients {
            let rendered = mail::render(
                Template::ChairHandover,
                &mail.mail,
                &mail.public_url,
                &[
                    ("name", name),
                    ("body", body.name.clone()),
                    ("on", on.to_string()),
                    ("time_zone", body.time_zone.clone()),
                    ("outgoing", out_names.clone()),
                    ("incoming", in_names.clone()),
                    ("link", link.clone()),
                ],
            );
            mail::enqueue(conn, &email, Template::ChairHandover, rendered)?;
            sent += 1;
        }
    }
    for warning in warnings(&body, &terms, today) {
        let (WarningCode::MissingSuccessor | WarningCode::MissingViceChair, Some(on)) =
            (warning.code, warning.handover_on)
        else {
            continue;
        };
        if !first_notice(conn, body.id, warning.code.as_str(), on, now)? {
            continue;
        }
        let (chairs, _) = rotation::in_force(&terms, today);
        let mut recipients = secretariat_admins(conn)?;
        for term in chairs {
            recipients.extend(holders(conn, term)?);
        }
        recipients.sort();
        recipients.dedup();
        for (email, name) in recipients {
            let rendered = mail::render(
                Template::ChairMissingSuccessor,
                &mail.mail,
                &mail.public_url,
                &[
                    ("name", name),
                    ("body", body.name.clone()),
                    ("on", on.to_string()),
                    ("message", warning.message.clone()),
                    ("link", link.clone()),
                ],
            );
            mail::enqueue(conn, &email, Template::ChairMissingSuccessor, rendered)?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// Every body's id, for the scheduler (which runs each in its own transaction).
pub fn all_ids(conn: &mut DbConnection) -> Result<Vec<i64>, Error> {
    Ok(bodies::table.order(bodies::id.asc()).select(bodies::id).load(conn)?)
}

/// What needs the actor's attention in the bodies it may manage (its chair's, or every body for
/// the secretariat): `(body, warning, message)`.
pub fn attention(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, WarningCode, String)>, Error> {
    if authorize(actor, &Action::ViewBodies).is_err() {
        return Ok(Vec::new());
    }
    let rows: Vec<BodyRow> = bodies::table.order(bodies::id.asc()).select(BodyRow::as_select()).load(conn)?;
    let mut out = Vec::new();
    for body in rows {
        let terms = terms_of(conn, body.id)?;
        let acting = acting_at(conn, &body, &terms, now)?.is_some();
        let standing = standing_in(actor, &body, &terms, acting, now);
        if authorize(actor, &Action::ManageBody { standing }).is_ok() {
            for w in warnings(&body, &terms, body.today(now)) {
                out.push((body.id, w.code, w.message));
            }
        }
    }
    Ok(out)
}
