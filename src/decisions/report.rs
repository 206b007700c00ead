//! The meeting report, assembled from the meeting's data: the agenda as adopted and as amended,
//! attendance by delegation, the decisions adopted on its items (number and full text), the
//! objections and abstentions recorded, and the drafts still open with their brackets. Built for
//! the person who asks (observers never see closed-session items); the chair turns it into an
//! editable draft — a Yjs document like any other — to co-edit and adopt as the communiqué.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::accounts::actor::Actor;
use crate::db::DbConnection;
use crate::db::schema::{agenda_item_drafts, bodies, decisions, draft_objections, drafts, organisations};
use crate::drafting::brackets;
use crate::error::Error;
use crate::meetings::service as meetings;

/// The report of a meeting, in Markdown, as `actor` may see it.
pub fn markdown(conn: &mut DbConnection, actor: &Actor, meeting_id: i64, now: DateTime<Utc>) -> Result<String, Error> {
    let seen = meetings::seen(conn, actor, meeting_id, now)?;
    build(conn, &seen.meeting, seen.restricted)
}

/// The report as observers and guests may see it (no closed-session item): the basis of a
/// communiqué.
pub fn public_markdown(conn: &mut DbConnection, meeting: &crate::meetings::model::MeetingRow) -> Result<String, Error> {
    build(conn, meeting, true)
}

fn build(conn: &mut DbConnection, m: &crate::meetings::model::MeetingRow, restricted: bool) -> Result<String, Error> {
    let body: String = bodies::table.find(m.body_id).select(bodies::name).first(conn)?;
    let agenda = meetings::agenda_view(conn, m, restricted)?;
    let tz: chrono_tz::Tz = m.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let mut out = String::new();
    let _ = writeln!(out, "# {body}: {}\n", m.title);
    let _ = writeln!(
        out,
        "{} to {} ({}){}\n",
        m.starts_at.and_utc().with_timezone(&tz).format("%-d %B %Y"),
        m.ends_at.and_utc().with_timezone(&tz).format("%-d %B %Y"),
        m.time_zone,
        if m.venue.is_empty() { String::new() } else { format!(", {}", m.venue) }
    );
    let _ = writeln!(
        out,
        "## Agenda{}\n",
        match agenda.adopted_at {
            Some(at) => format!(" (adopted {})", at.with_timezone(&tz).format("%-d %B %Y")),
            None => " (proposed)".into(),
        }
    );
    for item in &agenda.items {
        let depth = item.number.matches('.').count();
        let _ = writeln!(out, "{}{}. {} — {}", "   ".repeat(depth), item.number, item.title, item.state.as_str());
    }
    if !agenda.amendments.is_empty() {
        let _ = writeln!(out, "\n### As amended\n");
        for a in &agenda.amendments {
            let what = a.title.clone().unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} {} {} {}: {what} {}",
                a.at.format("%-d %B %H:%M"),
                a.by,
                a.action,
                a.number.clone().unwrap_or_default(),
                a.detail
            );
        }
    }
    let _ = writeln!(out, "\n## Attendance\n");
    let attendance = meetings::attendance(conn, m.id)?;
    if attendance.is_empty() {
        let _ = writeln!(out, "No delegate registered.");
    }
    let mut by_org: Vec<(String, Vec<String>)> = Vec::new();
    for a in attendance {
        match by_org.iter_mut().find(|(o, _)| *o == a.organisation.name) {
            Some((_, names)) => names.push(a.user.display_name),
            None => by_org.push((a.organisation.name, vec![a.user.display_name])),
        }
    }
    for (org, names) in by_org {
        let _ = writeln!(out, "- **{org}**: {}", names.join(", "));
    }
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
    let _ = writeln!(out, "\n## Decisions adopted\n");
    if adopted.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for (number, title, text, _) in &adopted {
        let _ = writeln!(out, "### {number} — {title}\n\n{}\n", text.trim_end());
    }
    let recorded: Vec<(String, String, String, String)> = draft_objections::table
        .inner_join(drafts::table)
        .inner_join(organisations::table.on(organisations::id.eq(draft_objections::organisation_id)))
        .filter(draft_objections::draft_id.eq_any(&draft_ids))
        .order(draft_objections::id.asc())
        .select((drafts::title, draft_objections::kind, organisations::name, draft_objections::reason))
        .load(conn)?;
    if !recorded.is_empty() {
        let _ = writeln!(out, "## Objections and abstentions recorded\n");
        for (title, kind, org, reason) in recorded {
            let _ = writeln!(out, "- {title}: {kind} by {org} — {reason}");
        }
    }
    let open: Vec<(i64, String)> = drafts::table
        .filter(drafts::id.eq_any(&draft_ids))
        .filter(drafts::stage.ne("adopted"))
        .filter(drafts::stage.ne("withdrawn"))
        .select((drafts::id, drafts::title))
        .load(conn)?;
    if !open.is_empty() {
        let _ = writeln!(out, "\n## Drafts still open\n");
        for (id, title) in open {
            let text = crate::drafting::service::stored_text(conn, id)?;
            let b = brackets::parse(&text);
            let state = if b.clean { "clean text".to_string() } else { b.summary() };
            let _ = writeln!(out, "- {title}: {state}");
        }
    }
    Ok(out)
}

/// The report as a print-ready HTML page (escaped; the Markdown kept as preformatted text under
/// headings, so nothing a delegate wrote is ever interpreted as markup).
pub fn html(markdown: &str) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut body = String::new();
    let mut para = String::new();
    let flush = |para: &mut String, body: &mut String| {
        if !para.trim().is_empty() {
            body.push_str(&format!("<p>{}</p>\n", escape(para.trim()).replace('\n', "<br>")));
        }
        para.clear();
    };
    for line in markdown.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            flush(&mut para, &mut body);
            body.push_str(&format!("<h3>{}</h3>\n", escape(h)));
        } else if let Some(h) = line.strip_prefix("## ") {
            flush(&mut para, &mut body);
            body.push_str(&format!("<h2>{}</h2>\n", escape(h)));
        } else if let Some(h) = line.strip_prefix("# ") {
            flush(&mut para, &mut body);
            body.push_str(&format!("<h1>{}</h1>\n", escape(h)));
        } else if line.trim().is_empty() {
            flush(&mut para, &mut body);
        } else {
            para.push_str(line);
            para.push('\n');
        }
    }
    flush(&mut para, &mut body);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Meeting report</title>\n<style>body{{font-family:Georgia,serif;max-width:46em;margin:2em auto;line-height:1.5;color:#111}}h1,h2,h3{{font-family:sans-serif}}@media print{{body{{margin:0}}a{{color:inherit}}}}</style></head><body>\n{body}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_escapes_what_delegates_wrote() {
        let page = super::html("# Report\n\nA <script>alert(1)</script> & more\n\n## Decisions");
        assert!(page.contains("<h1>Report</h1>") && page.contains("<h2>Decisions</h2>"));
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"));
    }
}
