//! The digest before each meeting: when a body's convened meeting starts within the lead time
//! (`--digest-lead-days`), each participant addressed by that body's recommendations gets one
//! mail to its delegates listing its overdue and open records (code, title, status, due date,
//! link). Once per (meeting, participant): the `recommendation_digests` row is claimed
//! (`INSERT … ON CONFLICT DO NOTHING`) in the transaction that queues the mail, so of two
//! instances running the scheduler at once only the one whose claim inserted sends; the other
//! waits for that commit (PostgreSQL) or fails its write (SQLite) and sends nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::stocktaking::{Cut, RecordState, Scope, load};
use crate::accounts::model::OrganisationKind;
use crate::accounts::service::MailContext;
use crate::db::DbConnection;
use crate::db::schema::{meetings, recommendation_digests, users};
use crate::error::Error;
use crate::mail::{self, Template};

/// What the digest needs from the configuration.
#[derive(Clone, Debug)]
pub struct DigestContext {
    pub mail: MailContext,
    /// How long before a meeting starts its digests go out.
    pub lead: chrono::Duration,
}

/// Queues the digests that have come due at `now`; returns how many mails were queued.
pub fn run_due(conn: &mut DbConnection, now: DateTime<Utc>, ctx: &DigestContext) -> Result<usize, Error> {
    let (at, until) = (now.naive_utc(), (now + ctx.lead).naive_utc());
    let due: Vec<(i64, i64, String, NaiveDateTime, String)> = meetings::table
        .filter(meetings::state.eq("convened"))
        .filter(meetings::starts_at.gt(at))
        .filter(meetings::starts_at.le(until))
        .order((meetings::starts_at.asc(), meetings::id.asc()))
        .select((meetings::id, meetings::body_id, meetings::title, meetings::starts_at, meetings::time_zone))
        .load(conn)?;
    let mut queued = 0;
    for (id, body_id, title, starts_at, time_zone) in due {
        let meeting = Meeting { id, body_id, title, starts_at, time_zone };
        queued += digest_meeting(conn, &meeting, now, ctx)?;
    }
    Ok(queued)
}

struct Meeting {
    id: i64,
    body_id: i64,
    title: String,
    starts_at: NaiveDateTime,
    time_zone: String,
}

/// The digests of one meeting: one per participant with a record that is not closed.
fn digest_meeting(
    conn: &mut DbConnection,
    meeting: &Meeting,
    now: DateTime<Utc>,
    ctx: &DigestContext,
) -> Result<usize, Error> {
    let body = crate::bodies::service::load_body(conn, meeting.body_id)?;
    let end = now.naive_utc() + chrono::Duration::microseconds(1);
    let history = load(conn, Scope { body_id: Some(body.id), include_restricted: true }, &[end], None)?;
    let ix = super::stocktaking::Indexed::new(&history);
    let cut = Cut { date: body.today(now), end, issued_only: true };
    let mut open: BTreeMap<i64, Vec<RecordState<'_>>> = BTreeMap::new();
    for s in ix.states(&cut) {
        if let Some(org) = &s.addressee.organisation
            && org.kind == OrganisationKind::Participant
            && !s.status.is_final
        {
            open.entry(org.id).or_default().push(s);
        }
    }
    let tz: chrono_tz::Tz = meeting.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let when = meeting.starts_at.and_utc().with_timezone(&tz).format("%A %-d %B %Y, %H:%M").to_string();
    let base = ctx.mail.public_url.trim_end_matches('/').to_string();
    let mut queued = 0;
    for (organisation_id, records) in open {
        if !claim(conn, meeting.id, organisation_id, now)? {
            continue;
        }
        let organisation = records.first().and_then(|s| s.addressee.organisation.as_ref()).map(|o| o.name.clone());
        let line = |s: &RecordState<'_>| {
            let r = s.recommendation;
            let due = r.due_on.map(|d| format!(", due {}", d.format("%-d %B %Y"))).unwrap_or_default();
            format!("- {} {}: {}{due}. {base}/recommendations/{}", r.code, r.title, s.status.label, r.id)
        };
        let (overdue, pending): (Vec<_>, Vec<_>) = records.iter().partition(|s| s.overdue);
        let list = |items: &[&RecordState<'_>]| {
            if items.is_empty() {
                "None.".to_string()
            } else {
                items.iter().map(|s| line(s)).collect::<Vec<_>>().join("\n")
            }
        };
        let recipients: Vec<(String, String)> = users::table
            .filter(users::organisation_id.eq(organisation_id))
            .filter(users::disabled.eq(false))
            .filter(users::password_hash.is_not_null())
            .order(users::id.asc())
            .select((users::email, users::display_name))
            .load(conn)?;
        for (email, name) in recipients {
            let rendered = mail::render(
                Template::RecommendationDigest,
                &ctx.mail.mail,
                &ctx.mail.public_url,
                &[
                    ("name", name),
                    ("organisation", organisation.clone().unwrap_or_default()),
                    ("meeting", meeting.title.clone()),
                    ("body", body.name.clone()),
                    ("when", when.clone()),
                    ("overdue", list(&overdue)),
                    ("overdue_count", overdue.len().to_string()),
                    ("open", list(&pending)),
                    ("open_count", pending.len().to_string()),
                    ("link", format!("{base}/participants/{organisation_id}/recommendations")),
                ],
            );
            mail::enqueue(conn, &email, Template::RecommendationDigest, rendered)?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// Claims the digest of (meeting, organisation): true if this transaction inserted the row.
/// `ON CONFLICT DO NOTHING` is written per backend (diesel's multi-backend connection has no
/// upsert); on PostgreSQL a concurrent claim waits for this one to commit, then does nothing.
fn claim(conn: &mut DbConnection, meeting_id: i64, organisation_id: i64, now: DateTime<Utc>) -> Result<bool, Error> {
    let row = (
        recommendation_digests::meeting_id.eq(meeting_id),
        recommendation_digests::organisation_id.eq(organisation_id),
        recommendation_digests::sent_at.eq(now.naive_utc()),
    );
    let inserted = match conn {
        DbConnection::Postgresql(pg) => {
            diesel::insert_into(recommendation_digests::table).values(row).on_conflict_do_nothing().execute(pg)?
        }
        DbConnection::Sqlite(lite) => {
            diesel::insert_into(recommendation_digests::table).values(row).on_conflict_do_nothing().execute(lite)?
        }
    };
    Ok(inserted == 1)
}
