//! Recommendations, their vocabularies, implementation records and review visits: the rows, the
//! API's views, the requests as they arrive and the validated inputs the services take.
//! (The stocktaking's views live beside it, in `stocktaking.rs`.)

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::model::{OrganisationRef, double_option};
use crate::bodies::model::PersonRef;
use crate::db::schema::{
    implementation_entries, implementation_evidence, recommendation_addressees, recommendations, review_visit_members,
    review_visits, uploads, vocabularies, vocabulary_statuses,
};
use crate::error::{Error, FieldError};
use crate::validate;

crate::text_enum!(
    /// How urgent a recommendation is.
    pub Priority {
        /// Low priority.
        Low => "low",
        /// The default.
        Normal => "normal",
        /// High priority.
        High => "high",
    }
);

crate::text_enum!(
    /// Where a recommendation comes from.
    pub SourceKind {
        /// A meeting (the Gaborone plenary of 2006).
        Meeting => "meeting",
        /// An adopted decision.
        Decision => "decision",
        /// The report of a peer-review visit.
        ReviewVisit => "review_visit",
        /// A body's report (a working group's annual report).
        Report => "report",
    }
);

crate::text_enum!(
    /// To whom a recommendation is addressed.
    pub AddressedTo {
        /// Every participant active on the issue date (materialised then).
        AllParticipants => "all_participants",
        /// Named participants.
        Participants => "participants",
        /// A body (a working group, a committee).
        Body => "body",
    }
);

crate::text_enum!(
    /// Who asked for a review visit.
    pub VisitOrigin {
        /// The participant requested it.
        Requested => "requested",
        /// The body invited itself (the participant was invited to receive it).
        Invited => "invited",
    }
);

crate::text_enum!(
    /// Where a review visit is: `planned → visited → report_adopted`, forward only.
    pub VisitState {
        /// Agreed, not yet made.
        Planned => "planned",
        /// The team has visited.
        Visited => "visited",
        /// The report was adopted; its recommendations are followed up.
        ReportAdopted => "report_adopted",
    }
);

impl VisitState {
    /// The order of the states (a visit only moves to a higher one).
    pub fn rank(self) -> u8 {
        match self {
            Self::Planned => 0,
            Self::Visited => 1,
            Self::ReportAdopted => 2,
        }
    }
}

crate::text_enum!(
    /// A team member's role on a review visit.
    pub TeamRole {
        /// Leads the team.
        Leader => "leader",
        /// A member of the team.
        Member => "member",
    }
);

// ---- rows ------------------------------------------------------------------------------

/// A row of `vocabularies`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = vocabularies)]
pub struct VocabularyRow {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub body_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// A row of `vocabulary_statuses`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = vocabulary_statuses)]
pub struct VocabularyStatusRow {
    pub vocabulary_id: i64,
    pub key: String,
    pub label: String,
    pub position: i32,
    pub weight: i32,
    pub is_final: bool,
}

/// A row of `uploads`, without the bytes.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = uploads)]
pub struct UploadRow {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: i64,
    pub organisation_id: i64,
    pub uploaded_at: NaiveDateTime,
}

/// A row of `review_visits`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = review_visits)]
pub struct ReviewVisitRow {
    pub id: i64,
    pub participant_id: i64,
    pub body_id: i64,
    #[diesel(deserialize_as = String)]
    pub origin: VisitOrigin,
    #[diesel(deserialize_as = String)]
    pub state: VisitState,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub report_title: String,
    pub report_upload_id: Option<i64>,
    pub report_adopted_on: Option<NaiveDate>,
    pub vocabulary_id: Option<i64>,
    pub notes: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ReviewVisitRow {
    /// What the audit log keeps of a visit.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "participant_id": self.participant_id, "body_id": self.body_id, "origin": self.origin,
            "state": self.state, "starts_on": self.starts_on, "ends_on": self.ends_on,
            "report_title": self.report_title, "report_upload_id": self.report_upload_id,
            "report_adopted_on": self.report_adopted_on, "vocabulary_id": self.vocabulary_id, "notes": self.notes,
        })
    }
}

/// A row of `review_visit_members`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = review_visit_members)]
pub struct VisitMemberRow {
    pub visit_id: i64,
    pub organisation_id: i64,
    #[diesel(deserialize_as = String)]
    pub role: TeamRole,
}

