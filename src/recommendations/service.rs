//! The recommendations use cases: vocabularies, recommendations, implementation records and
//! their evidence. Functions over a connection, the acting person, the instant of the request
//! and validated input; they authorize (the issuing body's chair at that instant, from the terms
//! in force, or the secretariat; a delegation on its own records), change and audit in the
//! caller's transaction. Every check comes before the first write, so a refusal stores nothing.
//! Views are built for the person who asks: observers never get a restricted recommendation.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::model::{
    AddressedTo, Addressee, AddresseeRow, BodyRef, EntryRow, Evidence, EvidenceRow, ImplementationEntry,
    ImplementationRecord, NewRecommendation, Priority, Recommendation, RecommendationFilter, RecommendationRow,
    RecommendationUpdate, ReviewVisitRow, Source, SourceKind, StatusRef, UploadRef, UploadRow, ValidEntry,
    ValidVocabulary, VisitState, Vocabulary, VocabularyRow, VocabularyStatus, VocabularyStatusRow, check_code,
    check_text, check_themes,
};
use crate::accounts::actor::Actor;
use crate::accounts::model::{Organisation, OrganisationKind, OrganisationRef, OrganisationRow, OrganisationStatus};
use crate::audit::{self, AuditEntry};
use crate::bodies::model::{BodyRow, PersonRef};
use crate::db::DbConnection;
use crate::db::schema::{
    bodies, decisions, implementation_entries, implementation_evidence, meetings, organisations,
    recommendation_addressees, recommendation_themes, recommendations, review_visits, uploads, users, vocabularies,
    vocabulary_statuses,
};
use crate::error::{Error, FieldError};
use crate::meetings::documents::CheckedFile;
use crate::page::Page;
use crate::policy::{Action, Standing, authorize};

// ---- shared look-ups -------------------------------------------------------------------

/// A body by name.
pub fn body_ref(b: &BodyRow) -> BodyRef {
    BodyRef { id: b.id, name: b.name.clone(), short_name: b.short_name.clone() }
}

/// An organisation by name.
pub fn org_ref(row: OrganisationRow) -> OrganisationRef {
    OrganisationRef::from(&Organisation::from(row))
}

/// Every body, by id.
pub fn all_bodies(conn: &mut DbConnection) -> Result<HashMap<i64, BodyRow>, Error> {
    Ok(bodies::table.select(BodyRow::as_select()).load(conn)?.into_iter().map(|b| (b.id, b)).collect())
}

/// Every organisation, by id.
pub fn all_organisations(conn: &mut DbConnection) -> Result<HashMap<i64, OrganisationRef>, Error> {
    Ok(organisations::table
        .select(OrganisationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|o| (o.id, org_ref(o)))
        .collect())
}

fn load_body(conn: &mut DbConnection, id: i64, field: &str) -> Result<BodyRow, Error> {
    bodies::table
        .find(id)
        .select(BodyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::invalid(field, format!("there is no body {id}")))
}

/// Whether `actor` may read a recommendation (`restricted`: not for observers).
pub fn may_read(actor: &Actor, restricted: bool) -> bool {
    authorize(actor, &Action::ReadRecommendation { restricted }).is_ok()
}

/// Whether a record is overdue on `today` (in the issuing body's zone): the due date passed and
/// the status is not final.
pub fn is_overdue(due_on: Option<NaiveDate>, today: NaiveDate, status_final: bool) -> bool {
    due_on.is_some_and(|d| today > d) && !status_final
}

/// The participants a recommendation issued on `date` to all participants is addressed to:
/// every participant admitted on or before that date that has not withdrawn (a suspended
/// participant is still one, and is followed up).
pub fn participants_on(conn: &mut DbConnection, date: NaiveDate) -> Result<Vec<i64>, Error> {
    Ok(organisations::table
        .filter(organisations::kind.eq(OrganisationKind::Participant.as_str()))
        .filter(organisations::status.ne(OrganisationStatus::Withdrawn.as_str()))
        .filter(organisations::admitted_on.is_null().or(organisations::admitted_on.le(date)))
        .order(organisations::name.asc())
        .select(organisations::id)
        .load(conn)?)
}

// ---- vocabularies ----------------------------------------------------------------------

fn assemble_vocabularies(rows: Vec<VocabularyRow>, statuses: Vec<VocabularyStatusRow>) -> HashMap<i64, Vocabulary> {
    let mut by: HashMap<i64, Vec<VocabularyStatus>> = HashMap::new();
    for s in statuses {
        by.entry(s.vocabulary_id).or_default().push(s.into());
    }
    rows.into_iter()
        .map(|r| {
            let mut statuses = by.remove(&r.id).unwrap_or_default();
            statuses.sort_by(|a, b| a.position.cmp(&b.position).then_with(|| a.key.cmp(&b.key)));
            (
                r.id,
                Vocabulary {
                    id: r.id,
                    key: r.key,
                    name: r.name,
                    description: r.description,
                    body_id: r.body_id,
                    statuses,
                },
            )
        })
        .collect()
}

/// Every vocabulary with its statuses, by id.
pub fn all_vocabularies(conn: &mut DbConnection) -> Result<HashMap<i64, Vocabulary>, Error> {
    let rows = vocabularies::table.select(VocabularyRow::as_select()).load(conn)?;
    let statuses = vocabulary_statuses::table.select(VocabularyStatusRow::as_select()).load(conn)?;
    Ok(assemble_vocabularies(rows, statuses))
}

/// One vocabulary, if it exists.
pub fn vocabulary(conn: &mut DbConnection, id: i64) -> Result<Option<Vocabulary>, Error> {
    let rows = vocabularies::table.filter(vocabularies::id.eq(id)).select(VocabularyRow::as_select()).load(conn)?;
    let statuses = vocabulary_statuses::table
        .filter(vocabulary_statuses::vocabulary_id.eq(id))
        .select(VocabularyStatusRow::as_select())
        .load(conn)?;
    Ok(assemble_vocabularies(rows, statuses).remove(&id))
}

/// The vocabularies, by id (everyone but guests).
pub fn list_vocabularies(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<Vocabulary>, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    let mut out: Vec<Vocabulary> = all_vocabularies(conn)?.into_values().collect();
    out.sort_by_key(|v| v.id);
    Ok(out)
}

