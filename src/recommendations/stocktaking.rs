//! The chair's stocktaking: where the implementation of a body's recommendations stood *as of* a
//! date, computed from the append-only history (recommendations by `created_at` and `issued_on`,
//! entries by `recorded_at`), and the two CSV exports.
//!
//! The computation is a pure function ([`compute`]) over rows loaded once ([`History`]); the
//! loader ([`load`]) reads exactly what it needs in a handful of queries: the statuses, the
//! body's recommendations, their themes and addressees, and — instead of every entry — the
//! last entry of each record before each instant asked about, plus the entries recorded since
//! the previous meeting. Those are all the entries the result depends on, so the pure function
//! gives the same answer on them as on the whole history (tested below).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{
    BodyRef, Priority, RecommendationFilter, RecommendationQuery, RecommendationRef, SourceKind, StatusRef,
};
use crate::accounts::actor::Actor;
use crate::accounts::model::{OrganisationKind, OrganisationRef};
use crate::bodies::model::BodyRow;
use crate::db::DbConnection;
use crate::db::schema::{
    bodies, implementation_entries, meeting_invitations, meetings, organisations, recommendation_addressees,
    recommendation_themes, recommendations, vocabularies, vocabulary_statuses,
};
use crate::error::{Error, FieldError};
use crate::policy::{Action, authorize};

// ---- the history, as loaded ---------------------------------------------------------------

/// One status of a vocabulary, with the vocabulary's key.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusDef {
    pub vocabulary_id: i64,
    /// The vocabulary's key (`simple`, `upr`, `fatf` …).
    pub vocabulary: String,
    pub key: String,
    pub label: String,
    pub position: i32,
    pub weight: i32,
    pub is_final: bool,
}

/// What the stocktaking needs of a recommendation.
#[derive(Clone, Debug, PartialEq)]
pub struct RecommendationFacts {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub body_id: i64,
    pub issued_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub priority: Priority,
    pub vocabulary_id: i64,
    pub source_kind: SourceKind,
    /// The source for display, as stored when it was issued (the meeting's title, the decision's
    /// number and title, "Review visit to Ghana, 2008", the report's title).
    pub source_title: String,
    pub themes: Vec<String>,
    pub restricted: bool,
    pub created_at: NaiveDateTime,
}

/// One addressee (implementation record): an organisation or a body.
#[derive(Clone, Debug, PartialEq)]
pub struct AddresseeFacts {
    pub id: i64,
    pub recommendation_id: i64,
    pub organisation: Option<OrganisationRef>,
    pub body: Option<BodyRef>,
}

impl AddresseeFacts {
    fn name(&self) -> &str {
        self.organisation
            .as_ref()
            .map(|o| o.name.as_str())
            .or(self.body.as_ref().map(|b| b.name.as_str()))
            .unwrap_or("")
    }

    fn reference(&self) -> AddresseeRef {
        AddresseeRef { organisation: self.organisation.clone(), body: self.body.clone() }
    }
}

/// One entry of a record's history.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryFacts {
    pub id: i64,
    pub addressee_id: i64,
    pub status: String,
    pub recorded_at: NaiveDateTime,
}

/// Everything a stocktaking is computed from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub statuses: Vec<StatusDef>,
    pub recommendations: Vec<RecommendationFacts>,
    pub addressees: Vec<AddresseeFacts>,
    pub entries: Vec<EntryFacts>,
}

/// A moment the state is taken at: by the end of `date` (in the body's zone), that is, before
/// the instant `end`. A recommendation counts once created before `end` and issued on or before
/// `date` (`issued_only`; the current-state export lists every recommendation); an entry counts
/// once recorded before `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub date: NaiveDate,
    pub end: NaiveDateTime,
    pub issued_only: bool,
}

impl Cut {
    /// The end of `date` in `body`'s time zone.
    pub fn end_of(body: &BodyRow, date: NaiveDate) -> Self {
        let next = date.succ_opt().unwrap_or(date);
        Self { date, end: body.day_starts(next).naive_utc(), issued_only: true }
    }

    /// The instant `at` (the state just before it), dated in `body`'s zone.
    pub fn at(body: &BodyRow, at: DateTime<Utc>) -> Self {
        Self { date: body.today(at), end: at.naive_utc(), issued_only: true }
    }
}

// ---- the views -----------------------------------------------------------------------------

/// How many records of one vocabulary are in one status.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct StatusCount {
    /// The vocabulary's key.
    pub vocabulary: String,
    pub key: String,
    pub label: String,
    #[serde(rename = "final")]
    #[schema(rename = "final")]
    pub is_final: bool,
    pub count: usize,
    /// Of the records tracked with this vocabulary, to one decimal (the statuses of one
    /// vocabulary add up to exactly 100, largest remainders rounded up).
    pub percent: f64,
}

/// The meeting a stocktaking compares with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct PreviousMeeting {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
}

/// An addressee, by name: a participant or a body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct AddresseeRef {
    pub organisation: Option<OrganisationRef>,
    pub body: Option<BodyRef>,
}

/// The records addressed to one participant.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct ParticipantStock {
    pub organisation: OrganisationRef,
    pub records: usize,
    /// 0–100: the mean weight of the records' statuses, to one decimal.
    pub progress: f64,
    pub overdue: usize,
    pub by_status: Vec<StatusCount>,
}

/// The records of the recommendations with one theme.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct ThemeStock {
    pub theme: String,
    pub records: usize,
    pub progress: f64,
    pub overdue: usize,
    pub by_status: Vec<StatusCount>,
}

/// The records of the recommendations from one source.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct SourceStock {
    pub kind: SourceKind,
    pub title: String,
    pub records: usize,
    pub progress: f64,
    pub overdue: usize,
    pub by_status: Vec<StatusCount>,
}

/// A record past its due date in a status that is not final.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct OverdueRecord {
    pub recommendation: RecommendationRef,
    pub addressee: AddresseeRef,
    pub due_on: NaiveDate,
    pub status: StatusRef,
}

/// One entry recorded since the previous meeting began.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct StatusChange {
    pub recommendation: RecommendationRef,
    pub addressee: AddresseeRef,
    /// The record's status before (null: no entry before this one).
    pub from: Option<String>,
    pub to: String,
    pub recorded_at: DateTime<Utc>,
}

/// How many more (or fewer) records are in a status than when the previous meeting began.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct StatusDelta {
    pub vocabulary: String,
    pub key: String,
    pub delta: i64,
}