/// A row of `recommendations`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = recommendations)]
pub struct RecommendationRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub text: String,
    pub body_id: i64,
    pub issued_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    #[diesel(deserialize_as = String)]
    pub priority: Priority,
    pub vocabulary_id: i64,
    pub parent_id: Option<i64>,
    #[diesel(deserialize_as = String)]
    pub source_kind: SourceKind,
    pub source_meeting_id: Option<i64>,
    pub source_decision_id: Option<i64>,
    pub source_visit_id: Option<i64>,
    pub source_body_id: Option<i64>,
    pub source_title: String,
    #[diesel(deserialize_as = String)]
    pub addressed_to: AddressedTo,
    pub restricted: bool,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl RecommendationRow {
    /// What the audit log keeps of a recommendation (themes and addressees are added by the service).
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code, "title": self.title, "text": self.text, "body_id": self.body_id,
            "issued_on": self.issued_on, "due_on": self.due_on, "priority": self.priority,
            "vocabulary_id": self.vocabulary_id, "parent_id": self.parent_id, "source_kind": self.source_kind,
            "source_meeting_id": self.source_meeting_id, "source_decision_id": self.source_decision_id,
            "source_visit_id": self.source_visit_id, "source_body_id": self.source_body_id,
            "source_title": self.source_title, "addressed_to": self.addressed_to, "restricted": self.restricted,
        })
    }
}

/// A row of `recommendation_addressees`: an organisation or a body.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = recommendation_addressees)]
pub struct AddresseeRow {
    pub id: i64,
    pub recommendation_id: i64,
    pub organisation_id: Option<i64>,
    pub body_id: Option<i64>,
}

/// A row of `implementation_entries`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = implementation_entries)]
pub struct EntryRow {
    pub id: i64,
    pub addressee_id: i64,
    pub recommendation_id: i64,
    pub status: String,
    pub note: String,
    pub corrects_id: Option<i64>,
    pub recorded_by: i64,
    pub recorded_for: i64,
    pub recorded_at: NaiveDateTime,
}

/// A row of `implementation_evidence`: a link (`url`) or an upload.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = implementation_evidence)]
pub struct EvidenceRow {
    pub id: i64,
    pub entry_id: i64,
    pub label: String,
    pub url: Option<String>,
    pub upload_id: Option<i64>,
}

// ---- views -----------------------------------------------------------------------------

/// A body, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct BodyRef {
    pub id: i64,
    pub name: String,
    /// KP, WGM, WGS …
    pub short_name: String,
}

/// One status of a vocabulary.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct VocabularyStatus {
    /// `in_progress`: what entries store.
    pub key: String,
    pub label: String,
    /// The order statuses are shown in; the first is the status of a record without entries.
    pub position: i32,
    /// How much of the way to implementation this status is (0–100).
    pub weight: i32,
    /// A record in a final status is closed: it is never overdue.
    #[serde(rename = "final")]
    #[schema(rename = "final")]
    pub is_final: bool,
}

impl From<VocabularyStatusRow> for VocabularyStatus {
    fn from(r: VocabularyStatusRow) -> Self {
        Self { key: r.key, label: r.label, position: r.position, weight: r.weight, is_final: r.is_final }
    }
}

/// A list of statuses recommendations are tracked with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Vocabulary {
    pub id: i64,
    /// `simple`, `upr`, `fatf` or one defined later.
    pub key: String,
    pub name: String,
    pub description: String,
    /// The body whose recommendations default to it (the newest wins), if any.
    pub body_id: Option<i64>,
    /// In position order.
    pub statuses: Vec<VocabularyStatus>,
}

impl Vocabulary {
    /// The status with this key.
    pub fn status(&self, key: &str) -> Option<&VocabularyStatus> {
        self.statuses.iter().find(|s| s.key == key)
    }

    /// The status of a record without entries: the first by position.
    pub fn initial(&self) -> Option<&VocabularyStatus> {
        self.statuses.iter().min_by_key(|s| s.position)
    }

    /// The status with this key as the API shows it inside a record (an unknown key — a
    /// vocabulary changed under stored entries — is shown as it is stored, with weight 0).
    pub fn status_ref(&self, key: &str) -> StatusRef {
        self.status(key).map_or_else(
            || StatusRef { key: key.to_string(), label: key.to_string(), weight: 0, is_final: false },
            StatusRef::from,
        )
    }

    /// The vocabulary by key and name.
    pub fn reference(&self) -> VocabularyRef {
        VocabularyRef { id: self.id, key: self.key.clone(), name: self.name.clone() }
    }
}