/// Defines a vocabulary (administrators).
pub fn create_vocabulary(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: ValidVocabulary,
) -> Result<Vocabulary, Error> {
    authorize(actor, &Action::ManageVocabularies)?;
    if let Some(body) = input.body_id {
        load_body(conn, body, "body_id")?;
    }
    let taken: i64 = vocabularies::table.filter(vocabularies::key.eq(&input.key)).count().get_result(conn)?;
    if taken > 0 {
        return Err(Error::Duplicate {
            field: "key".into(),
            detail: format!("there is already a vocabulary {}", input.key),
        });
    }
    let id: i64 = diesel::insert_into(vocabularies::table)
        .values((
            vocabularies::key.eq(&input.key),
            vocabularies::name.eq(&input.name),
            vocabularies::description.eq(&input.description),
            vocabularies::body_id.eq(input.body_id),
            vocabularies::created_at.eq(now.naive_utc()),
        ))
        .returning(vocabularies::id)
        .get_result(conn)?;
    for s in &input.statuses {
        diesel::insert_into(vocabulary_statuses::table)
            .values((
                vocabulary_statuses::vocabulary_id.eq(id),
                vocabulary_statuses::key.eq(&s.key),
                vocabulary_statuses::label.eq(&s.label),
                vocabulary_statuses::position.eq(s.position),
                vocabulary_statuses::weight.eq(s.weight),
                vocabulary_statuses::is_final.eq(s.is_final),
            ))
            .execute(conn)?;
    }
    let out = vocabulary(conn, id)?.ok_or_else(|| Error::internal(anyhow::anyhow!("vocabulary {id} vanished")))?;
    audit::record(
        conn,
        AuditEntry::by(actor, "vocabulary.create", "vocabulary", id)
            .created(&serde_json::to_value(&out).unwrap_or_default()),
    )?;
    Ok(out)
}

/// The vocabulary a body's recommendations default to: the newest one of that body, else `simple`.
pub fn default_vocabulary(conn: &mut DbConnection, body_id: i64) -> Result<i64, Error> {
    let own: Option<i64> = vocabularies::table
        .filter(vocabularies::body_id.eq(body_id))
        .order(vocabularies::id.desc())
        .select(vocabularies::id)
        .first(conn)
        .optional()?;
    match own {
        Some(id) => Ok(id),
        None => Ok(vocabularies::table.filter(vocabularies::key.eq("simple")).select(vocabularies::id).first(conn)?),
    }
}

// ---- who sees what ---------------------------------------------------------------------

fn load_recommendation(conn: &mut DbConnection, id: i64) -> Result<Option<RecommendationRow>, Error> {
    Ok(recommendations::table.find(id).select(RecommendationRow::as_select()).first(conn).optional()?)
}

/// The recommendation if `actor` may see it: 403 for guests, 404 if it does not exist or is
/// restricted and the actor an observer.
pub fn seen(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<RecommendationRow, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    match load_recommendation(conn, id)? {
        Some(r) if may_read(actor, r.restricted) => Ok(r),
        _ => Err(Error::NotFound(format!("no recommendation {id}"))),
    }
}

/// The last entry of each record (by addressee id) among the recommendations `ids`, recorded at
/// or before `as_of` when given: `(status, recorded_at)`.
pub fn last_entries(
    conn: &mut DbConnection,
    ids: &[i64],
    as_of: Option<NaiveDateTime>,
) -> Result<HashMap<i64, (String, NaiveDateTime)>, Error> {
    let mut out: HashMap<i64, (String, NaiveDateTime, i64)> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = implementation_entries::table
            .filter(implementation_entries::recommendation_id.eq_any(chunk))
            .select((
                implementation_entries::addressee_id,
                implementation_entries::status,
                implementation_entries::recorded_at,
                implementation_entries::id,
            ))
            .into_boxed();
        if let Some(at) = as_of {
            q = q.filter(implementation_entries::recorded_at.le(at));
        }
        for (addressee, status, at, id) in q.load::<(i64, String, NaiveDateTime, i64)>(conn)? {
            let newer = out.get(&addressee).is_none_or(|(_, a, i)| (at, id) > (*a, *i));
            if newer {
                out.insert(addressee, (status, at, id));
            }
        }
    }
    Ok(out.into_iter().map(|(k, (s, at, _))| (k, (s, at))).collect())
}

/// The addressees of the recommendations `ids`, by recommendation, in id order.
pub fn addressees_of(conn: &mut DbConnection, ids: &[i64]) -> Result<HashMap<i64, Vec<AddresseeRow>>, Error> {
    let mut out: HashMap<i64, Vec<AddresseeRow>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = recommendation_addressees::table
            .filter(recommendation_addressees::recommendation_id.eq_any(chunk))
            .order(recommendation_addressees::id.asc())
            .select(AddresseeRow::as_select())
            .load(conn)?;
        for r in rows {
            out.entry(r.recommendation_id).or_default().push(r);
        }
    }
    Ok(out)
}

/// The themes of the recommendations `ids`, by recommendation, sorted.
pub fn themes_of(conn: &mut DbConnection, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, Error> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String)> = recommendation_themes::table
            .filter(recommendation_themes::recommendation_id.eq_any(chunk))
            .order((recommendation_themes::recommendation_id.asc(), recommendation_themes::theme.asc()))
            .select((recommendation_themes::recommendation_id, recommendation_themes::theme))
            .load(conn)?;
        for (id, t) in rows {
            out.entry(id).or_default().push(t);
        }
    }
    Ok(out)
}

/// What the views of one request share: the names, the vocabularies, and the actor's standing
/// in each body it was asked about.
pub struct Viewer<'a> {
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub bodies: HashMap<i64, BodyRow>,
    pub organisations: HashMap<i64, OrganisationRef>,
    pub vocabularies: HashMap<i64, Vocabulary>,
    standings: HashMap<i64, Standing>,
}

impl<'a> Viewer<'a> {
    /// Loads the names and vocabularies.
    pub fn load(conn: &mut DbConnection, actor: &'a Actor, now: DateTime<Utc>) -> Result<Self, Error> {
        Ok(Self {
            actor,
            now,
            bodies: all_bodies(conn)?,
            organisations: all_organisations(conn)?,
            vocabularies: all_vocabularies(conn)?,
            standings: HashMap::new(),
        })
    }

    /// The actor's standing in a body at the request's instant.
    pub fn standing(&mut self, conn: &mut DbConnection, body_id: i64) -> Result<Standing, Error> {
        if let Some(s) = self.standings.get(&body_id) {
            return Ok(*s);
        }
        let s = crate::bodies::service::standing(conn, self.actor, body_id, self.now)?;
        self.standings.insert(body_id, s);
        Ok(s)
    }

    /// The date it is in a body's time zone.
    pub fn today(&self, body_id: i64) -> NaiveDate {
        self.bodies.get(&body_id).map_or_else(|| self.now.date_naive(), |b| b.today(self.now))
    }

    fn body(&self, id: i64) -> BodyRef {
        self.bodies.get(&id).map_or_else(|| BodyRef { id, name: String::new(), short_name: String::new() }, body_ref)
    }

