//! Bodies, their members and the terms of their offices: rows, the API's views, the requests as
//! they arrive and the validated inputs the services take. A service never receives a name, a
//! time zone, a rotation or a term whose shape has not been checked here; what needs the database
//! (does the organisation exist, does the term overlap another) is checked by the service.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::model::{OrganisationRef, double_option};
use crate::db::schema::{acting_chairs, bodies, body_members, chair_terms};
use crate::error::{Error, FieldError};
use crate::validate;

crate::text_enum!(
    /// Where a body sits in the tree.
    pub BodyKind {
        /// The top body, where every participant sits and decisions are taken.
        Plenary => "plenary",
        /// A standing working group (monitoring, statistics, diamond experts).
        WorkingGroup => "working_group",
        /// A standing committee (participation and chairmanship, rules and procedures).
        Committee => "committee",
        /// A group created by a decision, with a mandate and an end date.
        AdHoc => "ad_hoc",
    }
);

crate::text_enum!(
    /// How a body's chair passes on.
    pub RotationRule {
        /// When the vice-chair's term ends, its organisation chairs the body for the next term
        /// (the Kimberley Process: the vice-chair becomes chair on 1 January).
        ViceChairSucceeds => "vice_chair_succeeds",
        /// The chair passes along a fixed, ordered list of organisations, one term each (the EU
        /// Council's six-month presidencies).
        FixedRotation => "fixed_rotation",
        /// Nothing automatic: the body elects each chair.
        Elected => "elected",
        /// The outgoing chair of another body chairs this one for the next term (the KP's
        /// Committee on Participation and Chairmanship).
        PreviousChairOf => "previous_chair_of",
    }
);

crate::text_enum!(
    /// An office of a body.
    pub Office {
        /// The chair: convenes, sets agendas, runs drafts, declares adoption.
        Chair => "chair",
        /// The vice-chair: acts for the chair when switched on as acting chair.
        ViceChair => "vice_chair",
        /// One of two or more organisations that chair a body jointly, each with the chair's powers.
        CoChair => "co_chair",
    }
);

crate::text_enum!(
    /// How a term came to be.
    pub TermOrigin {
        /// Selected by the body (by consensus, an election, or entered by the secretariat).
        Selected => "selected",
        /// Created automatically: the vice-chair (or another body's outgoing chair) succeeds.
        Succession => "succession",
        /// Created automatically from a fixed rotation.
        Rotation => "rotation",
        /// An interim holder, until the office is filled.
        Interim => "interim",
    }
);

crate::text_enum!(
    /// What a warning about a body's offices is about.
    pub WarningCode {
        /// Nobody holds the chair today.
        NoChair => "no_chair",
        /// The chair's term ends soon and nobody is known to take over.
        MissingSuccessor => "missing_successor",
        /// The vice-chair becomes chair soon and no new vice-chair has been selected.
        MissingViceChair => "missing_vice_chair",
    }
);

/// A row of `bodies`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = bodies)]
pub struct BodyRow {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    #[diesel(deserialize_as = String)]
    pub kind: BodyKind,
    pub mandate: String,
    pub parent_id: Option<i64>,
    pub created_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub observers_may_join: bool,
    pub observers_may_chair: bool,
    pub time_zone: String,
    #[diesel(deserialize_as = String)]
    pub rotation_rule: RotationRule,
    pub rotation_order: String,
    pub term_months: i32,
    pub lead_days: i32,
    pub rotation_source_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl BodyRow {
    /// The body's time zone (UTC if the stored name is no longer known).
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    /// The date it is in the body's time zone at `now`: terms begin and end on such dates.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.tz()).date_naive()
    }

    /// The instant a date begins in the body's time zone (midnight, or the first instant after a
    /// daylight-saving gap that swallows midnight).
    pub fn day_starts(&self, date: NaiveDate) -> DateTime<Utc> {
        use chrono::TimeZone;
        let tz = self.tz();
        (0..3)
            .find_map(|hour| tz.from_local_datetime(&date.and_hms_opt(hour, 0, 0)?).earliest())
            .map_or_else(|| date.and_time(chrono::NaiveTime::MIN).and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The rotation order (organisation ids).
    pub fn order(&self) -> Vec<i64> {
        serde_json::from_str(&self.rotation_order).unwrap_or_default()
    }

    /// The rotation as the API shows it.
    pub fn rotation(&self) -> Rotation {
        Rotation {
            rule: self.rotation_rule,
            order: self.order(),
            term_months: self.term_months,
            lead_days: self.lead_days,
            source_body_id: self.rotation_source_id,
        }
    }

    /// What the audit log keeps of a body.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name, "short_name": self.short_name, "kind": self.kind, "mandate": self.mandate,
            "parent_id": self.parent_id, "created_on": self.created_on, "ends_on": self.ends_on,
            "observers_may_join": self.observers_may_join, "observers_may_chair": self.observers_may_chair,
            "time_zone": self.time_zone, "rotation": self.rotation(),
        })
    }
}

