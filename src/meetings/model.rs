//! Meetings, their agendas and documents: rows, the API's views, the requests as they arrive
//! and the validated inputs the services take.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::model::{OrganisationRef, double_option};
use crate::bodies::model::PersonRef;
use crate::db::schema::{agenda_items, meetings};
use crate::error::{Error, FieldError};
use crate::validate;

crate::text_enum!(
    /// What kind of meeting.
    pub MeetingKind {
        /// The annual plenary (usually November).
        Plenary => "plenary",
        /// The mid-year intersessional meeting.
        Intersessional => "intersessional",
        /// A meeting of a working group or committee (also by video call).
        WorkingGroup => "working_group",
        /// An extraordinary session.
        Extraordinary => "extraordinary",
        /// A special session.
        SpecialSession => "special_session",
    }
);

crate::text_enum!(
    /// Where a meeting is in its life: `draft → convened → in_session → closed`, or `cancelled`.
    pub MeetingState {
        /// Being prepared by the chair and the secretariat; nobody else sees it.
        Draft => "draft",
        /// Convened: the invited delegations were told.
        Convened => "convened",
        /// Opened by the chair: in session.
        InSession => "in_session",
        /// Closed by the chair.
        Closed => "closed",
        /// Called off.
        Cancelled => "cancelled",
    }
);

crate::text_enum!(
    /// Whether the meeting adopted its agenda.
    pub AgendaState {
        /// Proposed by the chair.
        Proposed => "proposed",
        /// Adopted by the meeting; later changes are recorded as amendments.
        Adopted => "adopted",
    }
);

crate::text_enum!(
    /// Why an item is on the agenda.
    pub Purpose {
        /// A decision is to be taken.
        ForDecision => "for_decision",
        /// To be discussed.
        ForDiscussion => "for_discussion",
        /// For information only.
        ForInformation => "for_information",
    }
);

crate::text_enum!(
    /// Where an agenda item is.
    pub ItemState {
        /// Not yet taken up.
        Pending => "pending",
        /// On the floor now.
        Current => "current",
        /// Dealt with.
        Done => "done",
        /// Put off to a later meeting.
        Deferred => "deferred",
    }
);

crate::text_enum!(
    /// Why an organisation is invited to a meeting.
    pub InvitationRole {
        /// A member of the body.
        Member => "member",
        /// An observer of the body.
        Observer => "observer",
        /// Invited by the chair to this meeting only.
        Guest => "guest",
    }
);

/// A row of `meetings`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: i64,
    pub body_id: i64,
    #[diesel(deserialize_as = String)]
    pub kind: MeetingKind,
    pub title: String,
    pub venue: String,
    pub online_url: Option<String>,
    pub time_zone: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    #[diesel(deserialize_as = String)]
    pub state: MeetingState,
    #[diesel(deserialize_as = String)]
    pub agenda_state: AgendaState,
    pub agenda_adopted_at: Option<NaiveDateTime>,
    pub event_seq: i64,
    pub ical_sequence: i32,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl MeetingRow {
    /// What the audit log keeps of a meeting.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "body_id": self.body_id, "kind": self.kind, "title": self.title, "venue": self.venue,
            "online_url": self.online_url, "time_zone": self.time_zone, "starts_at": self.starts_at,
            "ends_at": self.ends_at, "state": self.state, "agenda_state": self.agenda_state,
        })
    }

    /// Whether the agenda may still change.
    pub fn agenda_open(&self) -> bool {
        matches!(self.state, MeetingState::Draft | MeetingState::Convened | MeetingState::InSession)
    }
}

/// A row of `agenda_items`.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq)]
#[diesel(table_name = agenda_items)]
pub struct ItemRow {
    pub id: i64,
    pub meeting_id: i64,
    pub parent_id: Option<i64>,
    pub position: i32,
    pub title: String,
    pub description: String,
    #[diesel(deserialize_as = String)]
    pub purpose: Purpose,
    pub presenter: String,
    pub duration_minutes: Option<i32>,
    pub closed_session: bool,
    #[diesel(deserialize_as = String)]
    pub state: ItemState,
    pub current_since: Option<NaiveDateTime>,
}

impl ItemRow {
    /// What the audit log and the amendments keep of an item.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "parent_id": self.parent_id, "position": self.position, "title": self.title,
            "description": self.description, "purpose": self.purpose, "presenter": self.presenter,
            "duration_minutes": self.duration_minutes, "closed_session": self.closed_session, "state": self.state,
        })
    }
}