/// What changed between the start of the previous meeting and the end of the day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct SincePrevious {
    /// Oldest first.
    pub changes: Vec<StatusChange>,
    /// Every status of the vocabularies in use then or now, in vocabulary and position order.
    pub by_status_delta: Vec<StatusDelta>,
}

/// The state of a body's recommendations as it was at the end of `as_of`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Stocktaking {
    pub body: BodyRef,
    pub as_of: NaiveDate,
    /// The body's last meeting (not cancelled, not a draft) that started before `as_of`.
    pub previous_meeting: Option<PreviousMeeting>,
    /// Recommendations issued (and entered) by then.
    pub recommendations: usize,
    /// Their implementation records (one per addressee).
    pub records: usize,
    /// 0–100: the mean weight of the records' statuses, to one decimal.
    pub progress: f64,
    /// Records overdue then.
    pub overdue: usize,
    /// Per vocabulary, every status in position order.
    pub by_status: Vec<StatusCount>,
    /// Records addressed to participants, by participant name.
    pub by_participant: Vec<ParticipantStock>,
    /// By theme (a record counts under each theme of its recommendation; none: not listed).
    pub by_theme: Vec<ThemeStock>,
    pub by_source: Vec<SourceStock>,
    /// By due date, then code and addressee.
    pub overdue_list: Vec<OverdueRecord>,
    /// Null when there was no previous meeting.
    pub since_previous_meeting: Option<SincePrevious>,
}

// ---- the computation ---------------------------------------------------------------------

/// The history indexed for lookups: statuses per vocabulary in position order, entries per
/// record in the order they were recorded.
pub struct Indexed<'a> {
    history: &'a History,
    statuses: HashMap<i64, Vec<&'a StatusDef>>,
    entries: HashMap<i64, Vec<&'a EntryFacts>>,
    recommendations: HashMap<i64, &'a RecommendationFacts>,
}

impl<'a> Indexed<'a> {
    /// Indexes `history`.
    pub fn new(history: &'a History) -> Self {
        let mut statuses: HashMap<i64, Vec<&StatusDef>> = HashMap::new();
        for s in &history.statuses {
            statuses.entry(s.vocabulary_id).or_default().push(s);
        }
        for list in statuses.values_mut() {
            list.sort_by(|a, b| (a.position, &a.key).cmp(&(b.position, &b.key)));
        }
        let mut entries: HashMap<i64, Vec<&EntryFacts>> = HashMap::new();
        for e in &history.entries {
            entries.entry(e.addressee_id).or_default().push(e);
        }
        for list in entries.values_mut() {
            list.sort_by_key(|e| (e.recorded_at, e.id));
        }
        let recommendations = history.recommendations.iter().map(|r| (r.id, r)).collect();
        Self { history, statuses, entries, recommendations }
    }

    /// Every record that existed at `cut`, with its status then, ordered by code and addressee.
    pub fn states(&self, cut: &Cut) -> Vec<RecordState<'a>> {
        let mut out: Vec<RecordState<'a>> = self
            .history
            .addressees
            .iter()
            .filter_map(|addressee| {
                let rec = *self.recommendations.get(&addressee.recommendation_id)?;
                if rec.created_at >= cut.end || (cut.issued_only && rec.issued_on > cut.date) {
                    return None;
                }
                let statuses = self.statuses.get(&rec.vocabulary_id)?;
                let initial = *statuses.first()?;
                let entries = self.entries.get(&addressee.id).map(Vec::as_slice).unwrap_or_default();
                let last = entries[..entries.partition_point(|e| e.recorded_at < cut.end)].last().copied();
                // An entry whose status the vocabulary no longer has counts as the first status.
                let status = last.and_then(|e| statuses.iter().find(|s| s.key == e.status).copied()).unwrap_or(initial);
                let overdue = !status.is_final && rec.due_on.is_some_and(|due| due < cut.date);
                Some(RecordState { recommendation: rec, addressee, status, last, overdue })
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.recommendation.code, a.addressee.name(), a.addressee.id).cmp(&(
                &b.recommendation.code,
                b.addressee.name(),
                b.addressee.id,
            ))
        });
        out
    }

    fn vocabulary_statuses(&self, vocabulary_id: i64) -> &[&'a StatusDef] {
        self.statuses.get(&vocabulary_id).map(Vec::as_slice).unwrap_or_default()
    }
}

/// One implementation record as it stood at a cut.
#[derive(Clone, Copy, Debug)]
pub struct RecordState<'a> {
    pub recommendation: &'a RecommendationFacts,
    pub addressee: &'a AddresseeFacts,
    pub status: &'a StatusDef,
    /// The last entry by then (none: the record had no entry yet).
    pub last: Option<&'a EntryFacts>,
    pub overdue: bool,
}

/// Counts over a set of records.
#[derive(Default)]
struct Tally {
    records: usize,
    weights: i64,
    overdue: usize,
    counts: HashMap<(i64, String), usize>,
    vocabularies: BTreeSet<i64>,
}

impl Tally {
    fn add(&mut self, s: &RecordState<'_>) {
        self.records += 1;
        self.weights += i64::from(s.status.weight);
        self.overdue += usize::from(s.overdue);
        *self.counts.entry((s.status.vocabulary_id, s.status.key.clone())).or_default() += 1;
        self.vocabularies.insert(s.status.vocabulary_id);
    }

    fn progress(&self) -> f64 {
        progress(self.weights, self.records)
    }

    fn count(&self, status: &StatusDef) -> usize {
        self.counts.get(&(status.vocabulary_id, status.key.clone())).copied().unwrap_or(0)
    }

    fn by_status(&self, ix: &Indexed<'_>) -> Vec<StatusCount> {
        let mut out = Vec::new();
        for vocabulary in &self.vocabularies {
            let statuses = ix.vocabulary_statuses(*vocabulary);
            let counts: Vec<usize> = statuses.iter().map(|s| self.count(s)).collect();
            for (s, (count, percent)) in statuses.iter().zip(counts.iter().zip(percents(&counts))) {
                out.push(StatusCount {
                    vocabulary: s.vocabulary.clone(),
                    key: s.key.clone(),
                    label: s.label.clone(),
                    is_final: s.is_final,
                    count: *count,
                    percent,
                });
            }
        }
        out
    }
}

/// The mean weight, 0–100, to one decimal (0 for no records).
pub fn progress(weights: i64, records: usize) -> f64 {
    if records == 0 {
        return 0.0;
    }
    let mean = weights as f64 / records as f64;
    (mean * 10.0).round() / 10.0
}

