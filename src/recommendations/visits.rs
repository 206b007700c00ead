//! Peer-review visits: a team of participants and observers visits one participant, its report
//! is adopted, and the recommendations issued from it are followed up by the visit's body (the
//! monitoring working group). Planned and changed by that body's chair or the secretariat;
//! visible to everyone but guests. The state only moves forward, one step at a time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{
    NewReviewVisit, RecommendationRef, ReviewVisit, ReviewVisitQuery, ReviewVisitRow, ReviewVisitUpdate, TeamMember,
    TeamMemberInput, UploadRef, UploadRow, VisitMemberRow, VisitState, check_visit_dates, check_visit_text,
};
use super::service::{Viewer, check_own_upload, may_read};
use crate::accounts::actor::Actor;
use crate::accounts::model::{OrganisationKind, OrganisationRow};
use crate::audit::{self, AuditEntry};
use crate::db::DbConnection;
use crate::db::schema::{
    bodies, organisations, recommendations, review_visit_members, review_visits, uploads, vocabularies,
};
use crate::error::{Error, FieldError};
use crate::policy::{Action, authorize};

fn load(conn: &mut DbConnection, id: i64) -> Result<ReviewVisitRow, Error> {
    review_visits::table
        .find(id)
        .select(ReviewVisitRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no review visit {id}")))
}

fn team_of(conn: &mut DbConnection, ids: &[i64]) -> Result<HashMap<i64, Vec<VisitMemberRow>>, Error> {
    let mut out: HashMap<i64, Vec<VisitMemberRow>> = HashMap::new();
    let rows = review_visit_members::table
        .filter(review_visit_members::visit_id.eq_any(ids))
        .select(VisitMemberRow::as_select())
        .load(conn)?;
    for r in rows {
        out.entry(r.visit_id).or_default().push(r);
    }
    Ok(out)
}

fn views(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    rows: Vec<ReviewVisitRow>,
) -> Result<Vec<ReviewVisit>, Error> {
    let mut viewer = Viewer::load(conn, actor, now)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut teams = team_of(conn, &ids)?;
    let report_ids: Vec<i64> = rows.iter().filter_map(|r| r.report_upload_id).collect();
    let reports: HashMap<i64, UploadRef> = uploads::table
        .filter(uploads::id.eq_any(&report_ids))
        .select(UploadRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|u| (u.id, UploadRef::from(u)))
        .collect();
    let issued: Vec<(Option<i64>, i64, String, String, bool)> = recommendations::table
        .filter(recommendations::source_visit_id.eq_any(&ids))
        .order(recommendations::code.asc())
        .select((
            recommendations::source_visit_id,
            recommendations::id,
            recommendations::code,
            recommendations::title,
            recommendations::restricted,
        ))
        .load(conn)?;
    let mut by_visit: HashMap<i64, Vec<RecommendationRef>> = HashMap::new();
    for (visit, id, code, title, restricted) in issued {
        if let Some(visit) = visit
            && may_read(actor, restricted)
        {
            by_visit.entry(visit).or_default().push(RecommendationRef { id, code, title });
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut team: Vec<TeamMember> = teams
            .remove(&r.id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                Some(TeamMember { organisation: viewer.organisations.get(&m.organisation_id)?.clone(), role: m.role })
            })
            .collect();
        team.sort_by(|a, b| {
            (a.role.as_str() != "leader", &a.organisation.name)
                .cmp(&(b.role.as_str() != "leader", &b.organisation.name))
        });
        let can_manage = viewer.can_manage(conn, r.body_id)?;
        let body = viewer
            .bodies
            .get(&r.body_id)
            .map(super::service::body_ref)
            .ok_or_else(|| Error::NotFound(format!("no body {}", r.body_id)))?;
        let participant = viewer
            .organisations
            .get(&r.participant_id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no organisation {}", r.participant_id)))?;
        out.push(ReviewVisit {
            id: r.id,
            participant,
            body,
            origin: r.origin,
            state: r.state,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            team,
            report_title: r.report_title.clone(),
            report: r.report_upload_id.and_then(|u| reports.get(&u).cloned()),
            report_adopted_on: r.report_adopted_on,
            vocabulary: r
                .vocabulary_id
                .and_then(|v| viewer.vocabularies.get(&v))
                .map(super::model::Vocabulary::reference),
            notes: r.notes.clone(),
            recommendations: by_visit.remove(&r.id).unwrap_or_default(),
            can_manage,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        });
    }
    Ok(out)
}

fn view(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, row: ReviewVisitRow) -> Result<ReviewVisit, Error> {
    views(conn, actor, now, vec![row])?
        .pop()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("a visit view went missing")))
}