/// A vocabulary, by key and name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct VocabularyRef {
    pub id: i64,
    pub key: String,
    pub name: String,
}

/// A status as a record shows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct StatusRef {
    pub key: String,
    pub label: String,
    pub weight: i32,
    #[serde(rename = "final")]
    #[schema(rename = "final")]
    pub is_final: bool,
}

impl From<&VocabularyStatus> for StatusRef {
    fn from(s: &VocabularyStatus) -> Self {
        Self { key: s.key.clone(), label: s.label.clone(), weight: s.weight, is_final: s.is_final }
    }
}

/// Where a recommendation comes from, linked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Source {
    pub kind: SourceKind,
    pub meeting_id: Option<i64>,
    pub decision_id: Option<i64>,
    pub visit_id: Option<i64>,
    /// For a report: the body whose report it is.
    pub body_id: Option<i64>,
    /// For display: the meeting's title, the decision's number and title, "Review visit to
    /// Ghana, 2008", or the report's title.
    pub title: String,
}

/// One addressee of a recommendation, with the current state of its implementation record.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Addressee {
    /// The addressee's (record's) id.
    pub id: i64,
    /// A participant …
    pub organisation: Option<OrganisationRef>,
    /// … or a body.
    pub body: Option<BodyRef>,
    /// The status of the last entry (none: the vocabulary's first status).
    pub status: StatusRef,
    /// When the last entry was recorded.
    pub updated_at: Option<DateTime<Utc>>,
    /// The due date passed (in the issuing body's time zone) and the status is not final.
    pub overdue: bool,
    /// Whether the caller may add an entry to this record.
    pub can_record: bool,
}

/// A recommendation and where its implementation stands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Recommendation {
    pub id: i64,
    /// `GAB-2006/03`: unique.
    pub code: String,
    pub title: String,
    /// Markdown.
    pub text: String,
    /// The issuing body (it follows the recommendation up).
    pub body: BodyRef,
    pub issued_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub priority: Priority,
    pub vocabulary: VocabularyRef,
    pub parent_id: Option<i64>,
    /// The recommendations grouped under this one (those the caller may see).
    pub children: Vec<i64>,
    pub source: Source,
    pub addressed_to: AddressedTo,
    pub addressees: Vec<Addressee>,
    pub themes: Vec<String>,
    /// Not for observers.
    pub restricted: bool,
    /// Whether the caller may change it (`PATCH`).
    pub can_manage: bool,
    /// 0–100: the mean weight of its addressees' current statuses; for a parent, the mean of
    /// its children's progress.
    pub progress: i32,
    /// How many of its addressees' records are overdue.
    pub overdue_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A recommendation, by code and title.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct RecommendationRef {
    pub id: i64,
    pub code: String,
    pub title: String,
}

/// An uploaded file, without its bytes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct UploadRef {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

impl From<UploadRow> for UploadRef {
    fn from(r: UploadRow) -> Self {
        Self { id: r.id, filename: r.filename, content_type: r.content_type, size: r.size, sha256: r.sha256 }
    }
}

/// Evidence of an entry: a link or an uploaded file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Evidence {
    pub id: i64,
    pub label: String,
    pub url: Option<String>,
    pub upload: Option<UploadRef>,
}

/// One dated, attributed entry of an implementation record (never changed: a correction is a
/// new entry naming the one it corrects).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct ImplementationEntry {
    pub id: i64,
    pub status: StatusRef,
    /// Markdown.
    pub note: String,
    pub evidence: Vec<Evidence>,
    /// The earlier entry of the same record this one corrects.
    pub corrects_id: Option<i64>,
    pub recorded_by: PersonRef,
    /// The organisation of the delegate who recorded it.
    pub recorded_for: OrganisationRef,
    pub recorded_at: DateTime<Utc>,
}

/// One addressee's implementation record: its current state and its history.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct ImplementationRecord {
    pub addressee: Addressee,
    /// Oldest first.
    pub entries: Vec<ImplementationEntry>,
}

/// A member of a review visit's team.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct TeamMember {
    pub organisation: OrganisationRef,
    pub role: TeamRole,
}