/// Percentages of `counts`, to one decimal, adding up to exactly 100 (largest remainders get
/// the spare tenths; all zero when there is nothing to count).
pub fn percents(counts: &[usize]) -> Vec<f64> {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return vec![0.0; counts.len()];
    }
    let mut tenths: Vec<usize> = counts.iter().map(|c| c * 1000 / total).collect();
    let mut spare = 1000 - tenths.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(counts[i] * 1000 % total), i));
    for i in order {
        if spare == 0 {
            break;
        }
        if !(counts[i] * 1000).is_multiple_of(total) {
            tenths[i] += 1;
            spare -= 1;
        }
    }
    tenths.into_iter().map(|t| t as f64 / 10.0).collect()
}

fn reference(r: &RecommendationFacts) -> RecommendationRef {
    RecommendationRef { id: r.id, code: r.code.clone(), title: r.title.clone() }
}

fn status_ref(s: &StatusDef) -> StatusRef {
    StatusRef { key: s.key.clone(), label: s.label.clone(), weight: s.weight, is_final: s.is_final }
}

/// The stocktaking of `history` at `as_of`, compared with the state when the previous meeting
/// began (`previous`: the meeting and the cut at its start).
pub fn compute(history: &History, body: BodyRef, as_of: &Cut, previous: Option<(PreviousMeeting, Cut)>) -> Stocktaking {
    let ix = Indexed::new(history);
    let states = ix.states(as_of);
    let mut all = Tally::default();
    let mut participants: BTreeMap<(String, i64), (OrganisationRef, Tally)> = BTreeMap::new();
    let mut themes: BTreeMap<String, Tally> = BTreeMap::new();
    let mut sources: BTreeMap<(String, String), (SourceKind, Tally)> = BTreeMap::new();
    let mut overdue_list = Vec::new();
    let mut recommendations = BTreeSet::new();
    for s in &states {
        all.add(s);
        recommendations.insert(s.recommendation.id);
        if let Some(org) = &s.addressee.organisation {
            participants.entry((org.name.clone(), org.id)).or_insert_with(|| (org.clone(), Tally::default())).1.add(s);
        }
        for theme in &s.recommendation.themes {
            themes.entry(theme.clone()).or_default().add(s);
        }
        let kind = s.recommendation.source_kind;
        sources
            .entry((kind.as_str().to_string(), s.recommendation.source_title.clone()))
            .or_insert_with(|| (kind, Tally::default()))
            .1
            .add(s);
        if s.overdue
            && let Some(due_on) = s.recommendation.due_on
        {
            overdue_list.push(OverdueRecord {
                recommendation: reference(s.recommendation),
                addressee: s.addressee.reference(),
                due_on,
                status: status_ref(s.status),
            });
        }
    }
    // `states` is in code order; the list goes by due date first (a stable sort keeps the rest).
    overdue_list.sort_by_key(|o| o.due_on);
    let since_previous_meeting = previous.as_ref().map(|(_, then)| since(&ix, &states, &all, then, as_of));
    Stocktaking {
        body,
        as_of: as_of.date,
        previous_meeting: previous.map(|(m, _)| m),
        recommendations: recommendations.len(),
        records: all.records,
        progress: all.progress(),
        overdue: all.overdue,
        by_status: all.by_status(&ix),
        by_participant: participants
            .into_values()
            .map(|(organisation, t)| ParticipantStock {
                organisation,
                records: t.records,
                progress: t.progress(),
                overdue: t.overdue,
                by_status: t.by_status(&ix),
            })
            .collect(),
        by_theme: themes
            .into_iter()
            .map(|(theme, t)| ThemeStock {
                theme,
                records: t.records,
                progress: t.progress(),
                overdue: t.overdue,
                by_status: t.by_status(&ix),
            })
            .collect(),
        by_source: sources
            .into_iter()
            .map(|((_, title), (kind, t))| SourceStock {
                kind,
                title,
                records: t.records,
                progress: t.progress(),
                overdue: t.overdue,
                by_status: t.by_status(&ix),
            })
            .collect(),
        overdue_list,
        since_previous_meeting,
    }
}

/// The entries recorded from `then.end` to `now.end` on the records that exist now, and the
/// change of every status count.
fn since(ix: &Indexed<'_>, states: &[RecordState<'_>], now_tally: &Tally, then: &Cut, now: &Cut) -> SincePrevious {
    let mut changes: Vec<(NaiveDateTime, i64, StatusChange)> = Vec::new();
    for s in states {
        let entries = ix.entries.get(&s.addressee.id).map(Vec::as_slice).unwrap_or_default();
        for (i, e) in entries.iter().enumerate() {
            if e.recorded_at < then.end || e.recorded_at >= now.end {
                continue;
            }
            let from = i.checked_sub(1).map(|p| entries[p].status.clone());
            changes.push((
                e.recorded_at,
                e.id,
                StatusChange {
                    recommendation: reference(s.recommendation),
                    addressee: s.addressee.reference(),
                    from,
                    to: e.status.clone(),
                    recorded_at: e.recorded_at.and_utc(),
                },
            ));
        }
    }
    changes.sort_by_key(|(at, id, _)| (*at, *id));
    let mut then_tally = Tally::default();
    for s in ix.states(then) {
        then_tally.add(&s);
    }
    let vocabularies: BTreeSet<i64> = now_tally.vocabularies.union(&then_tally.vocabularies).copied().collect();
    let mut by_status_delta = Vec::new();
    for vocabulary in vocabularies {
        for s in ix.vocabulary_statuses(vocabulary) {
            let delta = now_tally.count(s) as i64 - then_tally.count(s) as i64;
            by_status_delta.push(StatusDelta { vocabulary: s.vocabulary.clone(), key: s.key.clone(), delta });
        }
    }
    SincePrevious { changes: changes.into_iter().map(|(_, _, c)| c).collect(), by_status_delta }
}

// ---- the loader ----------------------------------------------------------------------------

/// Which recommendations to load.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope {
    /// One body's, or every body's.
    pub body_id: Option<i64>,
    /// Restricted recommendations too (not for observers).
    pub include_restricted: bool,
}

impl Scope {
    /// The body ids to load, as a range (one body, or all), so that subqueries need no boxing.
    fn body_range(self) -> (i64, i64) {
        self.body_id.map_or((i64::MIN, i64::MAX), |b| (b, b))
    }
}

type RecommendationColumns =
    (i64, String, String, i64, NaiveDate, Option<NaiveDate>, String, i64, String, String, bool, NaiveDateTime);

