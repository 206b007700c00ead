//! Meetings as iCalendar (RFC 5545), through the `icalendar` crate. Times are written in UTC,
//! which every calendar shows in its own zone correctly; the meeting's IANA zone is named in
//! the description. A meeting keeps one UID for life, and its `SEQUENCE` grows when its date or
//! venue changes, so calendars update the event instead of adding another.

use std::collections::HashMap;

use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

use super::model::{Agenda, MeetingRow, MeetingState};

/// The UID of a meeting's event.
pub fn uid(meeting: &MeetingRow, public_url: &str) -> String {
    let host = url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "plenum".into());
    format!("meeting-{}@{host}", meeting.id)
}

fn event(meeting: &MeetingRow, agenda: &Agenda, names: &HashMap<i64, String>, public_url: &str) -> Event {
    let body = names.get(&meeting.body_id).cloned().unwrap_or_default();
    let mut description = format!("{body} — times in {}\n\nAgenda:\n", meeting.time_zone);
    for item in &agenda.items {
        description.push_str(&format!("{} {}\n", item.number, item.title));
    }
    let link = format!("{}/meetings/{}", public_url.trim_end_matches('/'), meeting.id);
    description.push_str(&format!("\n{link}"));
    let location = match (&meeting.venue, &meeting.online_url) {
        (v, Some(u)) if !v.is_empty() => format!("{v} / {u}"),
        (_, Some(u)) => u.clone(),
        (v, None) => v.clone(),
    };
    let mut e = Event::new();
    e.uid(&uid(meeting, public_url))
        .summary(&format!("{body}: {}", meeting.title))
        .starts(meeting.starts_at.and_utc())
        .ends(meeting.ends_at.and_utc())
        .location(&location)
        .description(&description)
        .url(&link)
        .timestamp(meeting.updated_at.and_utc())
        .add_property("SEQUENCE", meeting.ical_sequence.to_string())
        .status(match meeting.state {
            MeetingState::Cancelled => EventStatus::Cancelled,
            MeetingState::Draft => EventStatus::Tentative,
            _ => EventStatus::Confirmed,
        });
    e.done()
}

/// A calendar of these meetings, each with the agenda its reader may see.
pub fn calendar(meetings: &[(&MeetingRow, &Agenda)], names: &HashMap<i64, String>, public_url: &str) -> String {
    let mut cal = Calendar::new();
    cal.name("Plenum meetings");
    for (meeting, agenda) in meetings {
        cal.push(event(meeting, agenda, names, public_url));
    }
    cal.done().to_string()
}