    fn status(&self, vocabulary_id: i64, key: Option<&str>) -> StatusRef {
        let vocabulary = self.vocabularies.get(&vocabulary_id);
        match (vocabulary, key) {
            (Some(v), Some(k)) => v.status_ref(k),
            (Some(v), None) => v.initial().map(StatusRef::from).unwrap_or_else(|| unknown_status("")),
            (None, k) => unknown_status(k.unwrap_or("")),
        }
    }

    /// Whether the actor may change recommendations of (and visits followed up by) a body.
    pub fn can_manage(&mut self, conn: &mut DbConnection, body_id: i64) -> Result<bool, Error> {
        let standing = self.standing(conn, body_id)?;
        Ok(authorize(self.actor, &Action::ManageRecommendations { standing }).is_ok())
    }

    /// The policy's question for one record.
    fn record_action(
        &mut self,
        conn: &mut DbConnection,
        rec: &RecommendationRow,
        a: &AddresseeRow,
    ) -> Result<Action, Error> {
        let standing = self.standing(conn, rec.body_id)?;
        let own = match (a.organisation_id, a.body_id) {
            (Some(org), _) => org == self.actor.organisation_id,
            (None, Some(body)) => self.standing(conn, body)?.chairs(),
            (None, None) => false,
        };
        Ok(Action::RecordImplementation { own, standing })
    }

    /// One addressee with the state of its record.
    pub fn addressee(
        &mut self,
        conn: &mut DbConnection,
        rec: &RecommendationRow,
        a: &AddresseeRow,
        last: Option<&(String, NaiveDateTime)>,
    ) -> Result<Addressee, Error> {
        let status = self.status(rec.vocabulary_id, last.map(|(s, _)| s.as_str()));
        let overdue = is_overdue(rec.due_on, self.today(rec.body_id), status.is_final);
        let action = self.record_action(conn, rec, a)?;
        Ok(Addressee {
            id: a.id,
            organisation: a.organisation_id.and_then(|o| self.organisations.get(&o).cloned()),
            body: a.body_id.map(|b| self.body(b)),
            status,
            updated_at: last.map(|(_, at)| at.and_utc()),
            overdue,
            can_record: authorize(self.actor, &action).is_ok(),
        })
    }
}

fn unknown_status(key: &str) -> StatusRef {
    StatusRef { key: key.to_string(), label: key.to_string(), weight: 0, is_final: false }
}

/// The light shape of every recommendation, for the tree (children and the roll-up of progress).
struct Node {
    parent_id: Option<i64>,
    restricted: bool,
    vocabulary_id: i64,
}

fn tree(conn: &mut DbConnection) -> Result<HashMap<i64, Node>, Error> {
    Ok(recommendations::table
        .select((
            recommendations::id,
            recommendations::parent_id,
            recommendations::restricted,
            recommendations::vocabulary_id,
        ))
        .load::<(i64, Option<i64>, bool, i64)>(conn)?
        .into_iter()
        .map(|(id, parent_id, restricted, vocabulary_id)| (id, Node { parent_id, restricted, vocabulary_id }))
        .collect())
}

/// Builds the views of `rows` for the viewer, in the order given.
pub fn views(
    conn: &mut DbConnection,
    viewer: &mut Viewer<'_>,
    rows: Vec<RecommendationRow>,
) -> Result<Vec<Recommendation>, Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let nodes = tree(conn)?;
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut ids: Vec<i64> = nodes.keys().copied().collect();
    ids.sort_unstable();
    for id in &ids {
        if let Some(node) = nodes.get(id)
            && let Some(p) = node.parent_id
            && may_read(viewer.actor, node.restricted)
        {
            children.entry(p).or_default().push(*id);
        }
    }
    // The recommendations whose records count: the rows and their visible descendants.
    let mut needed: Vec<i64> = Vec::new();
    let mut stack: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut seen_ids = HashSet::new();
    while let Some(id) = stack.pop() {
        if seen_ids.insert(id) {
            needed.push(id);
            stack.extend(children.get(&id).into_iter().flatten().copied());
        }
    }
    let addressees = addressees_of(conn, &needed)?;
    let last = last_entries(conn, &needed, None)?;
    let row_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let themes = themes_of(conn, &row_ids)?;

    let leaf_progress = |id: i64| -> i32 {
        let Some(node) = nodes.get(&id) else { return 0 };
        let list = addressees.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let weights: Vec<i32> = list
            .iter()
            .map(|a| {
                let key = last.get(&a.id).map(|(s, _)| s.as_str());
                viewer_status_weight(&viewer.vocabularies, node.vocabulary_id, key)
            })
            .collect();
        mean(&weights)
    };
    let mut memo: HashMap<i64, i32> = HashMap::new();
    for row in &rows {
        progress_of(row.id, &children, &leaf_progress, &mut memo, &mut HashSet::new());
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let progress = memo.get(&row.id).copied().unwrap_or(0);
        let list = addressees.get(&row.id).cloned().unwrap_or_default();
        let mut views = Vec::with_capacity(list.len());
        for a in &list {
            views.push(viewer.addressee(conn, &row, a, last.get(&a.id))?);
        }
        let overdue_count = i64::try_from(views.iter().filter(|a| a.overdue).count()).unwrap_or(0);
        let can_manage = viewer.can_manage(conn, row.body_id)?;
        let vocabulary =
            viewer.vocabularies.get(&row.vocabulary_id).map(Vocabulary::reference).unwrap_or(
                super::model::VocabularyRef { id: row.vocabulary_id, key: String::new(), name: String::new() },
            );
        out.push(Recommendation {
            id: row.id,
            code: row.code.clone(),
            title: row.title.clone(),
            text: row.text.clone(),
            body: viewer.body(row.body_id),
            issued_on: row.issued_on,
            due_on: row.due_on,
            priority: row.priority,
            vocabulary,
            parent_id: row.parent_id,
            children: children.get(&row.id).cloned().unwrap_or_default(),
            source: Source {
                kind: row.source_kind,
                meeting_id: row.source_meeting_id,
                decision_id: row.source_decision_id,
                visit_id: row.source_visit_id,
                body_id: row.source_body_id,
                title: row.source_title.clone(),
            },
            addressed_to: row.addressed_to,
            addressees: views,
            themes: themes.get(&row.id).cloned().unwrap_or_default(),
            restricted: row.restricted,
            can_manage,
            progress,
            overdue_count,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        });
    }
    Ok(out)
}

fn viewer_status_weight(vocabularies: &HashMap<i64, Vocabulary>, vocabulary_id: i64, key: Option<&str>) -> i32 {
    let Some(v) = vocabularies.get(&vocabulary_id) else { return 0 };
    match key {
        Some(k) => v.status(k).map_or(0, |s| s.weight),
        None => v.initial().map_or(0, |s| s.weight),
    }
}