/// The item on the floor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct CurrentItem {
    /// `null` for a closed-session item shown to an observer or a guest.
    pub item_id: Option<i64>,
    pub number: Option<String>,
    pub title: Option<String>,
    pub closed_session: bool,
    /// When the item was taken up.
    pub since: DateTime<Utc>,
}

/// A meeting in a list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct MeetingSummary {
    pub id: i64,
    pub body_id: i64,
    pub body_short_name: String,
    pub kind: MeetingKind,
    pub title: String,
    pub venue: String,
    pub online_url: Option<String>,
    /// The IANA time zone the meeting is held in.
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: MeetingState,
    pub current_item: Option<CurrentItem>,
}

/// An organisation invited to a meeting.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct MeetingInvitation {
    pub organisation: OrganisationRef,
    pub role: InvitationRole,
}

/// A delegate registered to attend.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Attendee {
    pub user: PersonRef,
    pub organisation: OrganisationRef,
    pub registered_at: DateTime<Utc>,
}

/// A meeting with who is invited and who attends, as the caller sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Meeting {
    #[serde(flatten)]
    pub summary: MeetingSummary,
    pub agenda_state: AgendaState,
    pub agenda_adopted_at: Option<DateTime<Utc>>,
    pub invitations: Vec<MeetingInvitation>,
    pub attendance: Vec<Attendee>,
    /// Whether the caller may convene, open and close it, run its agenda and invite guests.
    pub can_chair: bool,
    /// Whether the caller may register delegates of its own delegation.
    pub can_register: bool,
    /// The number of the meeting's last live event.
    pub event_seq: i64,
}

/// A document attached to an agenda item.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Document {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: DateTime<Utc>,
}

/// A draft linked to an agenda item.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct LinkedDraft {
    pub id: i64,
    pub title: String,
    /// Where the draft is on its way to a decision (`drafting`, `call_for_objections`, `adopted` …).
    pub stage: String,
}

/// A meeting, by title (what a draft shows of the meeting it belongs to).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct MeetingRef {
    pub id: i64,
    pub title: String,
}

/// An agenda item, by number and title (what a draft shows of the item it belongs to).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct AgendaItemRef {
    pub id: i64,
    /// `1`, `2`, `2.1` … as the agenda is numbered now.
    pub number: String,
    pub title: String,
}

/// An agenda item with its number.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct AgendaItem {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub position: i32,
    /// `1`, `2`, `2.1` …: renumbered whenever the agenda changes.
    pub number: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub purpose: Purpose,
    /// Who presents it: an organisation or a body, as text.
    pub presenter: String,
    pub duration_minutes: Option<i32>,
    /// Invisible to observers and guests everywhere.
    pub closed_session: bool,
    pub state: ItemState,
    pub current_since: Option<DateTime<Utc>>,
    pub documents: Vec<Document>,
    pub drafts: Vec<LinkedDraft>,
}

/// A change to the agenda after its adoption ("agenda as amended").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Amendment {
    pub at: DateTime<Utc>,
    /// Who made it.
    pub by: String,
    pub action: String,
    pub number: Option<String>,
    pub title: Option<String>,
    pub detail: String,
}

/// A meeting's agenda as the caller may see it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Agenda {
    pub meeting_id: i64,
    pub agenda_state: AgendaState,
    pub adopted_at: Option<DateTime<Utc>>,
    /// Depth-first, in number order.
    pub items: Vec<AgendaItem>,
    pub amendments: Vec<Amendment>,
}

/// Something on a person's "today".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Need {
    /// `convene`, `no_chair`, `missing_successor`, `missing_vice_chair`.
    pub kind: String,
    pub message: String,
    pub meeting_id: Option<i64>,
    pub body_id: Option<i64>,
}

/// A draft on a person's "today".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct HomeDraft {
    pub id: i64,
    pub title: String,
    pub state: String,
}

/// What a person sees after signing in.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Home {
    pub in_session: Vec<MeetingSummary>,
    pub upcoming: Vec<MeetingSummary>,
    pub drafts: Vec<HomeDraft>,
    pub needs: Vec<Need>,
}

/// `?body_id=&when=` for the meeting list.
#[derive(Deserialize, Debug, IntoParams)]
pub struct MeetingQuery {
    pub body_id: Option<i64>,
    /// `upcoming`, `in_session` or `past`.
    pub when: Option<String>,
}