/// A peer-review visit to a participant.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct ReviewVisit {
    pub id: i64,
    /// The visited participant.
    pub participant: OrganisationRef,
    /// The body that follows the visit up (the monitoring working group).
    pub body: BodyRef,
    pub origin: VisitOrigin,
    pub state: VisitState,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub team: Vec<TeamMember>,
    pub report_title: String,
    pub report: Option<UploadRef>,
    pub report_adopted_on: Option<NaiveDate>,
    /// The vocabulary the recommendations of its report are tracked with.
    pub vocabulary: Option<VocabularyRef>,
    pub notes: String,
    /// The recommendations issued from its report (those the caller may see).
    pub recommendations: Vec<RecommendationRef>,
    /// Whether the caller may change it (`PATCH`).
    pub can_manage: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// ---- requests --------------------------------------------------------------------------

/// A status of a new vocabulary.
#[derive(Deserialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVocabularyStatus {
    /// `[a-z0-9_]{1,40}`, unique in the vocabulary.
    pub key: String,
    pub label: String,
    /// Defaults to the status's place in the list.
    pub position: Option<i32>,
    /// 0–100.
    pub weight: i32,
    #[serde(rename = "final")]
    #[schema(rename = "final")]
    pub is_final: bool,
}

/// A new vocabulary, as submitted (administrators).
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVocabulary {
    /// `[a-z0-9_]{1,40}`, unique.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A body whose recommendations default to it.
    pub body_id: Option<i64>,
    /// At least two, at least one final.
    pub statuses: Vec<NewVocabularyStatus>,
}

/// A vocabulary's checked fields.
#[derive(Clone, Debug)]
pub struct ValidVocabulary {
    pub key: String,
    pub name: String,
    pub description: String,
    pub body_id: Option<i64>,
    pub statuses: Vec<VocabularyStatus>,
}

/// Whether `raw` is a key: `[a-z0-9_]{1,40}`.
pub fn is_key(raw: &str) -> bool {
    (1..=40).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl TryFrom<NewVocabulary> for ValidVocabulary {
    type Error = Error;

    fn try_from(input: NewVocabulary) -> Result<Self, Error> {
        let mut errors = Vec::new();
        if !is_key(&input.key) {
            errors.push(FieldError::new("key", "must be 1–40 of a-z, 0-9 and _"));
        }
        let name = validate::text("name", &input.name, 200, true).map_err(|e| errors.push(e)).ok();
        let description = validate::long_text("description", &input.description, 2000).map_err(|e| errors.push(e)).ok();
        if input.statuses.len() < 2 {
            errors.push(FieldError::new("statuses", "needs at least two statuses"));
        }
        if input.statuses.len() > 40 {
            errors.push(FieldError::new("statuses", "may have at most 40 statuses"));
        }
        if !input.statuses.iter().any(|s| s.is_final) {
            errors.push(FieldError::new("statuses", "needs at least one final status"));
        }
        let mut statuses = Vec::new();
        for (i, s) in input.statuses.iter().enumerate() {
            if !is_key(&s.key) {
                errors.push(FieldError::new(format!("statuses[{i}].key"), "must be 1–40 of a-z, 0-9 and _"));
            } else if input.statuses[..i].iter().any(|o| o.key == s.key) {
                errors.push(FieldError::new(format!("statuses[{i}].key"), "is used by another status"));
            }
            let label =
                validate::text(&format!("statuses[{i}].label"), &s.label, 100, true).map_err(|e| errors.push(e)).ok();
            if !(0..=100).contains(&s.weight) {
                errors.push(FieldError::new(format!("statuses[{i}].weight"), "must be between 0 and 100"));
            }
            let position = s.position.unwrap_or(i32::try_from(i).unwrap_or(i32::MAX));
            if position < 0 {
                errors.push(FieldError::new(format!("statuses[{i}].position"), "must not be negative"));
            }
            statuses.push(VocabularyStatus {
                key: s.key.clone(),
                label: label.unwrap_or_default(),
                position,
                weight: s.weight,
                is_final: s.is_final,
            });
        }
        Error::check(errors)?;
        let missing = || Error::invalid("body", "invalid vocabulary");
        statuses.sort_by_key(|s| s.position);
        Ok(Self {
            key: input.key,
            name: name.ok_or_else(missing)?,
            description: description.ok_or_else(missing)?,
            body_id: input.body_id,
            statuses,
        })
    }
}

/// Where a new recommendation comes from: the kind and the one link it needs.
#[derive(Deserialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    pub kind: SourceKind,
    /// For `meeting`.
    pub meeting_id: Option<i64>,
    /// For `decision` (an adopted decision).
    pub decision_id: Option<i64>,
    /// For `review_visit`.
    pub visit_id: Option<i64>,
    /// For `report`: the body whose report it is.
    pub body_id: Option<i64>,
    /// For `report`, the report's title (required); otherwise the display title is derived.
    pub title: Option<String>,
}