/// The rounded mean (0 for none).
pub fn mean(values: &[i32]) -> i32 {
    if values.is_empty() {
        return 0;
    }
    let sum: i64 = values.iter().map(|v| i64::from(*v)).sum();
    let n = i64::try_from(values.len()).unwrap_or(1);
    i32::try_from((sum * 2 + n) / (2 * n)).unwrap_or(0)
}

/// A recommendation's progress: its own records' mean, or for a parent the mean of its children's.
fn progress_of(
    id: i64,
    children: &HashMap<i64, Vec<i64>>,
    leaf: &dyn Fn(i64) -> i32,
    memo: &mut HashMap<i64, i32>,
    path: &mut HashSet<i64>,
) -> i32 {
    if let Some(p) = memo.get(&id) {
        return *p;
    }
    let value = match children.get(&id).filter(|c| !c.is_empty()) {
        Some(kids) if path.insert(id) => {
            let values: Vec<i32> = kids.iter().map(|k| progress_of(*k, children, leaf, memo, path)).collect();
            path.remove(&id);
            mean(&values)
        }
        _ => leaf(id),
    };
    memo.insert(id, value);
    value
}

fn view_one(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    row: RecommendationRow,
) -> Result<Recommendation, Error> {
    let mut viewer = Viewer::load(conn, actor, now)?;
    views(conn, &mut viewer, vec![row])?.pop().ok_or_else(|| Error::internal(anyhow::anyhow!("a view went missing")))
}

/// One recommendation.
pub fn find(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<Recommendation, Error> {
    let row = seen(conn, actor, id)?;
    view_one(conn, actor, now, row)
}

// ---- the list --------------------------------------------------------------------------

/// Every recommendation the actor may see that matches `filter`, by id. (A status that no
/// vocabulary — of the body, when one is named — has is a 422 naming `status`.)
pub fn matching(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    filter: &RecommendationFilter,
) -> Result<Vec<RecommendationRow>, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    let vocabularies = all_vocabularies(conn)?;
    if let Some(status) = &filter.status {
        let used: Option<HashSet<i64>> = match filter.body_id {
            Some(body) => Some(
                recommendations::table
                    .filter(recommendations::body_id.eq(body))
                    .select(recommendations::vocabulary_id)
                    .distinct()
                    .load::<i64>(conn)?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let known = vocabularies
            .values()
            .filter(|v| used.as_ref().is_none_or(|u| u.contains(&v.id)))
            .any(|v| v.status(status).is_some());
        if !known {
            return Err(Error::invalid(
                "status",
                format!("{status} is not a status of these recommendations' vocabularies"),
            ));
        }
    }
    let mut q =
        recommendations::table.select(RecommendationRow::as_select()).order(recommendations::id.asc()).into_boxed();
    if let Some(body) = filter.body_id {
        q = q.filter(recommendations::body_id.eq(body));
    }
    if let Some(kind) = filter.source_kind {
        q = q.filter(recommendations::source_kind.eq(kind.as_str()));
    }
    if !may_read(actor, true) {
        q = q.filter(recommendations::restricted.eq(false));
    }
    if let Some(theme) = &filter.theme {
        q = q.filter(
            recommendations::id.eq_any(
                recommendation_themes::table
                    .filter(recommendation_themes::theme.eq(theme.clone()))
                    .select(recommendation_themes::recommendation_id),
            ),
        );
    }
    if let Some(org) = filter.organisation_id {
        q = q.filter(
            recommendations::id.eq_any(
                recommendation_addressees::table
                    .filter(recommendation_addressees::organisation_id.eq(org))
                    .select(recommendation_addressees::recommendation_id),
            ),
        );
    }
    let mut rows: Vec<RecommendationRow> = q.load(conn)?;
    if !filter.words.is_empty() {
        rows.retain(|r| {
            let hay = format!("{} {} {}", r.code, r.title, r.text).to_lowercase();
            filter.words.iter().all(|w| hay.contains(w.as_str()))
        });
    }
    if filter.status.is_none() && filter.overdue.is_none() {
        return Ok(rows);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let addressees = addressees_of(conn, &ids)?;
    let last = last_entries(conn, &ids, None)?;
    let bodies = all_bodies(conn)?;
    rows.retain(|r| {
        let Some(v) = vocabularies.get(&r.vocabulary_id) else { return false };
        let today = bodies.get(&r.body_id).map_or_else(|| now.date_naive(), |b| b.today(now));
        addressees.get(&r.id).into_iter().flatten().any(|a| {
            if filter.organisation_id.is_some() && a.organisation_id != filter.organisation_id {
                return false;
            }
            let status = match last.get(&a.id) {
                Some((k, _)) => v.status(k),
                None => v.initial(),
            };
            let (key, is_final) = status.map_or(("", false), |s| (s.key.as_str(), s.is_final));
            let status_ok = filter.status.as_deref().is_none_or(|s| s == key);
            let overdue_ok = filter.overdue.is_none_or(|o| o == is_overdue(r.due_on, today, is_final));
            status_ok && overdue_ok
        })
    });
    Ok(rows)
}

/// One page of the recommendations the actor may see that match `filter`, in issue order.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    filter: &RecommendationFilter,
    limit: i64,
    after: Option<i64>,
) -> Result<Page<Recommendation>, Error> {
    let mut rows = matching(conn, actor, now, filter)?;
    if let Some(after) = after {
        rows.retain(|r| r.id > after);
    }
    rows.truncate(usize::try_from(limit).unwrap_or(50).saturating_add(1));
    let page = Page::from_rows(rows, limit, |r| r.id, |r| r);
    let mut viewer = Viewer::load(conn, actor, now)?;
    let items = views(conn, &mut viewer, page.items)?;
    Ok(Page { items, next_cursor: page.next_cursor })
}

// ---- issuing ---------------------------------------------------------------------------

/// The source as stored: the kind, its link and the display title.
struct ResolvedSource {
    kind: SourceKind,
    meeting_id: Option<i64>,
    decision_id: Option<i64>,
    visit: Option<ReviewVisitRow>,
    body_id: Option<i64>,
    title: String,
}

fn visit_title(conn: &mut DbConnection, v: &ReviewVisitRow) -> Result<String, Error> {
    let name: String = organisations::table.find(v.participant_id).select(organisations::name).first(conn)?;
    let year = v.starts_on.or(v.report_adopted_on).unwrap_or_else(|| v.created_at.date());
    Ok(format!("Review visit to {name}, {}", chrono::Datelike::year(&year)))
}

fn resolve_source(conn: &mut DbConnection, input: &super::model::SourceInput) -> Result<ResolvedSource, Error> {
    let mut errors = Vec::new();
    let wrong = |field: &str, kind: &str| {
        FieldError::new(format!("source.{field}"), format!("is only for a source of kind {kind}"))
    };
    if input.kind != SourceKind::Meeting && input.meeting_id.is_some() {
        errors.push(wrong("meeting_id", "meeting"));
    }
    if input.kind != SourceKind::Decision && input.decision_id.is_some() {
        errors.push(wrong("decision_id", "decision"));
    }
    if input.kind != SourceKind::ReviewVisit && input.visit_id.is_some() {
        errors.push(wrong("visit_id", "review_visit"));
    }
    if input.kind != SourceKind::Report && input.body_id.is_some() {
        errors.push(wrong("body_id", "report"));
    }
    let given = match input.title.as_deref() {
        Some(t) => {
            crate::validate::text("source.title", t, 300, false).map_err(|e| errors.push(e)).ok().unwrap_or_default()
        }
        None => String::new(),
    };
    Error::check(errors)?;
    let mut out = ResolvedSource {
        kind: input.kind,
        meeting_id: None,
        decision_id: None,
        visit: None,
        body_id: None,
        title: given,
    };
    match input.kind {
        SourceKind::Meeting => {
            let id =
                input.meeting_id.ok_or_else(|| Error::invalid("source.meeting_id", "is required for a meeting"))?;
            let title: String = meetings::table
                .find(id)
                .select(meetings::title)
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::invalid("source.meeting_id", format!("there is no meeting {id}")))?;
            out.meeting_id = Some(id);
            if out.title.is_empty() {
                out.title = title;
            }
        }
        SourceKind::Decision => {
            let id =
                input.decision_id.ok_or_else(|| Error::invalid("source.decision_id", "is required for a decision"))?;
            let (number, title): (String, String) = decisions::table
                .find(id)
                .select((decisions::number, decisions::title))
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::invalid("source.decision_id", format!("there is no adopted decision {id}")))?;
            out.decision_id = Some(id);
            if out.title.is_empty() {
                out.title = format!("{number} — {title}");
            }
        }
        SourceKind::ReviewVisit => {
            let id =
                input.visit_id.ok_or_else(|| Error::invalid("source.visit_id", "is required for a review visit"))?;
            let visit = review_visits::table
                .find(id)
                .select(ReviewVisitRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::invalid("source.visit_id", format!("there is no review visit {id}")))?;
            if visit.state == VisitState::Planned {
                return Err(Error::invalid("source.visit_id", "the visit has not taken place yet: it has no report"));
            }
            if out.title.is_empty() {
                out.title = visit_title(conn, &visit)?;
            }
            out.visit = Some(visit);
        }
        SourceKind::Report => {
            let id =
                input.body_id.ok_or_else(|| Error::invalid("source.body_id", "is required for a body's report"))?;
            load_body(conn, id, "source.body_id")?;
            if out.title.is_empty() {
                return Err(Error::invalid("source.title", "is required for a report: the report's title"));
            }
            out.body_id = Some(id);
        }
    }
    Ok(out)
}