/// Loads the history of `scope` that the state before each instant of `cuts`, and the changes
/// between `window.0` and `window.1`, depend on: every status, the recommendations with their
/// themes and addressees, the last entry of each record before each cut, and the entries
/// recorded within the window.
pub fn load(
    conn: &mut DbConnection,
    scope: Scope,
    cuts: &[NaiveDateTime],
    window: Option<(NaiveDateTime, NaiveDateTime)>,
) -> Result<History, Error> {
    let statuses = vocabulary_statuses::table
        .inner_join(vocabularies::table)
        .select((
            vocabulary_statuses::vocabulary_id,
            vocabularies::key,
            vocabulary_statuses::key,
            vocabulary_statuses::label,
            vocabulary_statuses::position,
            vocabulary_statuses::weight,
            vocabulary_statuses::is_final,
        ))
        .load::<(i64, String, String, String, i32, i32, bool)>(conn)?
        .into_iter()
        .map(|(vocabulary_id, vocabulary, key, label, position, weight, is_final)| StatusDef {
            vocabulary_id,
            vocabulary,
            key,
            label,
            position,
            weight,
            is_final,
        })
        .collect();

    let mut q = recommendations::table
        .select((
            recommendations::id,
            recommendations::code,
            recommendations::title,
            recommendations::body_id,
            recommendations::issued_on,
            recommendations::due_on,
            recommendations::priority,
            recommendations::vocabulary_id,
            recommendations::source_kind,
            recommendations::source_title,
            recommendations::restricted,
            recommendations::created_at,
        ))
        .into_boxed();
    if let Some(body) = scope.body_id {
        q = q.filter(recommendations::body_id.eq(body));
    }
    if !scope.include_restricted {
        q = q.filter(recommendations::restricted.eq(false));
    }
    let rows: Vec<RecommendationColumns> = q.load(conn)?;

    let mut tq = recommendation_themes::table
        .inner_join(recommendations::table)
        .select((recommendation_themes::recommendation_id, recommendation_themes::theme))
        .into_boxed();
    if let Some(body) = scope.body_id {
        tq = tq.filter(recommendations::body_id.eq(body));
    }
    if !scope.include_restricted {
        tq = tq.filter(recommendations::restricted.eq(false));
    }
    let mut themes: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, theme) in tq.load::<(i64, String)>(conn)? {
        themes.entry(id).or_default().push(theme);
    }
    for list in themes.values_mut() {
        list.sort();
    }
    let recommendations = rows
        .into_iter()
        .filter_map(|r| {
            let (id, code, title, body_id, issued_on, due_on, priority, vocabulary_id, kind) =
                (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8);
            let source_kind: SourceKind = kind.parse().ok()?;
            Some(RecommendationFacts {
                id,
                code,
                title,
                body_id,
                issued_on,
                due_on,
                priority: priority.parse().unwrap_or(Priority::Normal),
                vocabulary_id,
                source_kind,
                source_title: r.9,
                themes: themes.remove(&id).unwrap_or_default(),
                restricted: r.10,
                created_at: r.11,
            })
        })
        .collect();

    let mut aq = recommendation_addressees::table
        .inner_join(recommendations::table)
        .select((
            recommendation_addressees::id,
            recommendation_addressees::recommendation_id,
            recommendation_addressees::organisation_id,
            recommendation_addressees::body_id,
        ))
        .into_boxed();
    if let Some(body) = scope.body_id {
        aq = aq.filter(recommendations::body_id.eq(body));
    }
    if !scope.include_restricted {
        aq = aq.filter(recommendations::restricted.eq(false));
    }
    let addressee_rows: Vec<(i64, i64, Option<i64>, Option<i64>)> = aq.load(conn)?;
    let orgs = organisation_refs(conn)?;
    let body_refs = body_refs(conn)?;
    let addressees = addressee_rows
        .into_iter()
        .map(|(id, recommendation_id, org, body)| AddresseeFacts {
            id,
            recommendation_id,
            organisation: org.and_then(|o| orgs.get(&o).cloned()),
            body: body.and_then(|b| body_refs.get(&b).cloned()),
        })
        .collect();

    let mut entries: Vec<EntryFacts> = Vec::new();
    for cut in cuts {
        entries.extend(last_entries(conn, scope, *cut)?);
    }
    if let Some((from, to)) = window {
        entries.extend(entries_between(conn, scope, from, to)?);
    }
    entries.sort_by_key(|e| e.id);
    entries.dedup_by_key(|e| e.id);
    Ok(History { statuses, recommendations, addressees, entries })
}

type EntryColumns = (i64, i64, String, NaiveDateTime);

fn entry_facts(rows: Vec<EntryColumns>) -> Vec<EntryFacts> {
    rows.into_iter()
        .map(|(id, addressee_id, status, recorded_at)| EntryFacts { id, addressee_id, status, recorded_at })
        .collect()
}

/// The last entry of each record of `scope` recorded before `end` (one index probe per record).
fn last_entries(conn: &mut DbConnection, scope: Scope, end: NaiveDateTime) -> Result<Vec<EntryFacts>, Error> {
    let latest = implementation_entries::table
        .filter(implementation_entries::addressee_id.eq(recommendation_addressees::id))
        .filter(implementation_entries::recorded_at.lt(end))
        .order((implementation_entries::recorded_at.desc(), implementation_entries::id.desc()))
        .select(implementation_entries::id)
        .limit(1)
        .single_value();
    let (lo, hi) = scope.body_range();
    let records = recommendation_addressees::table
        .inner_join(recommendations::table)
        .filter(recommendations::body_id.between(lo, hi))
        .filter(recommendations::restricted.eq(false).or(recommendations::restricted.eq(scope.include_restricted)))
        .select(latest);
    let rows = implementation_entries::table
        .filter(implementation_entries::id.nullable().eq_any(records))
        .select((
            implementation_entries::id,
            implementation_entries::addressee_id,
            implementation_entries::status,
            implementation_entries::recorded_at,
        ))
        .load::<EntryColumns>(conn)?;
    Ok(entry_facts(rows))
}