/// A new recommendation, as submitted.
#[derive(Deserialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecommendation {
    /// `GAB-2006/03`: 1–40 characters, unique.
    pub code: String,
    pub title: String,
    /// Markdown, at most 20000 characters.
    #[serde(default)]
    pub text: String,
    /// The issuing body (for a review visit's recommendations: the visit's body, if omitted).
    pub body_id: Option<i64>,
    pub issued_on: NaiveDate,
    /// Not before `issued_on`.
    pub due_on: Option<NaiveDate>,
    pub priority: Option<Priority>,
    /// Defaults to the body's vocabulary (or the visit's), else `simple`.
    pub vocabulary_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub source: SourceInput,
    /// Defaults to `participants` (the visited participant) for a review visit's recommendation.
    pub addressed_to: Option<AddressedTo>,
    /// For `participants`: each an active participant.
    #[serde(default)]
    pub organisation_ids: Vec<i64>,
    /// For `body`.
    pub addressee_body_id: Option<i64>,
    /// At most 20, each 1–60 characters (lower-cased, trimmed).
    #[serde(default)]
    pub themes: Vec<String>,
    #[serde(default)]
    pub restricted: bool,
}

/// Changes to a recommendation. The addressees never change (409: issue a new recommendation);
/// the vocabulary only while no entry exists (409 after).
#[derive(Deserialize, Debug, Default, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationUpdate {
    pub title: Option<String>,
    pub text: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    pub priority: Option<Priority>,
    pub themes: Option<Vec<String>>,
    pub restricted: Option<bool>,
    /// `null`: no parent.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    /// Refused (409) once any entry exists.
    pub vocabulary_id: Option<i64>,
    /// Always refused (409): the addressees are fixed at issue.
    pub addressed_to: Option<AddressedTo>,
    /// Always refused (409).
    pub organisation_ids: Option<Vec<i64>>,
    /// Always refused (409).
    pub addressee_body_id: Option<i64>,
}

/// The checked text fields of a recommendation.
#[derive(Clone, Debug)]
pub struct ValidText {
    pub title: String,
    pub text: String,
}

/// Checks a code: 1–40 characters, no control characters, no spaces at the ends.
pub fn check_code(raw: &str) -> Result<String, FieldError> {
    validate::text("code", raw, 40, true)
}

/// Checks a title and a text.
pub fn check_text(title: &str, text: &str) -> Result<ValidText, Error> {
    let mut errors = Vec::new();
    let title = validate::text("title", title, 300, true).map_err(|e| errors.push(e)).ok();
    let text = validate::long_text("text", text, 20_000).map_err(|e| errors.push(e)).ok();
    Error::check(errors)?;
    let missing = || Error::invalid("body", "invalid recommendation");
    Ok(ValidText { title: title.ok_or_else(missing)?, text: text.ok_or_else(missing)? })
}

/// Checks themes: at most 20, each 1–60 characters, lower-cased and trimmed, duplicates dropped.
pub fn check_themes(raw: &[String]) -> Result<Vec<String>, Error> {
    if raw.len() > 20 {
        return Err(Error::invalid("themes", "at most 20 themes"));
    }
    let mut errors = Vec::new();
    let mut themes: Vec<String> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        match validate::text(&format!("themes[{i}]"), &t.to_lowercase(), 60, true) {
            Ok(t) if !themes.contains(&t) => themes.push(t),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    Error::check(errors)?;
    Ok(themes)
}

/// `GET /api/recommendations` filters, as they arrive (text, so that a malformed one is a 422
/// naming it).
#[derive(Deserialize, Debug, Default, Clone, IntoParams)]
pub struct RecommendationQuery {
    /// The issuing body.
    #[param(value_type = Option<i64>)]
    pub body_id: Option<String>,
    /// `meeting`, `decision`, `review_visit` or `report`.
    #[param(value_type = Option<SourceKind>)]
    pub source_kind: Option<String>,
    pub theme: Option<String>,
    /// An addressee.
    #[param(value_type = Option<i64>)]
    pub organisation_id: Option<String>,
    /// A status key of the recommendation's vocabulary: recommendations with an addressee (the
    /// named one, with `organisation_id`) in that status.
    pub status: Option<String>,
    /// `true`: only those with an overdue record (the named addressee's, with `organisation_id`).
    #[param(value_type = Option<bool>)]
    pub overdue: Option<String>,
    /// Words to find in the code, title or text.
    pub q: Option<String>,
}

/// The checked filters of the recommendation list (and its CSV export).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RecommendationFilter {
    pub body_id: Option<i64>,
    pub source_kind: Option<SourceKind>,
    pub theme: Option<String>,
    pub organisation_id: Option<i64>,
    pub status: Option<String>,
    pub overdue: Option<bool>,
    /// Lower-cased words, all of which must appear.
    pub words: Vec<String>,
}