/// Checks that `org` may be named as an addressee of a recommendation issued on `date`.
fn check_participant(conn: &mut DbConnection, field: &str, org: i64, date: NaiveDate) -> Result<(), Error> {
    let row = organisations::table
        .find(org)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::invalid(field, format!("there is no organisation {org}")))?;
    if row.kind != OrganisationKind::Participant {
        return Err(Error::invalid(field, format!("{} is not a participant", row.name)));
    }
    if row.status == OrganisationStatus::Withdrawn {
        return Err(Error::invalid(field, format!("{} has withdrawn", row.name)));
    }
    if row.admitted_on.is_some_and(|d| d > date) {
        return Err(Error::invalid(field, format!("{} was not yet a participant on the issue date", row.name)));
    }
    Ok(())
}

/// Checks a parent for recommendation `id` (None when new) of body `body_id`.
fn check_parent(conn: &mut DbConnection, id: Option<i64>, body_id: i64, parent: i64) -> Result<(), Error> {
    let row = load_recommendation(conn, parent)?
        .ok_or_else(|| Error::invalid("parent_id", format!("there is no recommendation {parent}")))?;
    if row.body_id != body_id {
        return Err(Error::invalid("parent_id", "the parent must be a recommendation of the same body"));
    }
    if let Some(id) = id {
        let nodes = tree(conn)?;
        let mut at = Some(parent);
        let mut steps = 0;
        while let Some(current) = at {
            if current == id {
                return Err(Error::invalid(
                    "parent_id",
                    "a recommendation cannot be grouped under itself or one of its own",
                ));
            }
            steps += 1;
            if steps > nodes.len() {
                break;
            }
            at = nodes.get(&current).and_then(|n| n.parent_id);
        }
    }
    Ok(())
}

fn check_vocabulary(conn: &mut DbConnection, id: i64) -> Result<i64, Error> {
    let exists: i64 = vocabularies::table.filter(vocabularies::id.eq(id)).count().get_result(conn)?;
    if exists == 0 {
        return Err(Error::invalid("vocabulary_id", format!("there is no vocabulary {id}")));
    }
    Ok(id)
}

/// The addressees of a new recommendation: organisations or one body.
enum Addressees {
    Organisations(Vec<i64>),
    Body(i64),
}

fn themes_json(themes: &[String]) -> Value {
    json!(themes)
}

fn audit_view(row: &RecommendationRow, themes: &[String], addressees: &Value) -> Value {
    let mut v = row.audit_json();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("themes".into(), themes_json(themes));
        obj.insert("addressees".into(), addressees.clone());
    }
    v
}