/// A row of `body_members`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = body_members)]
pub struct MemberRow {
    pub body_id: i64,
    pub organisation_id: i64,
    pub since: NaiveDate,
    pub until: Option<NaiveDate>,
    pub provisional: bool,
}

/// A row of `chair_terms`.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq)]
#[diesel(table_name = chair_terms)]
pub struct TermRow {
    pub id: i64,
    pub body_id: i64,
    #[diesel(deserialize_as = String)]
    pub office: Office,
    pub organisation_id: i64,
    pub person_user_id: Option<i64>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[diesel(deserialize_as = String)]
    pub origin: TermOrigin,
    pub note: String,
    pub cancelled: bool,
    pub created_at: NaiveDateTime,
}

impl TermRow {
    /// Whether the term confers its office on `date`.
    pub fn in_force(&self, date: NaiveDate) -> bool {
        !self.cancelled && self.starts_on <= date && date <= self.ends_on
    }

    /// Whether the term is a chair's (chair or co-chair).
    pub fn chairs(&self) -> bool {
        matches!(self.office, Office::Chair | Office::CoChair)
    }

    /// What the audit log keeps of a term.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "body_id": self.body_id, "office": self.office, "organisation_id": self.organisation_id,
            "person_user_id": self.person_user_id, "starts_on": self.starts_on, "ends_on": self.ends_on,
            "origin": self.origin, "note": self.note, "cancelled": self.cancelled,
        })
    }
}

/// A row of `acting_chairs`.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = acting_chairs)]
pub struct ActingChairRow {
    pub id: i64,
    pub body_id: i64,
    pub term_id: i64,
    pub since: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub reason: String,
    pub set_by: i64,
}

/// A person, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct PersonRef {
    pub id: i64,
    pub display_name: String,
}

/// How a body's chair passes on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Rotation {
    pub rule: RotationRule,
    /// `fixed_rotation`: the organisations (ids) in the order they chair.
    pub order: Vec<i64>,
    /// The length of a term, in months (12: a calendar year from 1 January; 6: a presidency).
    pub term_months: i32,
    /// How many days before a handover a missing successor is warned about.
    pub lead_days: i32,
    /// `previous_chair_of`: the body whose outgoing chair chairs this one.
    pub source_body_id: Option<i64>,
}

/// A term of office.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Term {
    pub id: i64,
    pub body_id: i64,
    pub office: Office,
    pub organisation: OrganisationRef,
    /// The one delegate who holds the office, if the term names one; otherwise every delegate of
    /// the organisation acts for it.
    pub person: Option<PersonRef>,
    pub starts_on: NaiveDate,
    /// The last day of the term (inclusive).
    pub ends_on: NaiveDate,
    pub origin: TermOrigin,
    /// Why the term is as it is (an extension by decision, a withdrawal, an interim).
    pub note: String,
    /// A cancelled term is kept in the history and confers nothing.
    pub cancelled: bool,
    pub created_at: DateTime<Utc>,
}

/// The vice-chair acting with the chair's powers, switched on by the chair or the secretariat.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct ActingChair {
    pub id: i64,
    /// The vice-chair's term.
    pub term: Term,
    pub since: DateTime<Utc>,
    pub reason: String,
    pub set_by: PersonRef,
}

/// Who holds a body's offices on a date.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct InOffice {
    pub date: NaiveDate,
    /// The chair, or the co-chairs.
    pub chairs: Vec<Term>,
    pub vice_chair: Option<Term>,
    /// Set when the vice-chair acts with the chair's powers.
    pub acting_chair: Option<ActingChair>,
}