fn id_param(field: &str, raw: Option<&str>) -> Result<Option<i64>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| FieldError::new(field, "must be a numeric id")),
    }
}

impl RecommendationQuery {
    /// Parses the filters: 422 naming every malformed one. (Whether a status key exists is
    /// checked against the vocabularies by the service.)
    pub fn filter(&self) -> Result<RecommendationFilter, Error> {
        let mut errors = Vec::new();
        let body_id = id_param("body_id", self.body_id.as_deref()).map_err(|e| errors.push(e)).ok().flatten();
        let organisation_id =
            id_param("organisation_id", self.organisation_id.as_deref()).map_err(|e| errors.push(e)).ok().flatten();
        let source_kind = match self.source_kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => s
                .parse::<SourceKind>()
                .map_err(|_| {
                    errors.push(FieldError::new("source_kind", "must be meeting, decision, review_visit or report"))
                })
                .ok(),
        };
        let overdue = match self.overdue.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                errors.push(FieldError::new("overdue", "must be true or false"));
                None
            }
        };
        let status = self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if status.as_deref().is_some_and(|s| !is_key(s)) {
            errors.push(FieldError::new("status", "is not a status key"));
        }
        let theme = self.theme.as_deref().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty());
        let words = self.q.as_deref().unwrap_or("").split_whitespace().take(10).map(str::to_lowercase).collect();
        Error::check(errors)?;
        Ok(RecommendationFilter { body_id, source_kind, theme, organisation_id, status, overdue, words })
    }
}

/// A link given as evidence.
#[derive(Deserialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// http or https, at most 2000 characters.
    pub url: String,
    #[serde(default)]
    pub label: String,
}

/// A new entry of an implementation record.
#[derive(Deserialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// A status key of the recommendation's vocabulary.
    pub status: String,
    /// Markdown, at most 10000 characters.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub links: Vec<LinkInput>,
    /// Files uploaded with `POST /api/evidence` by the caller, not yet attached.
    #[serde(default)]
    pub upload_ids: Vec<i64>,
    /// An earlier entry of the same record that this one corrects.
    pub corrects_id: Option<i64>,
}

/// A link that passed the checks.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidLink {
    pub url: String,
    pub label: String,
}

/// An entry's checked fields (the status against the vocabulary, the uploads and the corrected
/// entry are checked by the service).
#[derive(Clone, Debug)]
pub struct ValidEntry {
    pub status: String,
    pub note: String,
    pub links: Vec<ValidLink>,
    pub upload_ids: Vec<i64>,
    pub corrects_id: Option<i64>,
}

impl TryFrom<NewEntry> for ValidEntry {
    type Error = Error;

    fn try_from(input: NewEntry) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let note = validate::long_text("note", &input.note, 10_000).map_err(|e| errors.push(e)).ok();
        if input.links.len() > 20 {
            errors.push(FieldError::new("links", "at most 20 links"));
        }
        if input.upload_ids.len() > 20 {
            errors.push(FieldError::new("upload_ids", "at most 20 files"));
        }
        let mut links = Vec::new();
        for (i, l) in input.links.iter().enumerate() {
            let url = l.url.trim();
            let parsed = url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
            if url.chars().count() > 2000 || parsed.is_none() {
                errors.push(FieldError::new(
                    format!("links[{i}].url"),
                    "must be an http(s) link of at most 2000 characters",
                ));
            }
            let label =
                validate::text(&format!("links[{i}].label"), &l.label, 300, false).map_err(|e| errors.push(e)).ok();
            if let (Some(u), Some(label)) = (parsed, label) {
                links.push(ValidLink { url: u.to_string(), label });
            }
        }
        for (i, id) in input.upload_ids.iter().enumerate() {
            if input.upload_ids[..i].contains(id) {
                errors.push(FieldError::new(format!("upload_ids[{i}]"), "is listed twice"));
            }
        }
        Error::check(errors)?;
        Ok(Self {
            status: input.status.trim().to_string(),
            note: note.ok_or_else(|| Error::invalid("note", "is invalid"))?,
            links,
            upload_ids: input.upload_ids,
            corrects_id: input.corrects_id,
        })
    }
}