/// Issues a recommendation (the issuing body's chair, or the secretariat).
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewRecommendation,
) -> Result<Recommendation, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    let source = resolve_source(conn, &input.source)?;
    let body_id = match (&source.visit, input.body_id) {
        (Some(v), Some(b)) if v.body_id != b => {
            return Err(Error::invalid(
                "body_id",
                "a review visit's recommendations are issued by the body that follows it up",
            ));
        }
        (Some(v), _) => v.body_id,
        (None, Some(b)) => b,
        (None, None) => return Err(Error::invalid("body_id", "is required: the issuing body")),
    };
    load_body(conn, body_id, "body_id")?;
    let standing = crate::bodies::service::standing(conn, actor, body_id, now)?;
    authorize(actor, &Action::ManageRecommendations { standing })?;

    let mut errors = Vec::new();
    let code = check_code(&input.code).map_err(|e| errors.push(e)).ok();
    let text = check_text(&input.title, &input.text);
    if let Err(Error::Validation { errors: e, .. }) = &text {
        errors.extend(e.iter().cloned());
    }
    if input.due_on.is_some_and(|d| d < input.issued_on) {
        errors.push(FieldError::new("due_on", "must not be before issued_on"));
    }
    let themes = check_themes(&input.themes);
    if let Err(Error::Validation { errors: e, .. }) = &themes {
        errors.extend(e.iter().cloned());
    }
    Error::check(errors)?;
    let (code, text, themes) = (code.unwrap_or_default(), text?, themes?);

    let vocabulary_id = match (input.vocabulary_id, source.visit.as_ref().and_then(|v| v.vocabulary_id)) {
        (Some(id), _) => check_vocabulary(conn, id)?,
        (None, Some(id)) => id,
        (None, None) => default_vocabulary(conn, body_id)?,
    };
    if let Some(parent) = input.parent_id {
        check_parent(conn, None, body_id, parent)?;
    }
    let addressed_to = match (input.addressed_to, &source.visit) {
        (Some(a), _) => a,
        (None, Some(_)) => AddressedTo::Participants,
        (None, None) => {
            return Err(Error::invalid("addressed_to", "is required: all_participants, participants or body"));
        }
    };
    let addressees = match addressed_to {
        AddressedTo::AllParticipants => {
            let orgs = participants_on(conn, input.issued_on)?;
            if orgs.is_empty() {
                return Err(Error::invalid("addressed_to", "no participant was admitted by the issue date"));
            }
            Addressees::Organisations(orgs)
        }
        AddressedTo::Participants => {
            let mut orgs = input.organisation_ids.clone();
            if orgs.is_empty()
                && let Some(v) = &source.visit
            {
                orgs.push(v.participant_id);
            }
            if orgs.is_empty() {
                return Err(Error::invalid("organisation_ids", "name at least one participant"));
            }
            let mut errors = Vec::new();
            for (i, org) in orgs.iter().enumerate() {
                let field = format!("organisation_ids[{i}]");
                match check_participant(conn, &field, *org, input.issued_on) {
                    Err(Error::Validation { errors: e, .. }) => errors.extend(e),
                    Err(other) => return Err(other),
                    Ok(()) if orgs[..i].contains(org) => errors.push(FieldError::new(field, "is named twice")),
                    Ok(()) => {}
                }
            }
            Error::check(errors)?;
            Addressees::Organisations(orgs)
        }
        AddressedTo::Body => {
            let body = input
                .addressee_body_id
                .ok_or_else(|| Error::invalid("addressee_body_id", "is required for a recommendation to a body"))?;
            load_body(conn, body, "addressee_body_id")?;
            Addressees::Body(body)
        }
    };
    let taken: i64 = recommendations::table.filter(recommendations::code.eq(&code)).count().get_result(conn)?;
    if taken > 0 {
        return Err(Error::Duplicate {
            field: "code".into(),
            detail: format!("there is already a recommendation {code}"),
        });
    }

    let at = now.naive_utc();
    let id: i64 = diesel::insert_into(recommendations::table)
        .values((
            recommendations::code.eq(&code),
            recommendations::title.eq(&text.title),
            recommendations::text.eq(&text.text),
            recommendations::body_id.eq(body_id),
            recommendations::issued_on.eq(input.issued_on),
            recommendations::due_on.eq(input.due_on),
            recommendations::priority.eq(input.priority.unwrap_or(Priority::Normal).as_str()),
            recommendations::vocabulary_id.eq(vocabulary_id),
            recommendations::parent_id.eq(input.parent_id),
            recommendations::source_kind.eq(source.kind.as_str()),
            recommendations::source_meeting_id.eq(source.meeting_id),
            recommendations::source_decision_id.eq(source.decision_id),
            recommendations::source_visit_id.eq(source.visit.as_ref().map(|v| v.id)),
            recommendations::source_body_id.eq(source.body_id),
            recommendations::source_title.eq(&source.title),
            recommendations::addressed_to.eq(addressed_to.as_str()),
            recommendations::restricted.eq(input.restricted),
            recommendations::created_by.eq(actor.user_id),
            recommendations::created_at.eq(at),
            recommendations::updated_at.eq(at),
        ))
        .returning(recommendations::id)
        .get_result(conn)?;
    insert_themes(conn, id, &themes)?;
    let addressees_json = match &addressees {
        Addressees::Organisations(orgs) => {
            for org in orgs {
                diesel::insert_into(recommendation_addressees::table)
                    .values((
                        recommendation_addressees::recommendation_id.eq(id),
                        recommendation_addressees::organisation_id.eq(Some(*org)),
                    ))
                    .execute(conn)?;
            }
            json!({"organisation_ids": orgs})
        }
        Addressees::Body(body) => {
            diesel::insert_into(recommendation_addressees::table)
                .values((
                    recommendation_addressees::recommendation_id.eq(id),
                    recommendation_addressees::body_id.eq(Some(*body)),
                ))
                .execute(conn)?;
            json!({"body_id": body})
        }
    };
    let row = load_recommendation(conn, id)?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("recommendation {id} vanished")))?;
    audit::record(
        conn,
        AuditEntry::by(actor, "recommendation.create", "recommendation", id).created(&audit_view(
            &row,
            &themes,
            &addressees_json,
        )),
    )?;
    view_one(conn, actor, now, row)
}

fn insert_themes(conn: &mut DbConnection, id: i64, themes: &[String]) -> Result<(), Error> {
    for t in themes {
        diesel::insert_into(recommendation_themes::table)
            .values((recommendation_themes::recommendation_id.eq(id), recommendation_themes::theme.eq(t)))
            .execute(conn)?;
    }
    Ok(())
}