/// The next change of chair.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Handover {
    /// The first day of the new chair's term.
    pub on: NaiveDate,
    /// The instant of the handover: midnight of `on` in the body's time zone.
    pub at: DateTime<Utc>,
    pub outgoing: Vec<Term>,
    pub incoming: Vec<Term>,
}

/// Something the chair and the secretariat should act on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
    pub handover_on: Option<NaiveDate>,
}

/// A member organisation of a body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Member {
    pub organisation: OrganisationRef,
    pub since: NaiveDate,
    pub until: Option<NaiveDate>,
    /// A new member of a working group may be provisional for its first year.
    pub provisional: bool,
}

/// A body in the list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct BodySummary {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub kind: BodyKind,
    pub parent_id: Option<i64>,
    pub ends_on: Option<NaiveDate>,
    /// Who holds its offices today.
    pub in_office: InOffice,
}

/// A body with its members, offices and what needs attention.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
pub struct Body {
    pub id: i64,
    pub name: String,
    /// WGM, WGS, WGDE, CPC, CRP …
    pub short_name: String,
    pub kind: BodyKind,
    pub mandate: String,
    pub parent_id: Option<i64>,
    pub created_on: NaiveDate,
    /// The end of an ad hoc group's mandate.
    pub ends_on: Option<NaiveDate>,
    /// Whether observers may be members.
    pub observers_may_join: bool,
    /// Whether an observer may hold an office (a working group chaired by an observer).
    pub observers_may_chair: bool,
    /// The IANA time zone in which terms begin and end at midnight.
    pub time_zone: String,
    pub rotation: Rotation,
    pub members: Vec<Member>,
    pub in_office: InOffice,
    pub next_handover: Option<Handover>,
    /// Shown to the chair's delegates and the secretariat; empty for everyone else.
    pub warnings: Vec<Warning>,
    /// Whether the caller may change the body, its members and its terms.
    pub can_manage: bool,
    /// Whether the caller may switch the acting chair on or off.
    pub can_set_acting_chair: bool,
}

/// A rotation as submitted; omitted fields take their defaults (or, on a change, stay).
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationInput {
    pub rule: Option<RotationRule>,
    pub order: Option<Vec<i64>>,
    /// 1–60 months (default 12).
    pub term_months: Option<i32>,
    /// 0–366 days (default 60).
    pub lead_days: Option<i32>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub source_body_id: Option<Option<i64>>,
}

/// A new body.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBody {
    pub name: String,
    pub short_name: String,
    pub kind: BodyKind,
    #[serde(default)]
    pub mandate: String,
    /// Required for every body but a plenary.
    pub parent_id: Option<i64>,
    /// Default: today.
    pub created_on: Option<NaiveDate>,
    /// Required for an ad hoc group.
    pub ends_on: Option<NaiveDate>,
    pub observers_may_join: Option<bool>,
    pub observers_may_chair: Option<bool>,
    /// An IANA time zone (default `UTC`).
    pub time_zone: Option<String>,
    pub rotation: Option<RotationInput>,
}

/// Changes to a body; absent fields stay as they are.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyUpdate {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub mandate: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    pub observers_may_join: Option<bool>,
    pub observers_may_chair: Option<bool>,
    pub time_zone: Option<String>,
    pub rotation: Option<RotationInput>,
}

fn parse_short_name(raw: &str) -> Result<String, FieldError> {
    crate::accounts::model::parse_code("short_name", raw)
}

/// A rotation whose numbers are in range; the service checks the ids it names.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidRotation {
    pub rule: RotationRule,
    pub order: Vec<i64>,
    pub term_months: i32,
    pub lead_days: i32,
    pub source_body_id: Option<i64>,
}

