//! Mail about a meeting to every invited delegation: convened (with the agenda and the .ics),
//! updated (a new date or venue: the same calendar event, a higher `SEQUENCE`), cancelled. Each
//! delegation gets the agenda as it may see it: observers and guests never get a closed item.

use std::collections::HashMap;

use diesel::prelude::*;

use super::model::{InvitationRole, MeetingRow};
use super::service::agenda_view;
use crate::accounts::service::MailContext;
use crate::db::DbConnection;
use crate::db::schema::{bodies, meeting_invitations, organisations};
use crate::error::Error;
use crate::mail::{self, Attachment, Template};

/// Which mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    Convened,
    Updated,
    Cancelled,
}

/// Queues the notice for every active delegate of every invited organisation.
pub fn mail_invited(
    conn: &mut DbConnection,
    meeting: &MeetingRow,
    notice: Notice,
    ctx: &MailContext,
) -> Result<(), Error> {
    let names: HashMap<i64, String> =
        bodies::table.select((bodies::id, bodies::short_name)).load::<(i64, String)>(conn)?.into_iter().collect();
    let body_name: String = bodies::table.find(meeting.body_id).select(bodies::name).first(conn)?;
    let invited: Vec<(i64, String, String)> = meeting_invitations::table
        .inner_join(organisations::table)
        .filter(meeting_invitations::meeting_id.eq(meeting.id))
        .select((organisations::id, organisations::kind, meeting_invitations::role))
        .load(conn)?;
    let tz: chrono_tz::Tz = meeting.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let when = format!(
        "{} to {} ({})",
        meeting.starts_at.and_utc().with_timezone(&tz).format("%A %-d %B %Y, %H:%M"),
        meeting.ends_at.and_utc().with_timezone(&tz).format("%A %-d %B %Y, %H:%M"),
        meeting.time_zone
    );
    let venue = match (&meeting.venue, &meeting.online_url) {
        (v, Some(u)) if !v.is_empty() => format!("{v} (online: {u})"),
        (_, Some(u)) => format!("online: {u}"),
        (v, None) => v.clone(),
    };
    let link = format!("{}/meetings/{}", ctx.public_url.trim_end_matches('/'), meeting.id);
    let (template, status) = match notice {
        Notice::Convened => (Template::MeetingConvened, "is convened"),
        Notice::Updated => (Template::MeetingUpdated, "has changed"),
        Notice::Cancelled => (Template::MeetingUpdated, "is cancelled"),
    };
    for restricted in [false, true] {
        let agenda = agenda_view(conn, meeting, restricted)?;
        let agenda_text = if agenda.items.is_empty() {
            "(the agenda has not been published yet)".to_string()
        } else {
            agenda.items.iter().map(|i| format!("{} {}", i.number, i.title)).collect::<Vec<_>>().join("\n")
        };
        let ics = super::calendar::calendar(&[(meeting, &agenda)], &names, &ctx.public_url);
        let orgs: Vec<i64> = invited
            .iter()
            .filter(|(_, kind, role)| {
                let is_restricted =
                    kind != "participant" && kind != "secretariat" || role == InvitationRole::Guest.as_str();
                is_restricted == restricted
            })
            .map(|(id, _, _)| *id)
            .collect();
        let recipients = crate::accounts::service::reachable(conn, crate::accounts::service::Delegates::Of(&orgs))?;
        for (email, name) in recipients {
            let rendered = mail::render(
                template,
                &ctx.mail,
                &ctx.public_url,
                &[
                    ("name", name),
                    ("meeting", meeting.title.clone()),
                    ("body", body_name.clone()),
                    ("status", status.into()),
                    ("when", when.clone()),
                    ("venue", venue.clone()),
                    ("agenda", agenda_text.clone()),
                    ("link", link.clone()),
                ],
            );
            let attachment = Attachment {
                filename: "meeting.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                content: ics.clone(),
            };
            mail::enqueue_with(conn, &email, template, rendered, &[attachment])?;
        }
    }
    Ok(())
}