/// Changes a recommendation (the issuing body's chair, or the secretariat).
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: RecommendationUpdate,
) -> Result<Recommendation, Error> {
    let before = seen(conn, actor, id)?;
    let standing = crate::bodies::service::standing(conn, actor, before.body_id, now)?;
    authorize(actor, &Action::ManageRecommendations { standing })?;
    if input.addressed_to.is_some() || input.organisation_ids.is_some() || input.addressee_body_id.is_some() {
        return Err(Error::Conflict(
            "the addressees are fixed when a recommendation is issued: issue a new recommendation instead".into(),
        ));
    }
    let entries: i64 = implementation_entries::table
        .filter(implementation_entries::recommendation_id.eq(id))
        .count()
        .get_result(conn)?;
    let vocabulary_id = match input.vocabulary_id {
        Some(v) if v != before.vocabulary_id && entries > 0 => {
            return Err(Error::Conflict(
                "progress has been recorded with this vocabulary: it can no longer change".into(),
            ));
        }
        Some(v) => check_vocabulary(conn, v)?,
        None => before.vocabulary_id,
    };
    let text =
        check_text(input.title.as_deref().unwrap_or(&before.title), input.text.as_deref().unwrap_or(&before.text))?;
    let due_on = input.due_on.unwrap_or(before.due_on);
    if due_on.is_some_and(|d| d < before.issued_on) {
        return Err(Error::invalid("due_on", "must not be before issued_on"));
    }
    let themes = input.themes.as_deref().map(check_themes).transpose()?;
    let parent_id = input.parent_id.unwrap_or(before.parent_id);
    if let Some(p) = parent_id
        && input.parent_id.is_some()
    {
        check_parent(conn, Some(id), before.body_id, p)?;
    }
    let old_themes = themes_of(conn, &[id])?.remove(&id).unwrap_or_default();
    diesel::update(recommendations::table.find(id))
        .set((
            recommendations::title.eq(&text.title),
            recommendations::text.eq(&text.text),
            recommendations::due_on.eq(due_on),
            recommendations::priority.eq(input.priority.unwrap_or(before.priority).as_str()),
            recommendations::restricted.eq(input.restricted.unwrap_or(before.restricted)),
            recommendations::parent_id.eq(parent_id),
            recommendations::vocabulary_id.eq(vocabulary_id),
            recommendations::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    if let Some(themes) = &themes {
        diesel::delete(recommendation_themes::table.filter(recommendation_themes::recommendation_id.eq(id)))
            .execute(conn)?;
        insert_themes(conn, id, themes)?;
    }
    let after = load_recommendation(conn, id)?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("recommendation {id} vanished")))?;
    let new_themes = themes.unwrap_or_else(|| old_themes.clone());
    audit::record(
        conn,
        AuditEntry::by(actor, "recommendation.update", "recommendation", id)
            .diff(&audit_view(&before, &old_themes, &Value::Null), &audit_view(&after, &new_themes, &Value::Null)),
    )?;
    view_one(conn, actor, now, after)
}

// ---- implementation records ------------------------------------------------------------

/// Whose record an entry is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A participant addressed by the recommendation.
    Organisation(i64),
    /// A body addressed by the recommendation.
    Body(i64),
}

fn entry_views(
    conn: &mut DbConnection,
    viewer: &Viewer<'_>,
    vocabulary_id: i64,
    entries: Vec<EntryRow>,
) -> Result<Vec<ImplementationEntry>, Error> {
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let evidence: Vec<EvidenceRow> = implementation_evidence::table
        .filter(implementation_evidence::entry_id.eq_any(&ids))
        .order(implementation_evidence::id.asc())
        .select(EvidenceRow::as_select())
        .load(conn)?;
    let upload_ids: Vec<i64> = evidence.iter().filter_map(|e| e.upload_id).collect();
    let files: HashMap<i64, UploadRef> = uploads::table
        .filter(uploads::id.eq_any(&upload_ids))
        .select(UploadRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|u| (u.id, UploadRef::from(u)))
        .collect();
    let people: Vec<i64> = entries.iter().map(|e| e.recorded_by).collect();
    let names: HashMap<i64, String> = users::table
        .filter(users::id.eq_any(&people))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let mut by_entry: HashMap<i64, Vec<Evidence>> = HashMap::new();
    for e in evidence {
        by_entry.entry(e.entry_id).or_default().push(Evidence {
            id: e.id,
            label: e.label,
            url: e.url,
            upload: e.upload_id.and_then(|u| files.get(&u).cloned()),
        });
    }
    Ok(entries
        .into_iter()
        .map(|e| ImplementationEntry {
            id: e.id,
            status: viewer.status(vocabulary_id, Some(&e.status)),
            note: e.note,
            evidence: by_entry.remove(&e.id).unwrap_or_default(),
            corrects_id: e.corrects_id,
            recorded_by: PersonRef {
                id: e.recorded_by,
                display_name: names.get(&e.recorded_by).cloned().unwrap_or_default(),
            },
            recorded_for: viewer.organisations.get(&e.recorded_for).cloned().unwrap_or(OrganisationRef {
                id: e.recorded_for,
                name: String::new(),
                short_code: String::new(),
                kind: OrganisationKind::Participant,
                status: OrganisationStatus::Active,
            }),
            recorded_at: e.recorded_at.and_utc(),
        })
        .collect())
}