/// The entries of `scope` recorded from `from` (inclusive) to `to` (exclusive).
fn entries_between(
    conn: &mut DbConnection,
    scope: Scope,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<EntryFacts>, Error> {
    let (lo, hi) = scope.body_range();
    let records = recommendation_addressees::table
        .inner_join(recommendations::table)
        .filter(recommendations::body_id.between(lo, hi))
        .filter(recommendations::restricted.eq(false).or(recommendations::restricted.eq(scope.include_restricted)))
        .select(recommendation_addressees::id);
    let rows = implementation_entries::table
        .filter(implementation_entries::addressee_id.eq_any(records))
        .filter(implementation_entries::recorded_at.ge(from))
        .filter(implementation_entries::recorded_at.lt(to))
        .select((
            implementation_entries::id,
            implementation_entries::addressee_id,
            implementation_entries::status,
            implementation_entries::recorded_at,
        ))
        .load::<EntryColumns>(conn)?;
    Ok(entry_facts(rows))
}

/// Every organisation, by id, as addressees show it.
fn organisation_refs(conn: &mut DbConnection) -> Result<HashMap<i64, OrganisationRef>, Error> {
    let rows: Vec<(i64, String, String, String, String)> = organisations::table
        .select((
            organisations::id,
            organisations::name,
            organisations::short_code,
            organisations::kind,
            organisations::status,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, short_code, kind, status)| {
            Some((id, OrganisationRef { id, name, short_code, kind: kind.parse().ok()?, status: status.parse().ok()? }))
        })
        .collect())
}

/// Every body, by id.
fn body_refs(conn: &mut DbConnection) -> Result<HashMap<i64, BodyRef>, Error> {
    let rows: Vec<(i64, String, String)> =
        bodies::table.select((bodies::id, bodies::name, bodies::short_name)).load(conn)?;
    Ok(rows.into_iter().map(|(id, name, short_name)| (id, BodyRef { id, name, short_name })).collect())
}

/// The body's last meeting (neither cancelled nor a draft) that started before `before`, among
/// those `actor` may see.
fn previous_meeting(
    conn: &mut DbConnection,
    actor: &Actor,
    body_id: i64,
    before: NaiveDateTime,
) -> Result<Option<PreviousMeeting>, Error> {
    let candidates: Vec<(i64, String, NaiveDateTime)> = meetings::table
        .filter(meetings::body_id.eq(body_id))
        .filter(meetings::state.ne_all(["draft", "cancelled"]))
        .filter(meetings::starts_at.lt(before))
        .order((meetings::starts_at.desc(), meetings::id.desc()))
        .select((meetings::id, meetings::title, meetings::starts_at))
        .limit(50)
        .load(conn)?;
    let sees_all =
        matches!(actor.kind, OrganisationKind::Participant | OrganisationKind::Secretariat) || actor.is_admin;
    let invited: BTreeSet<i64> = if sees_all {
        BTreeSet::new()
    } else {
        meeting_invitations::table
            .filter(meeting_invitations::organisation_id.eq(actor.organisation_id))
            .select(meeting_invitations::meeting_id)
            .load::<i64>(conn)?
            .into_iter()
            .collect()
    };
    Ok(candidates
        .into_iter()
        .find(|(id, _, _)| sees_all || invited.contains(id))
        .map(|(id, title, starts_at)| PreviousMeeting { id, title, starts_at: starts_at.and_utc() }))
}

// ---- the use cases -------------------------------------------------------------------------

/// `GET /api/stocktaking` (and its CSV) parameters, as they arrive (text, so that a malformed one
/// is a 422 naming it).
#[derive(Deserialize, Debug, Default, Clone, IntoParams)]
pub struct StocktakingQuery {
    /// The body whose recommendations (required).
    #[param(value_type = i64)]
    pub body_id: Option<String>,
    /// `YYYY-MM-DD`, not in the future (default: today in the body's time zone).
    #[param(value_type = Option<NaiveDate>)]
    pub as_of: Option<String>,
}

/// The checked stocktaking parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StocktakingRequest {
    pub body_id: i64,
    pub as_of: Option<NaiveDate>,
}

impl StocktakingQuery {
    /// Parses the parameters: 422 naming each malformed one.
    pub fn parse(&self) -> Result<StocktakingRequest, Error> {
        let mut errors = Vec::new();
        let body_id = match self.body_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                errors.push(FieldError::new("body_id", "is required"));
                None
            }
            Some(s) => {
                s.parse::<i64>().map_err(|_| errors.push(FieldError::new("body_id", "must be a numeric id"))).ok()
            }
        };
        let as_of = match self.as_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| errors.push(FieldError::new("as_of", "must be a date (YYYY-MM-DD)")))
                .ok(),
        };
        Error::check(errors)?;
        Ok(StocktakingRequest { body_id: body_id.unwrap_or_default(), as_of })
    }
}

/// Whether `actor` may read recommendations at all (403 for guests), and restricted ones.
fn readable(actor: &Actor) -> Result<bool, Error> {
    authorize(actor, &Action::ReadRecommendation { restricted: false })?;
    Ok(authorize(actor, &Action::ReadRecommendation { restricted: true }).is_ok())
}

fn body_of(conn: &mut DbConnection, id: i64) -> Result<BodyRow, Error> {
    match crate::bodies::service::load_body(conn, id) {
        Err(Error::NotFound(_)) => Err(Error::invalid("body_id", "no such body")),
        other => other,
    }
}

/// The stocktaking of a body as of a date (not in the future), as `actor` may see it.
pub fn stocktaking(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    request: StocktakingRequest,
) -> Result<Stocktaking, Error> {
    let include_restricted = readable(actor)?;
    let (history, body, cut, previous) = load_stocktaking(conn, actor, now, request, include_restricted)?;
    Ok(compute(
        &history,
        BodyRef { id: body.id, name: body.name.clone(), short_name: body.short_name.clone() },
        &cut,
        previous,
    ))
}

type Loaded = (History, BodyRow, Cut, Option<(PreviousMeeting, Cut)>);

fn load_stocktaking(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    request: StocktakingRequest,
    include_restricted: bool,
) -> Result<Loaded, Error> {
    let body = body_of(conn, request.body_id)?;
    let today = body.today(now);
    let as_of = request.as_of.unwrap_or(today);
    if as_of > today {
        return Err(Error::invalid("as_of", format!("is in the future (today is {today} in {})", body.time_zone)));
    }
    let cut = Cut::end_of(&body, as_of);
    let previous = previous_meeting(conn, actor, body.id, body.day_starts(as_of).naive_utc())?;
    let scope = Scope { body_id: Some(body.id), include_restricted };
    let previous = previous.map(|m| {
        let then = Cut::at(&body, m.starts_at);
        (m, then)
    });
    let history = match &previous {
        Some((_, then)) => load(conn, scope, &[cut.end, then.end], Some((then.end, cut.end)))?,
        None => load(conn, scope, &[cut.end], None)?,
    };
    Ok((history, body, cut, previous))
}

// ---- CSV -----------------------------------------------------------------------------------