/// `?filename=` of an evidence upload.
#[derive(Deserialize, Debug, IntoParams)]
pub struct EvidenceQuery {
    pub filename: String,
}

/// A member of a review visit's team, as submitted.
#[derive(Deserialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamMemberInput {
    /// A participant or an observer (not the visited participant).
    pub organisation_id: i64,
    #[serde(default = "member")]
    pub role: TeamRole,
}

fn member() -> TeamRole {
    TeamRole::Member
}

/// A new review visit, as submitted.
#[derive(Deserialize, Debug, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReviewVisit {
    /// The visited participant.
    pub participant_id: i64,
    /// The body that follows it up (the monitoring working group).
    pub body_id: i64,
    pub origin: VisitOrigin,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub team: Vec<TeamMemberInput>,
    #[serde(default)]
    pub report_title: String,
    /// The vocabulary for the recommendations of its report.
    pub vocabulary_id: Option<i64>,
    #[serde(default)]
    pub notes: String,
}

/// Changes to a review visit (the state moves forward only).
#[derive(Deserialize, Debug, Default, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewVisitUpdate {
    pub state: Option<VisitState>,
    pub origin: Option<VisitOrigin>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    /// Replaces the team.
    pub team: Option<Vec<TeamMemberInput>>,
    pub report_title: Option<String>,
    /// An upload (`POST /api/evidence`) holding the report; needed for `report_adopted`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub report_upload_id: Option<Option<i64>>,
    /// Defaults to today (in the body's time zone) when the state becomes `report_adopted`.
    pub report_adopted_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub vocabulary_id: Option<Option<i64>>,
    pub notes: Option<String>,
}

/// `?participant_id=&body_id=&state=` of the visit list.
#[derive(Deserialize, Debug, Default, Clone, IntoParams)]
pub struct ReviewVisitQuery {
    pub participant_id: Option<i64>,
    pub body_id: Option<i64>,
    pub state: Option<VisitState>,
}

/// Checks a visit's dates.
pub fn check_visit_dates(starts_on: Option<NaiveDate>, ends_on: Option<NaiveDate>) -> Result<(), Error> {
    if let (Some(s), Some(e)) = (starts_on, ends_on)
        && e < s
    {
        return Err(Error::invalid("ends_on", "must not be before starts_on"));
    }
    Ok(())
}

/// Checks a visit's free text.
pub fn check_visit_text(report_title: &str, notes: &str) -> Result<(String, String), Error> {
    let mut errors = Vec::new();
    let title = validate::text("report_title", report_title, 300, false).map_err(|e| errors.push(e)).ok();
    let notes = validate::long_text("notes", notes, 10_000).map_err(|e| errors.push(e)).ok();
    Error::check(errors)?;
    let missing = || Error::invalid("body", "invalid review visit");
    Ok((title.ok_or_else(missing)?, notes.ok_or_else(missing)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_themes() {
        assert!(is_key("in_progress") && is_key("a1") && !is_key("") && !is_key("In") && !is_key(&"a".repeat(41)));
        let themes = check_themes(&[" Transparency ".into(), "transparency".into(), "statistics".into()]);
        assert_eq!(themes.ok(), Some(vec!["transparency".to_string(), "statistics".to_string()]));
        assert!(check_themes(&[String::new()]).is_err());
        assert!(check_themes(&vec!["x".to_string(); 21]).is_err());
    }

    #[test]
    fn filters_name_the_malformed_field() {
        let q = RecommendationQuery { body_id: Some("x".into()), overdue: Some("yes".into()), ..Default::default() };
        let Err(Error::Validation { errors, .. }) = q.filter() else { panic!("should fail") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["body_id", "overdue"]);
        let q = RecommendationQuery { q: Some("Publish  STATISTICS".into()), ..Default::default() };
        assert_eq!(q.filter().ok().map(|f| f.words), Some(vec!["publish".to_string(), "statistics".to_string()]));
    }
}
