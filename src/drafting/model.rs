//! Drafts as rows and as the API shows them, and the validated inputs that create and change
//! them. A service never receives a title or reference that has not been through these types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::drafts;
use crate::error::{Error, FieldError};
use crate::realtime::room::Connected;
use crate::validate;

crate::text_enum!(
    /// Where a draft is in its life. (Adoption, written procedure and withdrawal come with decisions.)
    pub DraftState {
        /// Participants' delegates edit the text live.
        Drafting => "drafting",
        /// Read-only for everyone.
        Locked => "locked",
    }
);

crate::text_enum!(
    /// Where a draft is on its way to a decision.
    pub DraftStage {
        /// Delegates edit the text live.
        Drafting => "drafting",
        /// The chair reads the clean text out; nobody edits it.
        FinalReading => "final_reading",
        /// The chair asked for objections: one participant's objection sends it back to drafting.
        CallForObjections => "call_for_objections",
        /// Circulated in writing with a deadline: adopted when it passes in silence.
        WrittenProcedure => "written_procedure",
        /// A participant objected in writing before the deadline.
        SilenceBroken => "silence_broken",
        /// Adopted: a numbered decision, frozen for good.
        Adopted => "adopted",
        /// Withdrawn by the chair.
        Withdrawn => "withdrawn",
    }
);

/// A row of `drafts`.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = drafts)]
pub struct DraftRow {
    pub id: i64,
    pub title: String,
    pub reference: String,
    #[diesel(deserialize_as = String)]
    pub state: DraftState,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub body_id: Option<i64>,
    #[diesel(deserialize_as = String)]
    pub stage: DraftStage,
    pub round: i32,
    pub objections_until: Option<NaiveDateTime>,
    pub deadline: Option<NaiveDateTime>,
    pub reminded_at: Option<NaiveDateTime>,
}

impl DraftRow {
    /// Whether the text may change at all (its stage and the chair's lock allow it).
    pub fn writable(&self) -> bool {
        self.state == DraftState::Drafting && self.stage == DraftStage::Drafting
    }

    /// What the audit log keeps of a draft.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({"title": self.title, "reference": self.reference, "state": self.state, "stage": self.stage,
            "round": self.round, "objections_until": self.objections_until, "deadline": self.deadline})
    }
}

/// A draft in a list.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct DraftSummary {
    pub id: i64,
    pub title: String,
    /// The owning body or meeting, as free text for now (e.g. "Brussels Plenary 2007").
    pub reference: String,
    pub state: DraftState,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The body whose chair runs the draft (renames, locks and unlocks it).
    pub body_id: Option<i64>,
    /// Where the draft is on its way to a decision.
    pub stage: DraftStage,
    /// The end of the current call for objections, if it has one.
    pub objections_until: Option<DateTime<Utc>>,
    /// The deadline of the current written procedure.
    pub deadline: Option<DateTime<Utc>>,
}

impl From<DraftRow> for DraftSummary {
    fn from(r: DraftRow) -> Self {
        Self {
            id: r.id,
            title: r.title,
            reference: r.reference,
            state: r.state,
            created_by: r.created_by,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            body_id: r.body_id,
            stage: r.stage,
            objections_until: r.objections_until.map(|t| t.and_utc()),
            deadline: r.deadline.map(|t| t.and_utc()),
        }
    }
}

/// A draft with its current text and who is in the room.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct Draft {
    #[serde(flatten)]
    pub summary: DraftSummary,
    /// The current plain text of the shared `Y.Text` named `content`.
    pub text: String,
    /// People connected to the drafting room (on this server instance).
    pub connected: Vec<Connected>,
    /// Whether the caller may change the text right now.
    pub can_edit: bool,
    /// The text's open brackets (with paragraph numbers) and bracket problems.
    pub brackets: crate::drafting::brackets::Brackets,
}

/// A new draft, as requested.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDraft {
    pub title: String,
    /// The owning body or meeting.
    #[serde(default)]
    pub reference: String,
    /// The body whose chair runs the draft; default: the plenary.
    #[serde(default)]
    pub body_id: Option<i64>,
}

/// Changes to a draft, as requested.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftUpdate {
    pub title: Option<String>,
    pub reference: Option<String>,
    /// `locked` makes the text read-only for everyone, at once, in the live room too.
    pub state: Option<DraftState>,
}

/// A validated title (1–300 characters of free text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Checks `raw` as a title.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        validate::text("title", raw, 300, true).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated reference (up to 300 characters, may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference(String);

impl Reference {
    /// Checks `raw` as a reference.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        validate::text("reference", raw, 300, false).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new draft whose every field was checked.
#[derive(Clone, Debug)]
pub struct ValidNewDraft {
    pub title: Title,
    pub reference: Reference,
    /// Checked by the service (it must exist).
    pub body_id: Option<i64>,
}

impl TryFrom<NewDraft> for ValidNewDraft {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: NewDraft) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let title = Title::parse(&body.title).map_err(|e| errors.push(e)).ok();
        let reference = Reference::parse(&body.reference).map_err(|e| errors.push(e)).ok();
        Error::check(errors)?;
        match (title, reference) {
            (Some(title), Some(reference)) => Ok(Self { title, reference, body_id: body.body_id }),
            _ => Err(Error::invalid("body", "invalid draft")),
        }
    }
}

/// Changes to a draft whose every field was checked.
#[derive(Clone, Debug)]
pub struct ValidDraftUpdate {
    pub title: Option<Title>,
    pub reference: Option<Reference>,
    pub state: Option<DraftState>,
}

impl TryFrom<DraftUpdate> for ValidDraftUpdate {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: DraftUpdate) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let title = body.title.as_deref().map(Title::parse).transpose().map_err(|e| errors.push(e)).ok().flatten();
        let reference =
            body.reference.as_deref().map(Reference::parse).transpose().map_err(|e| errors.push(e)).ok().flatten();
        Error::check(errors)?;
        Ok(Self { title, reference, state: body.state })
    }
}