/// The header of both CSV exports.
pub const CSV_HEADER: [&str; 14] = [
    "code",
    "title",
    "body",
    "issued_on",
    "due_on",
    "priority",
    "themes",
    "source",
    "addressee",
    "status",
    "status_label",
    "progress",
    "overdue",
    "last_update",
];

fn write_csv<'a>(
    states: impl IntoIterator<Item = RecordState<'a>>,
    bodies: &HashMap<i64, BodyRef>,
) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).map_err(Error::internal)?;
    for s in states {
        let r = s.recommendation;
        let body = bodies.get(&r.body_id).map(|b| b.short_name.as_str()).unwrap_or_default();
        let source = format!("{}: {}", r.source_kind.as_str(), r.source_title);
        w.write_record([
            r.code.as_str(),
            r.title.as_str(),
            body,
            &r.issued_on.to_string(),
            &r.due_on.map(|d| d.to_string()).unwrap_or_default(),
            r.priority.as_str(),
            &r.themes.join("; "),
            &source,
            s.addressee.name(),
            &s.status.key,
            &s.status.label,
            &s.status.weight.to_string(),
            if s.overdue { "true" } else { "false" },
            &s.last.map(|e| e.recorded_at.and_utc().to_rfc3339()).unwrap_or_default(),
        ])
        .map_err(Error::internal)?;
    }
    w.into_inner().map_err(|e| Error::internal(anyhow::anyhow!("{e}")))
}

/// `GET /api/stocktaking.csv`: one row per record with its status as of the date.
pub fn stocktaking_csv(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    request: StocktakingRequest,
) -> Result<Vec<u8>, Error> {
    let include_restricted = readable(actor)?;
    let (history, _, cut, _) = load_stocktaking(conn, actor, now, request, include_restricted)?;
    let ix = Indexed::new(&history);
    let bodies = body_refs(conn)?;
    write_csv(ix.states(&cut), &bodies)
}

/// `GET /api/recommendations/export.csv`: one row per record as it stands now, filtered like the
/// list (`organisation_id`, `status` and `overdue` pick records; the others recommendations).
pub fn export_csv(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    query: &RecommendationQuery,
) -> Result<Vec<u8>, Error> {
    let include_restricted = readable(actor)?;
    let filter = query.filter()?;
    check_filter(conn, &filter)?;
    let scope = Scope { body_id: filter.body_id, include_restricted };
    let end = now.naive_utc() + chrono::Duration::microseconds(1);
    let history = load(conn, scope, &[end], None)?;
    let mut bodies_rows: HashMap<i64, BodyRow> = HashMap::new();
    for id in history.recommendations.iter().map(|r| r.body_id).collect::<BTreeSet<_>>() {
        bodies_rows.insert(id, crate::bodies::service::load_body(conn, id)?);
    }
    let texts = if filter.words.is_empty() { HashMap::new() } else { texts(conn, scope)? };
    let ix = Indexed::new(&history);
    let bodies = body_refs(conn)?;
    // Each body has its own today (overdue is in the issuing body's zone): one cut per body.
    let mut rows = Vec::new();
    for (id, body) in &bodies_rows {
        let cut = Cut { date: body.today(now), end, issued_only: false };
        rows.extend(ix.states(&cut).into_iter().filter(|s| s.recommendation.body_id == *id));
    }
    rows.sort_by(|a, b| {
        (&a.recommendation.code, a.addressee.name(), a.addressee.id).cmp(&(
            &b.recommendation.code,
            b.addressee.name(),
            b.addressee.id,
        ))
    });
    let rows = rows.into_iter().filter(|s| matches(s, &filter, &texts));
    write_csv(rows, &bodies)
}

/// Filters that must name something that exists: the body, the organisation, the status key.
fn check_filter(conn: &mut DbConnection, filter: &RecommendationFilter) -> Result<(), Error> {
    if let Some(id) = filter.body_id {
        body_of(conn, id)?;
    }
    if let Some(id) = filter.organisation_id {
        let n: i64 = organisations::table.filter(organisations::id.eq(id)).count().get_result(conn)?;
        if n == 0 {
            return Err(Error::invalid("organisation_id", "no such organisation"));
        }
    }
    if let Some(key) = &filter.status {
        let n: i64 = vocabulary_statuses::table.filter(vocabulary_statuses::key.eq(key)).count().get_result(conn)?;
        if n == 0 {
            return Err(Error::invalid("status", "is a status of no vocabulary"));
        }
    }
    Ok(())
}

fn texts(conn: &mut DbConnection, scope: Scope) -> Result<HashMap<i64, String>, Error> {
    let mut q = recommendations::table.select((recommendations::id, recommendations::text)).into_boxed();
    if let Some(body) = scope.body_id {
        q = q.filter(recommendations::body_id.eq(body));
    }
    Ok(q.load::<(i64, String)>(conn)?.into_iter().map(|(id, t)| (id, t.to_lowercase())).collect())
}