/// The review visits (everyone but guests), newest first.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    query: &ReviewVisitQuery,
) -> Result<Vec<ReviewVisit>, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    let mut q = review_visits::table.select(ReviewVisitRow::as_select()).order(review_visits::id.desc()).into_boxed();
    if let Some(p) = query.participant_id {
        q = q.filter(review_visits::participant_id.eq(p));
    }
    if let Some(b) = query.body_id {
        q = q.filter(review_visits::body_id.eq(b));
    }
    if let Some(s) = query.state {
        q = q.filter(review_visits::state.eq(s.as_str()));
    }
    let rows = q.load(conn)?;
    views(conn, actor, now, rows)
}

/// One review visit.
pub fn find(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<ReviewVisit, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    let row = load(conn, id)?;
    view(conn, actor, now, row)
}

/// Checks a team: participants and observers, not the visited participant, each once.
fn check_team(conn: &mut DbConnection, participant_id: i64, team: &[TeamMemberInput]) -> Result<(), Error> {
    let mut errors = Vec::new();
    for (i, m) in team.iter().enumerate() {
        let field = format!("team[{i}]");
        let org =
            organisations::table.find(m.organisation_id).select(OrganisationRow::as_select()).first(conn).optional()?;
        match org {
            None => errors.push(FieldError::new(field, format!("there is no organisation {}", m.organisation_id))),
            Some(o) if !matches!(o.kind, OrganisationKind::Participant | OrganisationKind::Observer) => {
                errors.push(FieldError::new(field, format!("{} is neither a participant nor an observer", o.name)));
            }
            Some(o) if o.id == participant_id => {
                errors.push(FieldError::new(field, format!("{} is the visited participant", o.name)));
            }
            Some(_) if team[..i].iter().any(|x| x.organisation_id == m.organisation_id) => {
                errors.push(FieldError::new(field, "is on the team twice"));
            }
            Some(_) => {}
        }
    }
    Error::check(errors)
}

