//! The meeting report, assembled from the meeting's data: the agenda as adopted and as amended,
//! attendance by delegation, the decisions adopted on its items (number and full text), the
//! objections and abstentions recorded, and the drafts still open with their brackets. Built for
//! the person who asks (observers never see closed-session items); the chair turns it into an
//! editable draft — a Yjs document like any other — to co-edit and adopt as the communiqué.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::document::{Document, ListItem};
use crate::accounts::actor::Actor;
use crate::db::DbConnection;
use crate::db::schema::{agenda_item_drafts, bodies, decisions, draft_objections, drafts, organisations};
use crate::drafting::brackets;
use crate::error::Error;
use crate::meetings::service as meetings;

/// The report of a meeting as `actor` may see it: the content of its Markdown, HTML and PDF.
pub fn document(
    conn: &mut DbConnection,
    actor: &Actor,
    meeting_id: i64,
    now: DateTime<Utc>,
) -> Result<Document, Error> {
    let seen = meetings::seen(conn, actor, meeting_id, now)?;
    build(conn, &seen.meeting, seen.restricted)
}

/// The report as observers and guests may see it (no closed-session item), in Markdown: the
/// basis of a communiqué.
pub fn public_markdown(conn: &mut DbConnection, meeting: &crate::meetings::model::MeetingRow) -> Result<String, Error> {
    Ok(build(conn, meeting, true)?.markdown())
}

fn build(conn: &mut DbConnection, m: &crate::meetings::model::MeetingRow, restricted: bool) -> Result<Document, Error> {
    let body: String = bodies::table.find(m.body_id).select(bodies::name).first(conn)?;
    let agenda = meetings::agenda_view(conn, m, restricted)?;
    let tz: chrono_tz::Tz = m.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let mut doc = Document::new(format!("{body}: {} — report", m.title));
    doc.heading(1, format!("{body}: {}", m.title));
    doc.paragraph(format!(
        "{} to {} ({}){}",
        m.starts_at.and_utc().with_timezone(&tz).format("%-d %B %Y"),
        m.ends_at.and_utc().with_timezone(&tz).format("%-d %B %Y"),
        m.time_zone,
        if m.venue.is_empty() { String::new() } else { format!(", {}", m.venue) }
    ));
    doc.heading(
        2,
        format!(
            "Agenda{}",
            match agenda.adopted_at {
                Some(at) => format!(" (adopted {})", at.with_timezone(&tz).format("%-d %B %Y")),
                None => " (proposed)".into(),
            }
        ),
    );
    doc.list(
        agenda
            .items
            .iter()
            .map(|item| ListItem {
                depth: item.number.matches('.').count(),
                marker: Some(format!("{}.", item.number)),
                lead: None,
                text: format!("{} — {}", item.title, item.state.as_str()),
            })
            .collect(),
    );
    if !agenda.amendments.is_empty() {
        doc.heading(3, "As amended");
        doc.list(
            agenda
                .amendments
                .iter()
                .map(|a| {
                    ListItem::bullet(format!(
                        "{} {} {} {}: {} {}",
                        a.at.format("%-d %B %H:%M"),
                        a.by,
                        a.action,
                        a.number.clone().unwrap_or_default(),
                        a.title.clone().unwrap_or_default(),
                        a.detail
                    ))
                })
                .collect(),
        );
    }
    doc.heading(2, "Attendance");
    let attendance = meetings::attendance(conn, m.id)?;
    if attendance.is_empty() {
        doc.paragraph("No delegate registered.");
    }
    let mut by_org: Vec<(String, Vec<String>)> = Vec::new();
    for a in attendance {
        match by_org.iter_mut().find(|(o, _)| *o == a.organisation.name) {
            Some((_, names)) => names.push(a.user.display_name),
            None => by_org.push((a.organisation.name, vec![a.user.display_name])),
        }
    }
    doc.list(
        by_org
            .into_iter()
            .map(|(org, names)| ListItem { lead: Some(org), ..ListItem::bullet(names.join(", ")) })
            .collect(),
    );
    // The drafts on the items the reader may see.
    let mut draft_ids: Vec<i64> = Vec::new();
    let item_ids: Vec<i64> = agenda.items.iter().map(|i| i.id).collect();
    let linked: Vec<i64> = agenda_item_drafts::table
        .filter(agenda_item_drafts::item_id.eq_any(&item_ids))
        .select(agenda_item_drafts::draft_id)
        .load(conn)?;
    for d in linked {
        if !draft_ids.contains(&d) {
            draft_ids.push(d);
        }
    }
    let adopted: Vec<(String, String, String, i64)> = decisions::table
        .filter(decisions::draft_id.eq_any(&draft_ids))
        .order(decisions::seq.asc())
        .select((decisions::number, decisions::title, decisions::text, decisions::draft_id))
        .load(conn)?;
    doc.heading(2, "Decisions adopted");
    if adopted.is_empty() {
        doc.paragraph("None.");
    }
    for (number, title, text, _) in &adopted {
        doc.heading(3, format!("{number} — {title}"));
        doc.text(text);
    }
    let recorded: Vec<(String, String, String, String)> = draft_objections::table
        .inner_join(drafts::table)
        .inner_join(organisations::table.on(organisations::id.eq(draft_objections::organisation_id)))
        .filter(draft_objections::draft_id.eq_any(&draft_ids))
        .order(draft_objections::id.asc())
        .select((drafts::title, draft_objections::kind, organisations::name, draft_objections::reason))
        .load(conn)?;
    if !recorded.is_empty() {
        doc.heading(2, "Objections and abstentions recorded");
        doc.list(
            recorded
                .into_iter()
                .map(|(title, kind, org, reason)| ListItem::bullet(format!("{title}: {kind} by {org} — {reason}")))
                .collect(),
        );
    }
    let open: Vec<(i64, String)> = drafts::table
        .filter(drafts::id.eq_any(&draft_ids))
        .filter(drafts::stage.ne("adopted"))
        .filter(drafts::stage.ne("withdrawn"))
        .select((drafts::id, drafts::title))
        .load(conn)?;
    if !open.is_empty() {
        doc.heading(2, "Drafts still open");
        let mut items = Vec::new();
        for (id, title) in open {
            let text = crate::drafting::service::stored_text(conn, id)?;
            let b = brackets::parse(&text);
            let state = if b.clean { "clean text".to_string() } else { b.summary() };
            items.push(ListItem::bullet(format!("{title}: {state}")));
        }
        doc.list(items);
    }
    Ok(doc)
}