fn matches(s: &RecordState<'_>, f: &RecommendationFilter, texts: &HashMap<i64, String>) -> bool {
    let r = s.recommendation;
    f.source_kind.is_none_or(|k| k == r.source_kind)
        && f.theme.as_ref().is_none_or(|t| r.themes.contains(t))
        && f.organisation_id.is_none_or(|o| s.addressee.organisation.as_ref().is_some_and(|org| org.id == o))
        && f.status.as_ref().is_none_or(|k| *k == s.status.key)
        && f.overdue.is_none_or(|o| o == s.overdue)
        && f.words.iter().all(|w| {
            r.code.to_lowercase().contains(w)
                || r.title.to_lowercase().contains(w)
                || texts.get(&r.id).is_some_and(|t| t.contains(w))
        })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;
    use proptest::prelude::*;

    use super::*;
    use crate::accounts::model::OrganisationStatus;

    const SIMPLE: [(&str, i32, bool); 6] = [
        ("not_started", 0, false),
        ("in_progress", 40, false),
        ("partially_implemented", 60, false),
        ("implemented", 100, true),
        ("not_implemented", 0, true),
        ("superseded", 100, true),
    ];
    const FATF: [(&str, i32, bool); 3] =
        [("not_rated", 0, false), ("largely_compliant", 80, false), ("compliant", 100, true)];

    fn statuses() -> Vec<StatusDef> {
        let mut out = Vec::new();
        for (vocabulary_id, vocabulary, list) in [(1, "simple", &SIMPLE[..]), (2, "fatf", &FATF[..])] {
            for (position, (key, weight, is_final)) in list.iter().enumerate() {
                out.push(StatusDef {
                    vocabulary_id,
                    vocabulary: vocabulary.into(),
                    key: (*key).into(),
                    label: key.replace('_', " "),
                    position: i32::try_from(position).unwrap_or_default(),
                    weight: *weight,
                    is_final: *is_final,
                });
            }
        }
        out
    }

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2007, 1, 1).expect("date") + chrono::Duration::days(n)
    }

    fn instant(n: i64, secs: u32) -> NaiveDateTime {
        day(n).and_time(NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).expect("time"))
    }

    /// The end of day `n` in UTC (the tests' body keeps UTC).
    fn cut(n: i64) -> Cut {
        Cut { date: day(n), end: day(n + 1).and_time(NaiveTime::MIN), issued_only: true }
    }

    fn org(id: i64) -> OrganisationRef {
        OrganisationRef {
            id,
            name: format!("Participant {id:02}"),
            short_code: format!("P{id}"),
            kind: OrganisationKind::Participant,
            status: OrganisationStatus::Active,
        }
    }

    fn body() -> BodyRef {
        BodyRef { id: 1, name: "Plenary".into(), short_name: "KP".into() }
    }

    fn recommendation(
        id: i64,
        vocabulary_id: i64,
        issued: i64,
        due: Option<i64>,
        themes: &[&str],
    ) -> RecommendationFacts {
        RecommendationFacts {
            id,
            code: format!("GAB-2006/{id:02}"),
            title: format!("Recommendation {id}"),
            body_id: 1,
            issued_on: day(issued),
            due_on: due.map(day),
            priority: Priority::Normal,
            vocabulary_id,
            source_kind: if id % 2 == 0 { SourceKind::Meeting } else { SourceKind::Report },
            source_title: if id % 2 == 0 { "Gaborone Plenary 2006".into() } else { "Annual report".into() },
            themes: themes.iter().map(|t| (*t).to_string()).collect(),
            restricted: false,
            created_at: instant(issued, 3600),
        }
    }

    fn addressee(id: i64, recommendation_id: i64, org_id: i64) -> AddresseeFacts {
        AddresseeFacts { id, recommendation_id, organisation: Some(org(org_id)), body: None }
    }

    fn entry(id: i64, addressee_id: i64, status: &str, at: NaiveDateTime) -> EntryFacts {
        EntryFacts { id, addressee_id, status: status.into(), recorded_at: at }
    }

    fn count(s: &Stocktaking, vocabulary: &str, key: &str) -> usize {
        s.by_status.iter().find(|c| c.vocabulary == vocabulary && c.key == key).map_or(0, |c| c.count)
    }

    fn sample() -> History {
        History {
            statuses: statuses(),
            recommendations: vec![
                recommendation(1, 1, 0, Some(10), &["transparency"]),
                recommendation(2, 1, 0, None, &["statistics", "transparency"]),
                recommendation(3, 2, 20, Some(40), &[]),
            ],
            addressees: vec![addressee(1, 1, 1), addressee(2, 1, 2), addressee(3, 2, 1), addressee(4, 3, 2)],
            entries: vec![
                entry(1, 1, "in_progress", instant(2, 100)),
                entry(2, 1, "implemented", instant(12, 100)),
                entry(3, 2, "in_progress", instant(5, 100)),
                // A correction on the same day: the later entry holds.
                entry(4, 2, "partially_implemented", instant(5, 200)),
                entry(5, 3, "superseded", instant(30, 100)),
            ],
        }
    }

    #[test]
    fn the_state_as_of_a_day_is_the_last_entry_by_its_end() {
        let h = sample();
        let s = compute(&h, body(), &cut(5), None);
        assert_eq!((s.recommendations, s.records), (2, 3), "the third is issued on day 20");
        assert_eq!(count(&s, "simple", "in_progress"), 1);
        assert_eq!(count(&s, "simple", "partially_implemented"), 1);
        assert_eq!(count(&s, "simple", "not_started"), 1, "no entry: the first status");
        assert_eq!(s.progress, 33.3, "(40 + 60 + 0) / 3");
        assert_eq!(s.overdue, 0);
        assert!(s.by_status.iter().all(|c| c.vocabulary == "simple"), "fatf is not in use yet");
        let later = compute(&h, body(), &cut(11), None);
        assert_eq!(later.overdue, 2, "record 1 and 2 of the first are past day 10 and open");
        assert_eq!(later.overdue_list.len(), 2);
        assert_eq!(compute(&h, body(), &cut(10), None).overdue, 0, "due on day 10 is not overdue on day 10");
        let s = compute(&h, body(), &cut(12), None);
        assert_eq!(s.overdue, 1, "implemented on day 12");
        let theme = s.by_theme.iter().find(|t| t.theme == "transparency").expect("theme");
        assert_eq!(theme.records, 3);
        assert_eq!(s.by_source.len(), 2);
        assert_eq!(s.by_participant.iter().map(|p| p.records).collect::<Vec<_>>(), [2, 1]);
    }

    #[test]
    fn since_the_previous_meeting() {
        let h = sample();
        let meeting = PreviousMeeting { id: 9, title: "Intersessional".into(), starts_at: instant(4, 0).and_utc() };
        let then = Cut { date: day(4), end: instant(4, 0), issued_only: true };
        let s = compute(&h, body(), &cut(12), Some((meeting, then)));
        let since = s.since_previous_meeting.expect("since");
        let changes: Vec<_> = since.changes.iter().map(|c| (c.from.as_deref(), c.to.as_str())).collect();
        assert_eq!(
            changes,
            [
                (None, "in_progress"),
                (Some("in_progress"), "partially_implemented"),
                (Some("in_progress"), "implemented")
            ]
        );
        let delta = |key: &str| since.by_status_delta.iter().find(|d| d.key == key).map_or(0, |d| d.delta);
        assert_eq!((delta("implemented"), delta("in_progress"), delta("not_started")), (1, -1, -1));
        assert_eq!(delta("partially_implemented"), 1);
    }

    #[test]
    fn percents_add_up_to_one_hundred() {
        assert_eq!(percents(&[1, 1, 1]), [33.4, 33.3, 33.3]);
        assert_eq!(percents(&[0, 0]), [0.0, 0.0]);
        assert_eq!(percents(&[2, 0, 2]), [50.0, 0.0, 50.0]);
        assert_eq!(progress(0, 0), 0.0);
    }

    /// A random history: up to 8 recommendations (two vocabularies, issued on days 0–20, some
    /// with a due date, some entered days after their issue date), each with 1–4 of 5
    /// participants, and up to 12 entries per record on days 0–40 (corrections on the same day
    /// included).
    fn histories() -> impl Strategy<Value = History> {
        let entered = prop_oneof![2 => Just((0i64, 3600u32)), 1 => (0i64..10, 0u32..86_400)];
        let rec = (1i64..=2, 0i64..20, proptest::option::of(0i64..30), 0usize..3, 1usize..=4, entered);
        proptest::collection::vec(rec, 1..8)
            .prop_flat_map(|recs| {
                let records: usize = recs.iter().map(|r| r.4).sum();
                let entries = proptest::collection::vec(
                    proptest::collection::vec((0usize..6, 0i64..40, 0u32..86_400), 0..12),
                    records,
                );
                (Just(recs), entries)
            })
            .prop_map(|(recs, entries)| {
                let themes = ["transparency", "statistics", "assistance"];
                let mut h = History { statuses: statuses(), ..History::default() };
                let (mut addressee_id, mut entry_id) = (0, 0);
                let mut entries = entries.into_iter();
                for (i, (vocabulary, issued, due, theme, n, (lag, secs))) in recs.into_iter().enumerate() {
                    let id = i64::try_from(i).unwrap_or_default() + 1;
                    let due = due.map(|d| issued + d);
                    let mut r = recommendation(id, vocabulary, issued, due, &themes[..theme]);
                    // Entered in the system on its issue date, or later (a past report's).
                    r.created_at = instant(issued + lag, secs);
                    h.recommendations.push(r);
                    for org in 1..=n {
                        addressee_id += 1;
                        h.addressees.push(addressee(addressee_id, id, i64::try_from(org).unwrap_or_default()));
                        let list = if vocabulary == 1 { &SIMPLE[..] } else { &FATF[..] };
                        for (status, at_day, secs) in entries.next().unwrap_or_default() {
                            entry_id += 1;
                            let at = instant(at_day, secs);
                            h.entries.push(entry(entry_id, addressee_id, list[status % list.len()].0, at));
                        }
                    }
                }
                h
            })
    }

    /// Only what was there by the end of `cut`: recommendations created, entries recorded.
    fn known_at(h: &History, cut: &Cut) -> History {
        let mut out = h.clone();
        out.recommendations.retain(|r| r.created_at < cut.end);
        out.entries.retain(|e| e.recorded_at < cut.end);
        out
    }

    /// What the loader reads: the last entry of each record before each cut, and the entries in
    /// the window between them.
    fn as_loaded(h: &History, cuts: &[NaiveDateTime], window: Option<(NaiveDateTime, NaiveDateTime)>) -> History {
        let mut keep = BTreeSet::new();
        for a in &h.addressees {
            for end in cuts {
                let last = h
                    .entries
                    .iter()
                    .filter(|e| e.addressee_id == a.id && e.recorded_at < *end)
                    .max_by_key(|e| (e.recorded_at, e.id));
                keep.extend(last.map(|e| e.id));
            }
        }
        if let Some((from, to)) = window {
            keep.extend(h.entries.iter().filter(|e| e.recorded_at >= from && e.recorded_at < to).map(|e| e.id));
        }
        let mut out = h.clone();
        out.entries.retain(|e| keep.contains(&e.id));
        out
    }

    fn check_sums(s: &Stocktaking) -> Result<(), TestCaseError> {
        prop_assert_eq!(s.by_status.iter().map(|c| c.count).sum::<usize>(), s.records);
        prop_assert!((0.0..=100.0).contains(&s.progress));
        let mut per_vocabulary: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
        for c in &s.by_status {
            let e = per_vocabulary.entry(c.vocabulary.as_str()).or_default();
            e.0 += c.count;
            e.1 += c.percent;
        }
        for (count, percent) in per_vocabulary.values() {
            if *count > 0 {
                prop_assert!((percent - 100.0).abs() < 1e-6, "percentages add up to {}", percent);
            }
        }
        for p in &s.by_participant {
            prop_assert_eq!(p.by_status.iter().map(|c| c.count).sum::<usize>(), p.records);
            prop_assert!((0.0..=100.0).contains(&p.progress));
            prop_assert!(p.overdue <= p.records);
        }
        prop_assert_eq!(s.by_participant.iter().map(|p| p.records).sum::<usize>(), s.records);
        prop_assert_eq!(s.by_source.iter().map(|p| p.records).sum::<usize>(), s.records);
        prop_assert_eq!(s.overdue_list.len(), s.overdue);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn the_state_as_of_a_day_never_depends_on_what_came_later(h in histories(), d in 0i64..45) {
            let at = cut(d);
            let full = compute(&h, body(), &at, None);
            prop_assert_eq!(&full, &compute(&known_at(&h, &at), body(), &at, None));
            check_sums(&full)?;
        }

        #[test]
        fn the_state_at_any_moment_never_depends_on_what_came_later(
            h in histories(), d in 0i64..45, secs in 0u32..86_400, issued_only in any::<bool>()
        ) {
            // As of a moment within a day (the current state is "now"), and for the export of
            // everything entered by then whatever its issue date (`issued_only: false`).
            let at = Cut { date: day(d), end: instant(d, secs), issued_only };
            let full = compute(&h, body(), &at, None);
            prop_assert_eq!(&full, &compute(&known_at(&h, &at), body(), &at, None));
            check_sums(&full)?;
        }

        #[test]
        fn what_the_loader_reads_gives_the_same_answer(h in histories(), d in 1i64..45, back in 1i64..20, secs in 0u32..86_400) {
            let at = cut(d);
            let start = instant((d - back).max(0), secs);
            let meeting = PreviousMeeting { id: 1, title: "Previous".into(), starts_at: start.and_utc() };
            let then = Cut { date: start.date(), end: start, issued_only: true };
            let full = compute(&h, body(), &at, Some((meeting.clone(), then)));
            let loaded = as_loaded(&h, &[at.end, then.end], Some((then.end, at.end)));
            prop_assert_eq!(&full, &compute(&loaded, body(), &at, Some((meeting, then))));
            let since = full.since_previous_meeting.as_ref().expect("since");
            prop_assert_eq!(since.by_status_delta.iter().map(|d| d.delta).sum::<i64>(),
                i64::try_from(full.records).unwrap_or_default()
                    - i64::try_from(compute(&h, body(), &then, None).records).unwrap_or_default());
        }

        #[test]
        fn percentages_always_add_up(counts in proptest::collection::vec(0usize..1000, 1..12)) {
            let p = percents(&counts);
            let total: f64 = p.iter().sum();
            if counts.iter().sum::<usize>() > 0 {
                prop_assert!((total - 100.0).abs() < 1e-6);
            } else {
                prop_assert_eq!(total, 0.0);
            }
        }
    }
}