/// A new meeting, as submitted.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    pub body_id: i64,
    pub kind: MeetingKind,
    pub title: String,
    #[serde(default)]
    pub venue: String,
    pub online_url: Option<String>,
    /// An IANA time zone (`Europe/Brussels`).
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Changes to a meeting.
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingUpdate {
    pub title: Option<String>,
    pub venue: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub online_url: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

/// A meeting's checked fields (a new one, or a change merged over the old).
#[derive(Clone, Debug, PartialEq)]
pub struct ValidMeeting {
    pub title: String,
    pub venue: String,
    pub online_url: Option<String>,
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

fn parse_url(raw: &str) -> Result<String, FieldError> {
    let url = url::Url::parse(raw.trim()).map_err(|_| FieldError::new("online_url", "is not a URL"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(FieldError::new("online_url", "must be an http(s) link"));
    }
    Ok(url.to_string())
}

/// Checks a meeting's fields: 422 naming every invalid one.
pub fn check_meeting(
    title: &str,
    venue: &str,
    online_url: Option<&str>,
    time_zone: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<ValidMeeting, Error> {
    let mut errors = Vec::new();
    let title = validate::text("title", title, 300, true).map_err(|e| errors.push(e)).ok();
    let venue = validate::text("venue", venue, 300, false).map_err(|e| errors.push(e)).ok();
    let online_url = match online_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => parse_url(u).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    let time_zone = validate::time_zone("time_zone", time_zone).map_err(|e| errors.push(e)).ok();
    if ends_at <= starts_at {
        errors.push(FieldError::new("ends_at", "must be after the start"));
    }
    Error::check(errors)?;
    let missing = || Error::invalid("body", "invalid meeting");
    Ok(ValidMeeting {
        title: title.ok_or_else(missing)?,
        venue: venue.ok_or_else(missing)?,
        online_url,
        time_zone: time_zone.ok_or_else(missing)?,
        starts_at,
        ends_at,
    })
}

/// A new agenda item, as submitted.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub title: String,
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub description: String,
    pub purpose: Option<Purpose>,
    #[serde(default)]
    pub presenter: String,
    pub duration_minutes: Option<i32>,
    #[serde(default)]
    pub closed_session: bool,
}

/// Changes to an agenda item.
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub purpose: Option<Purpose>,
    pub presenter: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub duration_minutes: Option<Option<i32>>,
    pub closed_session: Option<bool>,
    pub state: Option<ItemState>,
}

/// An item's checked fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidItem {
    pub title: String,
    pub description: String,
    pub purpose: Purpose,
    pub presenter: String,
    pub duration_minutes: Option<i32>,
    pub closed_session: bool,
}

/// Checks an item's fields: 422 naming every invalid one.
pub fn check_item(
    title: &str,
    description: &str,
    purpose: Purpose,
    presenter: &str,
    duration_minutes: Option<i32>,
    closed_session: bool,
) -> Result<ValidItem, Error> {
    let mut errors = Vec::new();
    let title = validate::text("title", title, 300, true).map_err(|e| errors.push(e)).ok();
    let description = validate::long_text("description", description, 20_000).map_err(|e| errors.push(e)).ok();
    let presenter = validate::text("presenter", presenter, 200, false).map_err(|e| errors.push(e)).ok();
    if duration_minutes.is_some_and(|d| !(1..=1440).contains(&d)) {
        errors.push(FieldError::new("duration_minutes", "must be between 1 and 1440 minutes"));
    }
    Error::check(errors)?;
    let missing = || Error::invalid("body", "invalid agenda item");
    Ok(ValidItem {
        title: title.ok_or_else(missing)?,
        description: description.ok_or_else(missing)?,
        purpose,
        presenter: presenter.ok_or_else(missing)?,
        duration_minutes,
        closed_session,
    })
}

/// Moves one item: under `parent_id` (null: top level), at `position` among its new siblings.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemMove {
    pub item_id: i64,
    pub parent_id: Option<i64>,
    /// 0-based; past the end means last.
    pub position: i32,
}

/// Sets the item on the floor (`null`: none).
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurrentItemRequest {
    pub item_id: Option<i64>,
}

/// `?filename=` of an upload.
#[derive(Deserialize, Debug, IntoParams)]
pub struct UploadQuery {
    pub filename: String,
}

/// `?since=` of the live feed.
#[derive(Deserialize, Debug, IntoParams)]
pub struct LiveQuery {
    /// The last event number the client saw.
    pub since: Option<i64>,
}