impl ValidRotation {
    /// Merges `input` over `base`, checking the result.
    fn merge(base: ValidRotation, input: Option<RotationInput>, errors: &mut Vec<FieldError>) -> Self {
        let Some(input) = input else { return base };
        let rotation = Self {
            rule: input.rule.unwrap_or(base.rule),
            order: input.order.unwrap_or(base.order),
            term_months: input.term_months.unwrap_or(base.term_months),
            lead_days: input.lead_days.unwrap_or(base.lead_days),
            source_body_id: input.source_body_id.unwrap_or(base.source_body_id),
        };
        if !(1..=60).contains(&rotation.term_months) {
            errors.push(FieldError::new("rotation.term_months", "must be between 1 and 60 months"));
        }
        if !(0..=366).contains(&rotation.lead_days) {
            errors.push(FieldError::new("rotation.lead_days", "must be between 0 and 366 days"));
        }
        if rotation.rule == RotationRule::FixedRotation && rotation.order.len() < 2 {
            errors.push(FieldError::new("rotation.order", "a fixed rotation needs at least two organisations"));
        }
        if rotation.order.len() > 200 {
            errors.push(FieldError::new("rotation.order", "at most 200 organisations"));
        }
        let mut seen = std::collections::HashSet::new();
        if rotation.order.iter().any(|id| !seen.insert(*id)) {
            errors.push(FieldError::new("rotation.order", "names an organisation twice"));
        }
        if rotation.rule == RotationRule::PreviousChairOf && rotation.source_body_id.is_none() {
            errors.push(FieldError::new("rotation.source_body_id", "is required for the previous_chair_of rule"));
        }
        rotation
    }

    fn default_for() -> Self {
        Self { rule: RotationRule::Elected, order: Vec::new(), term_months: 12, lead_days: 60, source_body_id: None }
    }

    /// The base of a change: the body's current rotation.
    pub fn of(row: &BodyRow) -> Self {
        Self {
            rule: row.rotation_rule,
            order: row.order(),
            term_months: row.term_months,
            lead_days: row.lead_days,
            source_body_id: row.rotation_source_id,
        }
    }
}

/// A new body whose fields were checked.
#[derive(Clone, Debug)]
pub struct ValidNewBody {
    pub name: String,
    pub short_name: String,
    pub kind: BodyKind,
    pub mandate: String,
    pub parent_id: Option<i64>,
    pub created_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub observers_may_join: bool,
    pub observers_may_chair: bool,
    pub time_zone: String,
    pub rotation: ValidRotation,
}

impl TryFrom<NewBody> for ValidNewBody {
    type Error = Error;

    /// 422 naming every invalid field.
    fn try_from(body: NewBody) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let name = validate::text("name", &body.name, 200, true).map_err(|e| errors.push(e)).ok();
        let short_name = parse_short_name(&body.short_name).map_err(|e| errors.push(e)).ok();
        let mandate = validate::long_text("mandate", &body.mandate, 20_000).map_err(|e| errors.push(e)).ok();
        let time_zone = validate::time_zone("time_zone", body.time_zone.as_deref().unwrap_or("UTC"))
            .map_err(|e| errors.push(e))
            .ok();
        match (body.kind, body.parent_id) {
            (BodyKind::Plenary, Some(_)) => errors.push(FieldError::new("parent_id", "a plenary has no parent body")),
            (kind, None) if kind != BodyKind::Plenary => {
                errors.push(FieldError::new("parent_id", "is required: every body but a plenary hangs below another"))
            }
            _ => {}
        }
        if body.kind == BodyKind::AdHoc && body.ends_on.is_none() {
            errors.push(FieldError::new("ends_on", "is required for an ad hoc group: its mandate ends"));
        }
        if let (Some(start), Some(end)) = (body.created_on, body.ends_on)
            && end < start
        {
            errors.push(FieldError::new("ends_on", "is before created_on"));
        }
        let rotation = ValidRotation::merge(ValidRotation::default_for(), body.rotation, &mut errors);
        Error::check(errors)?;
        let missing = || Error::invalid("body", "invalid");
        Ok(Self {
            name: name.ok_or_else(missing)?,
            short_name: short_name.ok_or_else(missing)?,
            kind: body.kind,
            mandate: mandate.ok_or_else(missing)?,
            parent_id: body.parent_id,
            created_on: body.created_on,
            ends_on: body.ends_on,
            observers_may_join: body.observers_may_join.unwrap_or(true),
            observers_may_chair: body.observers_may_chair.unwrap_or(false),
            time_zone: time_zone.ok_or_else(missing)?,
            rotation,
        })
    }
}

/// Changes to a body whose fields were checked, merged over the body as it is.
#[derive(Clone, Debug)]
pub struct ValidBodyUpdate {
    pub name: String,
    pub short_name: String,
    pub mandate: String,
    pub ends_on: Option<NaiveDate>,
    pub observers_may_join: bool,
    pub observers_may_chair: bool,
    pub time_zone: String,
    pub rotation: ValidRotation,
}

