//! Drafts as rows and as the API shows them, and the validated inputs that create and change
//! them. A service never receives a title that has not been through these types; the meeting and
//! agenda item a draft belongs to are checked by the service against the database.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::model::double_option;
use crate::db::schema::drafts;
use crate::error::{Error, FieldError};
use crate::meetings::model::{AgendaItemRef, MeetingRef};
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
        /// The chair reads the clean text out; the chair alone mends it.
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
    /// The meeting (of the draft's body) the draft belongs to, if any.
    pub meeting_id: Option<i64>,
    /// The item of that meeting's agenda the draft belongs to, if any (it lists the draft).
    pub agenda_item_id: Option<i64>,
}

/// Who may change a draft's text at this point of its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextGate {
    /// Drafting: every participant's delegate.
    Open,
    /// Final reading: the chair of the draft's body alone (to mend what the reading finds).
    ChairOnly,
    /// Locked by the chair, on its way to a decision, adopted or withdrawn: nobody.
    Closed,
}

impl DraftRow {
    /// Who may change the text now (its stage and the chair's lock decide).
    pub fn gate(&self) -> TextGate {
        match (self.state, self.stage) {
            (DraftState::Locked, _) => TextGate::Closed,
            (_, DraftStage::Drafting) => TextGate::Open,
            (_, DraftStage::FinalReading) => TextGate::ChairOnly,
            _ => TextGate::Closed,
        }
    }

    /// What the drafting room is told when the draft's stage or lock changes, or an objection or
    /// abstention is recorded (`recorded`: how many there are); the room's websocket carries it
    /// to clients that asked for stage events.
    pub fn stage_notice(&self, recorded: i64) -> serde_json::Value {
        serde_json::json!({"type": "stage", "draft_id": self.id, "stage": self.stage, "state": self.state,
            "round": self.round, "objections_until": self.objections_until.map(|t| t.and_utc()),
            "deadline": self.deadline.map(|t| t.and_utc()), "recorded": recorded, "updated_at": self.updated_at.and_utc()})
    }

    /// What the audit log keeps of a draft.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({"title": self.title, "meeting_id": self.meeting_id, "agenda_item_id": self.agenda_item_id,
            "state": self.state, "stage": self.stage, "round": self.round,
            "objections_until": self.objections_until, "deadline": self.deadline})
    }
}

/// A draft in a list.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
pub struct DraftSummary {
    pub id: i64,
    pub title: String,
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
    /// The meeting of the body the draft belongs to (`null`: none, or one the caller may not see).
    pub meeting: Option<MeetingRef>,
    /// The item of that meeting's agenda the draft belongs to (`null`: none, or one the caller
    /// may not see, such as a closed-session item for an observer).
    pub agenda_item: Option<AgendaItemRef>,
}

impl DraftSummary {
    /// The row as the API shows it, with its meeting and agenda item as the caller may see them
    /// (`drafting::service::summaries` looks them up).
    pub fn new(r: DraftRow, meeting: Option<MeetingRef>, agenda_item: Option<AgendaItemRef>) -> Self {
        Self {
            id: r.id,
            title: r.title,
            state: r.state,
            created_by: r.created_by,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            body_id: r.body_id,
            stage: r.stage,
            objections_until: r.objections_until.map(|t| t.and_utc()),
            deadline: r.deadline.map(|t| t.and_utc()),
            meeting,
            agenda_item,
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
    /// What the caller may do with the draft right now.
    #[serde(flatten)]
    pub rights: DraftRights,
    /// The text's open brackets (with paragraph numbers) and bracket problems.
    pub brackets: crate::drafting::brackets::Brackets,
}

/// What the caller may do with a draft at the moment of the request (the server's answer, so
/// a client never guesses who chairs or who decides).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, ToSchema)]
pub struct DraftRights {
    /// May change the text now (its stage, its lock and the caller's standing decide).
    pub can_edit: bool,
    /// Chairs the draft's body now: takes it towards a decision (final reading, calls for
    /// objections, adoption, the written procedure, withdrawal).
    pub can_conduct: bool,
    /// May object or abstain when a call for objections or a written procedure is open.
    pub can_object: bool,
}

/// A new draft, as requested.
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDraft {
    pub title: String,
    /// The body whose chair runs the draft; default: the plenary.
    #[serde(default)]
    pub body_id: Option<i64>,
    /// A meeting of that body the draft belongs to (one the caller may see).
    #[serde(default)]
    pub meeting_id: Option<i64>,
    /// An item of that meeting's agenda the draft belongs to; given alone, the meeting is the
    /// item's. The item then lists the draft, which only the meeting's chair (or the secretariat)
    /// may make it do: 403 otherwise.
    #[serde(default)]
    pub agenda_item_id: Option<i64>,
}

/// Changes to a draft, as requested (a field left out stays as it is).
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftUpdate {
    pub title: Option<String>,
    /// `locked` makes the text read-only for everyone, at once, in the live room too.
    pub state: Option<DraftState>,
    /// Another meeting of the draft's body, or `null` for none. Changing or clearing the meeting
    /// also clears the agenda item, unless `agenda_item_id` names one of the new meeting's items.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub meeting_id: Option<Option<i64>>,
    /// Another agenda item (given alone, the draft moves to the item's meeting), or `null` for
    /// none (the meeting stays). The new item then lists the draft.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub agenda_item_id: Option<Option<i64>>,
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

/// A new draft whose every field was checked.
#[derive(Clone, Debug)]
pub struct ValidNewDraft {
    pub title: Title,
    /// Checked by the service (it must exist).
    pub body_id: Option<i64>,
    /// Checked by the service (a meeting of the body, that the actor may see).
    pub meeting_id: Option<i64>,
    /// Checked by the service (an item of that meeting, that the actor may see).
    pub agenda_item_id: Option<i64>,
}

impl TryFrom<NewDraft> for ValidNewDraft {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: NewDraft) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let title = Title::parse(&body.title).map_err(|e| errors.push(e)).ok();
        Error::check(errors)?;
        let title = title.ok_or_else(|| Error::invalid("body", "invalid draft"))?;
        Ok(Self { title, body_id: body.body_id, meeting_id: body.meeting_id, agenda_item_id: body.agenda_item_id })
    }
}

/// Changes to a draft whose every field was checked.
#[derive(Clone, Debug)]
pub struct ValidDraftUpdate {
    pub title: Option<Title>,
    pub state: Option<DraftState>,
    /// `None`: unchanged; `Some(None)`: no meeting. Checked by the service.
    pub meeting_id: Option<Option<i64>>,
    /// `None`: unchanged (or cleared with a change of meeting); `Some(None)`: no item. Checked
    /// by the service.
    pub agenda_item_id: Option<Option<i64>>,
}

impl TryFrom<DraftUpdate> for ValidDraftUpdate {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: DraftUpdate) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let title = body.title.as_deref().map(Title::parse).transpose().map_err(|e| errors.push(e)).ok().flatten();
        Error::check(errors)?;
        Ok(Self { title, state: body.state, meeting_id: body.meeting_id, agenda_item_id: body.agenda_item_id })
    }
}
