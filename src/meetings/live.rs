//! A meeting's live events: each change anyone following should see (its state, the agenda,
//! the item on the floor, attendance) is stored, numbered per meeting, in the changing
//! transaction — once as participants see it and once as observers and guests may (or not at
//! all, for a closed-session item). On PostgreSQL a `NOTIFY` carrying only the meeting's id wakes
//! the other instances at commit; every instance reads the rows itself, so a follower who
//! reconnects anywhere with its last number gets what it missed, in order.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::DbConnection;
use crate::db::schema::{meeting_events, meetings};
use crate::error::Error;

/// The PostgreSQL channel; the payload is the meeting's id.
pub const CHANNEL: &str = "plenum_meeting_events";

/// What kind of change an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `{state}`.
    State,
    /// The whole agenda as the recipient may see it.
    Agenda,
    /// The item on the floor (`null`: none).
    CurrentItem,
    /// The attendance list.
    Attendance,
    /// The meeting's own fields (title, dates, venue).
    Meeting,
}

impl EventKind {
    /// The name clients see.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Agenda => "agenda",
            Self::CurrentItem => "current_item",
            Self::Attendance => "attendance",
            Self::Meeting => "meeting",
        }
    }
}

/// A stored event.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = meeting_events)]
pub struct EventRow {
    pub meeting_id: i64,
    pub seq: i64,
    pub at: NaiveDateTime,
    pub kind: String,
    /// The event as participants see it (JSON).
    pub full_data: String,
    /// The event as observers and guests see it; `None`: they never see it.
    pub public_data: Option<String>,
}

impl EventRow {
    /// The frame sent to a follower: the participants' version, or the public one (`None`:
    /// nothing for this follower).
    pub fn frame(&self, restricted: bool) -> Option<String> {
        let data = if restricted { self.public_data.as_deref()? } else { &self.full_data };
        Some(format!(r#"{{"type":"event","seq":{},"kind":"{}","data":{data}}}"#, self.seq, self.kind))
    }
}

/// Stores an event in the caller's transaction; returns its number. `public`: what observers
/// and guests see (`None`: nothing).
pub fn record(
    conn: &mut DbConnection,
    meeting_id: i64,
    kind: EventKind,
    full: &Value,
    public: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    // Taking the number updates the meeting's row: concurrent writers of one meeting queue here.
    let seq: i64 = diesel::update(meetings::table.find(meeting_id))
        .set(meetings::event_seq.eq(meetings::event_seq + 1))
        .returning(meetings::event_seq)
        .get_result(conn)?;
    diesel::insert_into(meeting_events::table)
        .values((
            meeting_events::meeting_id.eq(meeting_id),
            meeting_events::seq.eq(seq),
            meeting_events::at.eq(now.naive_utc()),
            meeting_events::kind.eq(kind.as_str()),
            meeting_events::full_data.eq(full.to_string()),
            meeting_events::public_data.eq(public.map(Value::to_string)),
        ))
        .execute(conn)?;
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(meeting_id.to_string())
            .execute(pg)?;
    }
    Ok(seq)
}

/// Events of a meeting after `since`, oldest first, at most `limit`.
pub fn since(conn: &mut DbConnection, meeting_id: i64, since: i64, limit: i64) -> Result<Vec<EventRow>, Error> {
    Ok(meeting_events::table
        .filter(meeting_events::meeting_id.eq(meeting_id))
        .filter(meeting_events::seq.gt(since))
        .order(meeting_events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
}