impl ValidBodyUpdate {
    /// Checks `update` and merges it over `before`: 422 naming every invalid field.
    pub fn merge(before: &BodyRow, update: BodyUpdate) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let mut field = |r: Result<String, FieldError>, old: &str| r.map_err(|e| errors.push(e)).unwrap_or(old.into());
        let name = field(
            update.name.as_deref().map_or(Ok(before.name.clone()), |n| validate::text("name", n, 200, true)),
            &before.name,
        );
        let short_name = field(
            update.short_name.as_deref().map_or(Ok(before.short_name.clone()), parse_short_name),
            &before.short_name,
        );
        let mandate = field(
            update.mandate.as_deref().map_or(Ok(before.mandate.clone()), |m| validate::long_text("mandate", m, 20_000)),
            &before.mandate,
        );
        let time_zone = field(
            update.time_zone.as_deref().map_or(Ok(before.time_zone.clone()), |tz| validate::time_zone("time_zone", tz)),
            &before.time_zone,
        );
        let ends_on = update.ends_on.unwrap_or(before.ends_on);
        if before.kind == BodyKind::AdHoc && ends_on.is_none() {
            errors.push(FieldError::new("ends_on", "is required for an ad hoc group: its mandate ends"));
        }
        if ends_on.is_some_and(|end| end < before.created_on) {
            errors.push(FieldError::new("ends_on", "is before the body was created"));
        }
        let rotation = ValidRotation::merge(ValidRotation::of(before), update.rotation, &mut errors);
        Error::check(errors)?;
        Ok(Self {
            name,
            short_name,
            mandate,
            ends_on,
            observers_may_join: update.observers_may_join.unwrap_or(before.observers_may_join),
            observers_may_chair: update.observers_may_chair.unwrap_or(before.observers_may_chair),
            time_zone,
            rotation,
        })
    }
}

/// An organisation's membership of a body, as submitted.
#[derive(Deserialize, Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    /// Default: today (in the body's time zone), or unchanged.
    pub since: Option<NaiveDate>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub until: Option<Option<NaiveDate>>,
    pub provisional: Option<bool>,
}

/// A new term of office, as submitted.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerm {
    pub office: Office,
    pub organisation_id: i64,
    /// The one delegate who holds the office; omit for the whole delegation.
    pub person_user_id: Option<i64>,
    pub starts_on: NaiveDate,
    /// The last day (inclusive); default: one term (`rotation.term_months`) after `starts_on`.
    pub ends_on: Option<NaiveDate>,
    /// `selected` (default) or `interim`; the automatic origins are the server's.
    pub origin: Option<TermOrigin>,
    #[serde(default)]
    pub note: String,
}

/// The last day of a term of `months` months that starts on `start`.
pub fn term_end(start: NaiveDate, months: i32) -> Option<NaiveDate> {
    start.checked_add_months(chrono::Months::new(u32::try_from(months.max(1)).ok()?))?.pred_opt()
}

/// A term whose own fields were checked; the service checks the organisation, the person and
/// the other terms of the body.
#[derive(Clone, Debug)]
pub struct ValidTerm {
    pub office: Office,
    pub organisation_id: i64,
    pub person_user_id: Option<i64>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub origin: TermOrigin,
    pub note: String,
    pub cancelled: bool,
}