fn replace_team(conn: &mut DbConnection, visit_id: i64, team: &[TeamMemberInput]) -> Result<(), Error> {
    diesel::delete(review_visit_members::table.filter(review_visit_members::visit_id.eq(visit_id))).execute(conn)?;
    for m in team {
        diesel::insert_into(review_visit_members::table)
            .values((
                review_visit_members::visit_id.eq(visit_id),
                review_visit_members::organisation_id.eq(m.organisation_id),
                review_visit_members::role.eq(m.role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn team_json(team: &[TeamMemberInput]) -> serde_json::Value {
    serde_json::json!(
        team.iter()
            .map(|m| serde_json::json!({"organisation_id": m.organisation_id, "role": m.role}))
            .collect::<Vec<_>>()
    )
}

fn check_vocabulary(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let n: i64 = vocabularies::table.filter(vocabularies::id.eq(id)).count().get_result(conn)?;
    if n == 0 {
        return Err(Error::invalid("vocabulary_id", format!("there is no vocabulary {id}")));
    }
    Ok(())
}

/// Plans a review visit (the following body's chair, or the secretariat).
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewReviewVisit,
) -> Result<ReviewVisit, Error> {
    let exists: i64 = bodies::table.filter(bodies::id.eq(input.body_id)).count().get_result(conn)?;
    if exists == 0 {
        return Err(Error::invalid("body_id", format!("there is no body {}", input.body_id)));
    }
    let standing = crate::bodies::service::standing(conn, actor, input.body_id, now)?;
    authorize(actor, &Action::ManageRecommendations { standing })?;
    let participant = organisations::table
        .find(input.participant_id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .filter(|o| o.kind == OrganisationKind::Participant)
        .ok_or_else(|| Error::invalid("participant_id", "must be a participant"))?;
    check_visit_dates(input.starts_on, input.ends_on)?;
    let (report_title, notes) = check_visit_text(&input.report_title, &input.notes)?;
    check_team(conn, participant.id, &input.team)?;
    if let Some(v) = input.vocabulary_id {
        check_vocabulary(conn, v)?;
    }
    let at = now.naive_utc();
    let id: i64 = diesel::insert_into(review_visits::table)
        .values((
            review_visits::participant_id.eq(participant.id),
            review_visits::body_id.eq(input.body_id),
            review_visits::origin.eq(input.origin.as_str()),
            review_visits::state.eq(VisitState::Planned.as_str()),
            review_visits::starts_on.eq(input.starts_on),
            review_visits::ends_on.eq(input.ends_on),
            review_visits::report_title.eq(&report_title),
            review_visits::vocabulary_id.eq(input.vocabulary_id),
            review_visits::notes.eq(&notes),
            review_visits::created_by.eq(actor.user_id),
            review_visits::created_at.eq(at),
            review_visits::updated_at.eq(at),
        ))
        .returning(review_visits::id)
        .get_result(conn)?;
    replace_team(conn, id, &input.team)?;
    let row = load(conn, id)?;
    let mut after = row.audit_json();
    if let Some(o) = after.as_object_mut() {
        o.insert("team".into(), team_json(&input.team));
    }
    audit::record(conn, AuditEntry::by(actor, "review_visit.create", "review_visit", id).created(&after))?;
    view(conn, actor, now, row)
}

/// Changes a review visit; moves its state one step forward (`report_adopted` needs a report).
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: ReviewVisitUpdate,
) -> Result<ReviewVisit, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    let before = load(conn, id)?;
    let standing = crate::bodies::service::standing(conn, actor, before.body_id, now)?;
    authorize(actor, &Action::ManageRecommendations { standing })?;
    let state = input.state.unwrap_or(before.state);
    if state.rank() < before.state.rank() {
        return Err(Error::Conflict(format!("a visit only moves forward: it is {} already", before.state)));
    }
    if state.rank() > before.state.rank() + 1 {
        return Err(Error::Conflict(format!("a {} visit moves to the next state first", before.state)));
    }
    let starts_on = input.starts_on.unwrap_or(before.starts_on);
    let ends_on = input.ends_on.unwrap_or(before.ends_on);
    check_visit_dates(starts_on, ends_on)?;
    let (report_title, notes) = check_visit_text(
        input.report_title.as_deref().unwrap_or(&before.report_title),
        input.notes.as_deref().unwrap_or(&before.notes),
    )?;
    if let Some(team) = &input.team {
        check_team(conn, before.participant_id, team)?;
    }
    let report = match input.report_upload_id {
        Some(Some(u)) if Some(u) != before.report_upload_id => {
            check_own_upload(conn, actor, "report_upload_id", u)?;
            Some(u)
        }
        Some(r) => r,
        None => before.report_upload_id,
    };
    let vocabulary_id = input.vocabulary_id.unwrap_or(before.vocabulary_id);
    if let Some(v) = vocabulary_id {
        check_vocabulary(conn, v)?;
    }
    let adopted_on = if state == VisitState::ReportAdopted {
        if report.is_none() {
            return Err(Error::invalid("report_upload_id", "the report must be uploaded before it is adopted"));
        }
        let body = crate::bodies::service::load_body(conn, before.body_id)?;
        Some(input.report_adopted_on.or(before.report_adopted_on).unwrap_or_else(|| body.today(now)))
    } else {
        if input.report_adopted_on.is_some() {
            return Err(Error::invalid("report_adopted_on", "is set when the state becomes report_adopted"));
        }
        None
    };
    if let (Some(a), Some(e)) = (adopted_on, ends_on.or(starts_on))
        && a < e
    {
        return Err(Error::invalid("report_adopted_on", "must not be before the visit"));
    }
    let origin = input.origin.unwrap_or(before.origin);
    diesel::update(review_visits::table.find(id))
        .set((
            review_visits::state.eq(state.as_str()),
            review_visits::origin.eq(origin.as_str()),
            review_visits::starts_on.eq(starts_on),
            review_visits::ends_on.eq(ends_on),
            review_visits::report_title.eq(&report_title),
            review_visits::report_upload_id.eq(report),
            review_visits::report_adopted_on.eq(adopted_on),
            review_visits::vocabulary_id.eq(vocabulary_id),
            review_visits::notes.eq(&notes),
            review_visits::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let old_team = team_of(conn, &[id])?.remove(&id).unwrap_or_default();
    let old_team: Vec<TeamMemberInput> =
        old_team.into_iter().map(|m| TeamMemberInput { organisation_id: m.organisation_id, role: m.role }).collect();
    if let Some(team) = &input.team {
        replace_team(conn, id, team)?;
    }
    let after = load(conn, id)?;
    let with_team = |row: &ReviewVisitRow, team: &[TeamMemberInput]| {
        let mut v = row.audit_json();
        if let Some(o) = v.as_object_mut() {
            o.insert("team".into(), team_json(team));
        }
        v
    };
    audit::record(
        conn,
        AuditEntry::by(actor, "review_visit.update", "review_visit", id)
            .diff(&with_team(&before, &old_team), &with_team(&after, input.team.as_deref().unwrap_or(&old_team))),
    )?;
    view(conn, actor, now, after)
}