/// Every addressee's record of a recommendation, with its history oldest first.
pub fn implementations(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> Result<Vec<ImplementationRecord>, Error> {
    let rec = seen(conn, actor, id)?;
    let mut viewer = Viewer::load(conn, actor, now)?;
    let addressees = addressees_of(conn, &[id])?.remove(&id).unwrap_or_default();
    let entries: Vec<EntryRow> = implementation_entries::table
        .filter(implementation_entries::recommendation_id.eq(id))
        .order((implementation_entries::recorded_at.asc(), implementation_entries::id.asc()))
        .select(EntryRow::as_select())
        .load(conn)?;
    let mut views = entry_views(conn, &viewer, rec.vocabulary_id, entries.clone())?.into_iter();
    let mut by_addressee: HashMap<i64, Vec<ImplementationEntry>> = HashMap::new();
    for e in &entries {
        if let Some(v) = views.next() {
            by_addressee.entry(e.addressee_id).or_default().push(v);
        }
    }
    let last = last_entries(conn, &[id], None)?;
    let mut out = Vec::with_capacity(addressees.len());
    for a in &addressees {
        out.push(ImplementationRecord {
            addressee: viewer.addressee(conn, &rec, a, last.get(&a.id))?,
            entries: by_addressee.remove(&a.id).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Whether an upload is already evidence of an entry or the report of a visit.
pub fn upload_attached(conn: &mut DbConnection, upload_id: i64) -> Result<bool, Error> {
    let evidence: i64 = implementation_evidence::table
        .filter(implementation_evidence::upload_id.eq(upload_id))
        .count()
        .get_result(conn)?;
    let reports: i64 =
        review_visits::table.filter(review_visits::report_upload_id.eq(upload_id)).count().get_result(conn)?;
    Ok(evidence + reports > 0)
}

/// Checks that `upload_id` is the actor's own and not attached anywhere yet.
pub fn check_own_upload(
    conn: &mut DbConnection,
    actor: &Actor,
    field: &str,
    upload_id: i64,
) -> Result<UploadRow, Error> {
    let row = uploads::table
        .find(upload_id)
        .select(UploadRow::as_select())
        .first(conn)
        .optional()?
        .filter(|u| u.uploaded_by == actor.user_id)
        .ok_or_else(|| Error::invalid(field, format!("there is no upload {upload_id} of yours")))?;
    if upload_attached(conn, upload_id)? {
        return Err(Error::invalid(field, format!("upload {upload_id} is already attached")));
    }
    Ok(row)
}

/// Adds an entry to one addressee's record: the addressee's delegates on their own record, the
/// issuing body's chair and the secretariat on any.
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    target: Target,
    input: ValidEntry,
) -> Result<ImplementationEntry, Error> {
    let rec = seen(conn, actor, id)?;
    let addressees = addressees_of(conn, &[id])?.remove(&id).unwrap_or_default();
    let addressee = addressees
        .into_iter()
        .find(|a| match target {
            Target::Organisation(org) => a.organisation_id == Some(org),
            Target::Body(body) => a.body_id == Some(body),
        })
        .ok_or_else(|| match target {
            Target::Organisation(org) => {
                Error::invalid("organisation_id", format!("organisation {org} is not an addressee of {}", rec.code))
            }
            Target::Body(body) => Error::invalid("body_id", format!("body {body} is not an addressee of {}", rec.code)),
        })?;
    let mut viewer = Viewer::load(conn, actor, now)?;
    let action = viewer.record_action(conn, &rec, &addressee)?;
    authorize(actor, &action)?;
    let vocabulary = viewer
        .vocabularies
        .get(&rec.vocabulary_id)
        .cloned()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("vocabulary {} missing", rec.vocabulary_id)))?;
    let mut errors = Vec::new();
    if vocabulary.status(&input.status).is_none() {
        let keys: Vec<&str> = vocabulary.statuses.iter().map(|s| s.key.as_str()).collect();
        errors.push(FieldError::new(
            "status",
            format!(
                "{:?} is not a status of the {} vocabulary (one of: {})",
                input.status,
                vocabulary.key,
                keys.join(", ")
            ),
        ));
    }
    let mut files = Vec::new();
    for (i, upload) in input.upload_ids.iter().enumerate() {
        match check_own_upload(conn, actor, &format!("upload_ids[{i}]"), *upload) {
            Ok(row) => files.push(row),
            Err(Error::Validation { errors: e, .. }) => errors.extend(e),
            Err(other) => return Err(other),
        }
    }
    if let Some(corrects) = input.corrects_id {
        let of: Option<i64> = implementation_entries::table
            .find(corrects)
            .select(implementation_entries::addressee_id)
            .first(conn)
            .optional()?;
        if of != Some(addressee.id) {
            errors.push(FieldError::new("corrects_id", format!("entry {corrects} is not an entry of this record")));
        }
    }
    Error::check(errors)?;

    let entry_id: i64 = diesel::insert_into(implementation_entries::table)
        .values((
            implementation_entries::addressee_id.eq(addressee.id),
            implementation_entries::recommendation_id.eq(id),
            implementation_entries::status.eq(&input.status),
            implementation_entries::note.eq(&input.note),
            implementation_entries::corrects_id.eq(input.corrects_id),
            implementation_entries::recorded_by.eq(actor.user_id),
            implementation_entries::recorded_for.eq(actor.organisation_id),
            implementation_entries::recorded_at.eq(now.naive_utc()),
        ))
        .returning(implementation_entries::id)
        .get_result(conn)?;
    for link in &input.links {
        diesel::insert_into(implementation_evidence::table)
            .values((
                implementation_evidence::entry_id.eq(entry_id),
                implementation_evidence::label.eq(&link.label),
                implementation_evidence::url.eq(Some(&link.url)),
            ))
            .execute(conn)?;
    }
    for file in &files {
        diesel::insert_into(implementation_evidence::table)
            .values((
                implementation_evidence::entry_id.eq(entry_id),
                implementation_evidence::label.eq(&file.filename),
                implementation_evidence::upload_id.eq(Some(file.id)),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        AuditEntry::by(actor, "implementation.record", "implementation_entry", entry_id).created(&json!({
            "recommendation_id": id, "addressee_id": addressee.id, "organisation_id": addressee.organisation_id,
            "body_id": addressee.body_id, "status": input.status, "note": input.note,
            "links": input.links.iter().map(|l| json!({"url": l.url, "label": l.label})).collect::<Vec<_>>(),
            "upload_ids": input.upload_ids, "corrects_id": input.corrects_id,
        })),
    )?;
    let row = implementation_entries::table.find(entry_id).select(EntryRow::as_select()).first(conn)?;
    entry_views(conn, &viewer, rec.vocabulary_id, vec![row])?
        .pop()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("entry {entry_id} vanished")))
}

// ---- evidence files --------------------------------------------------------------------

/// Stores an uploaded file, unattached and owned by the uploader (participants' delegates, the
/// chairs among them, and the secretariat).
pub fn store_upload(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    file: CheckedFile,
) -> Result<UploadRef, Error> {
    authorize(actor, &Action::RecordImplementation { own: true, standing: Standing::default() })?;
    let size = i64::try_from(file.data.len()).unwrap_or(i64::MAX);
    let id: i64 = diesel::insert_into(uploads::table)
        .values((
            uploads::filename.eq(&file.filename),
            uploads::content_type.eq(file.content_type),
            uploads::size.eq(size),
            uploads::sha256.eq(&file.sha256),
            uploads::data.eq(&file.data),
            uploads::uploaded_by.eq(actor.user_id),
            uploads::organisation_id.eq(actor.organisation_id),
            uploads::uploaded_at.eq(now.naive_utc()),
        ))
        .returning(uploads::id)
        .get_result(conn)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "upload.create", "upload", id).created(
            &json!({"filename": file.filename, "content_type": file.content_type, "size": size, "sha256": file.sha256}),
        ),
    )?;
    Ok(UploadRef {
        id,
        filename: file.filename,
        content_type: file.content_type.to_string(),
        size,
        sha256: file.sha256,
    })
}

/// An upload's name, type and bytes: for its uploader, for whoever may read a recommendation an
/// entry of which holds it, and for whoever may see the review visit whose report it is.
pub fn download(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<(String, String, Vec<u8>), Error> {
    let missing = || Error::NotFound(format!("no file {id}"));
    let (filename, content_type, data, uploaded_by): (String, String, Vec<u8>, i64) = uploads::table
        .find(id)
        .select((uploads::filename, uploads::content_type, uploads::data, uploads::uploaded_by))
        .first(conn)
        .optional()?
        .ok_or_else(missing)?;
    if uploaded_by == actor.user_id {
        return Ok((filename, content_type, data));
    }
    let holders: Vec<bool> = implementation_evidence::table
        .inner_join(
            implementation_entries::table
                .inner_join(recommendation_addressees::table.inner_join(recommendations::table)),
        )
        .filter(implementation_evidence::upload_id.eq(id))
        .select(recommendations::restricted)
        .load(conn)?;
    let readable = holders.iter().any(|restricted| may_read(actor, *restricted));
    let report: i64 = review_visits::table.filter(review_visits::report_upload_id.eq(id)).count().get_result(conn)?;
    if readable || (report > 0 && may_read(actor, false)) { Ok((filename, content_type, data)) } else { Err(missing()) }
}