impl ValidTerm {
    /// Checks a new term of a body whose terms last `term_months` by default.
    pub fn new(input: NewTerm, term_months: i32) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let origin = input.origin.unwrap_or(TermOrigin::Selected);
        if !matches!(origin, TermOrigin::Selected | TermOrigin::Interim) {
            errors.push(FieldError::new("origin", "must be selected or interim: automatic terms are the server's"));
        }
        let note = validate::text("note", &input.note, 2_000, false).map_err(|e| errors.push(e)).ok();
        let ends_on = input.ends_on.or_else(|| term_end(input.starts_on, term_months)).unwrap_or(input.starts_on);
        if ends_on < input.starts_on {
            errors.push(FieldError::new("ends_on", "must not be before the start date"));
        }
        Error::check(errors)?;
        Ok(Self {
            office: input.office,
            organisation_id: input.organisation_id,
            person_user_id: input.person_user_id,
            starts_on: input.starts_on,
            ends_on,
            origin,
            note: note.unwrap_or_default(),
            cancelled: false,
        })
    }

    /// Checks `update` merged over the term as it is; the reason is required (every change to a
    /// term is an exception: a postponement, a withdrawal, an extension by decision).
    pub fn changed(before: &TermRow, update: TermUpdate) -> Result<(Self, String), Error> {
        let mut errors = Vec::new();
        let reason = validate::text("reason", &update.reason, 2_000, true).map_err(|e| errors.push(e)).ok();
        let note = match update.note.as_deref() {
            Some(n) => validate::text("note", n, 2_000, false).map_err(|e| errors.push(e)).ok(),
            None => Some(before.note.clone()),
        };
        let term = Self {
            office: before.office,
            organisation_id: update.organisation_id.unwrap_or(before.organisation_id),
            person_user_id: update.person_user_id.unwrap_or(before.person_user_id),
            starts_on: update.starts_on.unwrap_or(before.starts_on),
            ends_on: update.ends_on.unwrap_or(before.ends_on),
            origin: before.origin,
            note: note.unwrap_or_default(),
            cancelled: update.cancelled.unwrap_or(before.cancelled),
        };
        if term.ends_on < term.starts_on {
            errors.push(match update.ends_on {
                Some(_) => FieldError::new("ends_on", "must not be before the start date"),
                None => FieldError::new("starts_on", "must not be after the end date"),
            });
        }
        Error::check(errors)?;
        Ok((term, reason.unwrap_or_default()))
    }
}

/// A change to a term: an exception, audited with its reason.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermUpdate {
    /// Why (required): "postponed by written procedure", "withdrew", "extended by decision AD 2020/3".
    pub reason: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub organisation_id: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub person_user_id: Option<Option<i64>>,
    pub cancelled: Option<bool>,
    pub note: Option<String>,
}

/// Switches the acting chair on.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActingChairRequest {
    /// Why the vice-chair acts ("the chair is absent from the intersessional").
    pub reason: String,
}

/// `?at=` for the chair on a date.
#[derive(Deserialize, Debug, IntoParams)]
pub struct ChairQuery {
    /// A date (`YYYY-MM-DD`); default today in the body's time zone.
    pub at: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_lasts_its_months_inclusive() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(term_end(d(2024, 1, 1), 12), Some(d(2024, 12, 31)));
        assert_eq!(term_end(d(2025, 7, 1), 6), Some(d(2025, 12, 31)));
        assert_eq!(term_end(d(2020, 1, 1), 24), Some(d(2021, 12, 31)));
    }

    #[test]
    fn bodies_are_checked_field_by_field() {
        let bad = NewBody {
            name: " ".into(),
            short_name: "w g".into(),
            kind: BodyKind::AdHoc,
            mandate: String::new(),
            parent_id: None,
            created_on: None,
            ends_on: None,
            observers_may_join: None,
            observers_may_chair: None,
            time_zone: Some("Mars/Olympus".into()),
            rotation: Some(RotationInput { term_months: Some(0), ..Default::default() }),
        };
        let Err(Error::Validation { errors, .. }) = ValidNewBody::try_from(bad) else { panic!("accepted") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in ["name", "short_name", "time_zone", "parent_id", "ends_on", "rotation.term_months"] {
            assert!(fields.contains(&f), "{f} not reported in {fields:?}");
        }
    }

    #[test]
    fn midnight_is_the_body_s_midnight() {
        let row = |tz: &str| BodyRow {
            id: 1,
            name: "P".into(),
            short_name: "P".into(),
            kind: BodyKind::Plenary,
            mandate: String::new(),
            parent_id: None,
            created_on: NaiveDate::MIN,
            ends_on: None,
            observers_may_join: true,
            observers_may_chair: false,
            time_zone: tz.into(),
            rotation_rule: RotationRule::Elected,
            rotation_order: "[]".into(),
            term_months: 12,
            lead_days: 60,
            rotation_source_id: None,
            created_at: NaiveDateTime::MIN,
            updated_at: NaiveDateTime::MIN,
        };
        let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        assert_eq!(row("Africa/Gaborone").day_starts(day).to_rfc3339(), "2024-12-31T22:00:00+00:00");
        assert_eq!(row("UTC").day_starts(day).to_rfc3339(), "2025-01-01T00:00:00+00:00");
        let before = row("Africa/Gaborone").day_starts(day) - chrono::Duration::seconds(1);
        assert_eq!(row("Africa/Gaborone").today(before), NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default());
    }
}
