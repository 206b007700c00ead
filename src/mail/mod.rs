//! Outgoing mail: the one place that sends it.
//!
//! Callers [`enqueue`] a rendered [`Template`] into the `mail_outbox` table inside their own
//! transaction, so a mail exists exactly when the change that caused it committed. A background
//! sender ([`run_outbox`]) delivers due mail through the configured [`Mailer`] backend (SMTP, a
//! folder of `.eml` files, or memory), retrying with exponential backoff: a mail server that is
//! down loses nothing, and mail goes out once it is back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::config::{MailConfig, MailTransport, SmtpSecurity};
use crate::db::schema::mail_outbox;
use crate::db::{Db, DbConnection};
use crate::error::Error;

/// A mail the body sends; its subject, text and HTML are files under `src/mail/templates/<name>/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// An invitation to join a delegation (`link`, `name`, `organisation`, `invited_by`, `expires`).
    Invitation,
    /// A password-reset link (`link`, `name`, `expires`).
    PasswordReset,
    /// The chair of a body changes hands (`name`, `body`, `on`, `time_zone`, `outgoing`, `incoming`, `link`).
    ChairHandover,
    /// A body's chair will have no successor (`name`, `body`, `on`, `message`, `link`).
    ChairMissingSuccessor,
    /// A meeting is convened (`name`, `meeting`, `body`, `when`, `venue`, `agenda`, `link`), with its .ics.
    MeetingConvened,
    /// A meeting's date or venue changed, or it is cancelled (as above, and `status`), with its .ics.
    MeetingUpdated,
    /// A text circulated for adoption in writing (`name`, `title`, `deadline`, `link`, `text`).
    WrittenProcedure,
    /// The deadline of a written procedure is near (`name`, `title`, `deadline`, `link`).
    WrittenProcedureReminder,
    /// A participant objected in writing (`name`, `title`, `objector`, `reason`, `link`).
    SilenceBroken,
    /// Before a meeting, a participant's open and overdue recommendations (`name`,
    /// `organisation`, `meeting`, `body`, `when`, `overdue`, `overdue_count`, `open`,
    /// `open_count`, `link`).
    RecommendationDigest,
}

impl Template {
    fn name(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::ChairHandover => "chair_handover",
            Self::ChairMissingSuccessor => "chair_missing_successor",
            Self::MeetingConvened => "meeting_convened",
            Self::MeetingUpdated => "meeting_updated",
            Self::WrittenProcedure => "written_procedure",
            Self::WrittenProcedureReminder => "written_procedure_reminder",
            Self::SilenceBroken => "silence_broken",
            Self::RecommendationDigest => "recommendation_digest",
        }
    }

    fn files(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Invitation => (
                include_str!("templates/invitation/subject.txt"),
                include_str!("templates/invitation/body.txt"),
                include_str!("templates/invitation/body.html"),
            ),
            Self::PasswordReset => (
                include_str!("templates/password_reset/subject.txt"),
                include_str!("templates/password_reset/body.txt"),
                include_str!("templates/password_reset/body.html"),
            ),
            Self::ChairHandover => (
                include_str!("templates/chair_handover/subject.txt"),
                include_str!("templates/chair_handover/body.txt"),
                include_str!("templates/chair_handover/body.html"),
            ),
            Self::ChairMissingSuccessor => (
                include_str!("templates/chair_missing_successor/subject.txt"),
                include_str!("templates/chair_missing_successor/body.txt"),
                include_str!("templates/chair_missing_successor/body.html"),
            ),
            Self::MeetingConvened => (
                include_str!("templates/meeting_convened/subject.txt"),
                include_str!("templates/meeting_convened/body.txt"),
                include_str!("templates/meeting_convened/body.html"),
            ),
            Self::MeetingUpdated => (
                include_str!("templates/meeting_updated/subject.txt"),
                include_str!("templates/meeting_updated/body.txt"),
                include_str!("templates/meeting_updated/body.html"),
            ),
            Self::WrittenProcedure => (
                include_str!("templates/written_procedure/subject.txt"),
                include_str!("templates/written_procedure/body.txt"),
                include_str!("templates/written_procedure/body.html"),
            ),
            Self::WrittenProcedureReminder => (
                include_str!("templates/written_procedure_reminder/subject.txt"),
                include_str!("templates/written_procedure_reminder/body.txt"),
                include_str!("templates/written_procedure_reminder/body.html"),
            ),
            Self::SilenceBroken => (
                include_str!("templates/silence_broken/subject.txt"),
                include_str!("templates/silence_broken/body.txt"),
                include_str!("templates/silence_broken/body.html"),
            ),
            Self::RecommendationDigest => (
                include_str!("templates/recommendation_digest/subject.txt"),
                include_str!("templates/recommendation_digest/body.txt"),
                include_str!("templates/recommendation_digest/body.html"),
            ),
        }
    }
}

/// A rendered mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn fill(template: &str, vars: &HashMap<&str, String>, escape: bool) -> String {
    let mut out = template.to_string();
    for (key, value) in vars {
        let value = if escape { html_escape(value) } else { value.clone() };
        out = out.replace(&format!("{{{{{key}}}}}"), &value);
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Renders `template` with `vars` plus the body's name and public URL.
pub fn render(template: Template, cfg: &MailConfig, public_url: &str, vars: &[(&'static str, String)]) -> Rendered {
    let mut all: HashMap<&str, String> = vars.iter().cloned().collect();
    all.insert("body_name", cfg.body_name.clone());
    all.insert("public_url", public_url.trim_end_matches('/').to_string());
    let (subject, text, html) = template.files();
    Rendered {
        subject: fill(subject.trim(), &all, false).replace(['\r', '\n'], " "),
        text: fill(text, &all, false),
        html: fill(html, &all, true),
    }
}

/// A file sent with a mail (a meeting's .ics).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    /// The file's text.
    pub content: String,
}

/// Puts a mail in the outbox (call inside the transaction of the change that causes it).
pub fn enqueue(conn: &mut DbConnection, to: &str, template: Template, mail: Rendered) -> Result<(), Error> {
    enqueue_with(conn, to, template, mail, &[])
}

/// [`enqueue`] with attachments.
pub fn enqueue_with(
    conn: &mut DbConnection,
    to: &str,
    template: Template,
    mail: Rendered,
    attachments: &[Attachment],
) -> Result<(), Error> {
    let now = crate::db::now();
    let attachments = serde_json::to_string(attachments).map_err(Error::internal)?;
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::recipient.eq(to),
            mail_outbox::template.eq(template.name()),
            mail_outbox::subject.eq(&mail.subject),
            mail_outbox::text_body.eq(&mail.text),
            mail_outbox::html_body.eq(&mail.html),
            mail_outbox::created_at.eq(now),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(now),
            mail_outbox::attachments.eq(attachments),
        ))
        .execute(conn)?;
    Ok(())
}

/// A mail kept by the memory backend.
#[derive(Clone, Debug)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

enum Backend {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
    Memory(Mutex<Vec<SentMail>>),
}

/// Delivers mail through one backend; shared by the outbox sender.
pub struct Mailer {
    backend: Backend,
    from: Mailbox,
    config: MailConfig,
    wake: Notify,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("transport", &self.config.transport).field("from", &self.from).finish()
    }
}

impl Mailer {
    /// Builds the configured backend (no connection is made until the first mail).
    pub fn new(cfg: &MailConfig) -> anyhow::Result<Self> {
        let from: Mailbox =
            cfg.from.parse().map_err(|e| anyhow::anyhow!("--mail-from {:?} is not an address: {e}", cfg.from))?;
        let backend = match cfg.transport {
            MailTransport::Smtp => {
                let mut builder = match cfg.smtp_security {
                    SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.smtp_host),
                    SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.smtp_host)?,
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.smtp_host)?,
                }
                .port(cfg.smtp_port)
                .timeout(Some(Duration::from_secs(15)));
                if let (Some(user), Some(password)) = (&cfg.smtp_username, &cfg.smtp_password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
                }
                tracing::info!(host = %cfg.smtp_host, port = cfg.smtp_port, security = ?cfg.smtp_security, "mail goes out by SMTP");
                Backend::Smtp(builder.build())
            }
            MailTransport::File => {
                std::fs::create_dir_all(&cfg.dir)?;
                let dir = std::fs::canonicalize(&cfg.dir)?;
                tracing::info!(dir = %dir.display(), "mail is written as .eml files, not sent");
                Backend::File(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
            MailTransport::Memory => Backend::Memory(Mutex::new(Vec::new())),
        };
        Ok(Self { backend, from, config: cfg.clone(), wake: Notify::new() })
    }

    /// The mail settings.
    pub fn config(&self) -> &MailConfig {
        &self.config
    }

    /// Tells the sender there is new mail (call after the enqueuing transaction committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// What the memory backend holds (empty for the others).
    pub fn sent(&self) -> Vec<SentMail> {
        match &self.backend {
            Backend::Memory(list) => list.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            _ => Vec::new(),
        }
    }

    async fn deliver(&self, row: &OutboxRow) -> anyhow::Result<()> {
        let attachments: Vec<Attachment> = serde_json::from_str(&row.attachments)?;
        if let Backend::Memory(list) = &self.backend {
            list.lock().unwrap_or_else(|p| p.into_inner()).push(SentMail {
                to: row.recipient.clone(),
                subject: row.subject.clone(),
                text: row.text_body.clone(),
                html: row.html_body.clone(),
                attachments,
            });
            return Ok(());
        }
        let body = MultiPart::alternative_plain_html(row.text_body.clone(), row.html_body.clone());
        let body = if attachments.is_empty() {
            body
        } else {
            let mut mixed = MultiPart::mixed().multipart(body);
            for a in attachments {
                let content_type = lettre::message::header::ContentType::parse(&a.content_type)?;
                mixed = mixed.singlepart(lettre::message::Attachment::new(a.filename).body(a.content, content_type));
            }
            mixed
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(row.recipient.parse()?)
            .subject(&row.subject)
            .multipart(body)?;
        match &self.backend {
            Backend::Smtp(t) => {
                t.send(message).await?;
            }
            Backend::File(t) => {
                t.send(message).await?;
            }
            Backend::Memory(_) => {}
        }
        Ok(())
    }
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = mail_outbox)]
struct OutboxRow {
    id: i64,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    attachments: String,
}

/// How long a claimed mail is reserved for the instance sending it.
const LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// Claims due mail: a row is taken by moving its `next_attempt_at` into the future only if it
/// still has the value we read, so two instances never send the same mail.
fn claim_due(db: &Db) -> Result<Vec<OutboxRow>, Error> {
    db.write_blocking(|c| {
        let now = crate::db::now();
        let due: Vec<OutboxRow> = mail_outbox::table
            .filter(mail_outbox::sent_at.is_null())
            .filter(mail_outbox::next_attempt_at.le(now))
            .order(mail_outbox::id.asc())
            .limit(20)
            .select(OutboxRow::as_select())
            .load(c)?;
        let mut claimed = Vec::new();
        for row in due {
            let n = diesel::update(mail_outbox::table)
                .filter(mail_outbox::id.eq(row.id))
                .filter(mail_outbox::next_attempt_at.eq(row.next_attempt_at))
                .set(mail_outbox::next_attempt_at.eq(now + LEASE))
                .execute(c)?;
            if n == 1 {
                claimed.push(row);
            }
        }
        Ok(claimed)
    })
}

fn backoff(cfg: &MailConfig, attempts: i32) -> chrono::Duration {
    let exp = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    let secs = cfg.retry_secs.max(1).saturating_mul(2u64.saturating_pow(exp)).min(cfg.retry_max_secs.max(1));
    chrono::Duration::seconds(i64::try_from(secs).unwrap_or(300))
}

/// Sends every due mail once; returns how many were delivered.
pub async fn send_due(db: &Db, mailer: &Mailer) -> Result<usize, Error> {
    let claimer = db.clone();
    let rows = actix_web::rt::task::spawn_blocking(move || claim_due(&claimer))
        .await
        .map_err(|e| Error::internal(anyhow::anyhow!("{e}")))??;
    let mut delivered = 0;
    for row in rows {
        let result = mailer.deliver(&row).await;
        let (id, attempts) = (row.id, row.attempts + 1);
        match result {
            Ok(()) => {
                delivered += 1;
                tracing::info!(mail = id, to = %row.recipient, "mail delivered");
                db.write(move |c| {
                    diesel::update(mail_outbox::table.find(id))
                        .set((mail_outbox::sent_at.eq(crate::db::now()), mail_outbox::attempts.eq(attempts)))
                        .execute(c)?;
                    Ok(())
                })
                .await?;
            }
            Err(err) => {
                let retry = backoff(mailer.config(), row.attempts);
                tracing::warn!(mail = id, attempts, error = %err, retry_in_secs = retry.num_seconds(), "mail delivery failed; will retry");
                let message = format!("{err:#}");
                db.write(move |c| {
                    diesel::update(mail_outbox::table.find(id))
                        .set((
                            mail_outbox::attempts.eq(attempts),
                            mail_outbox::last_error.eq(message),
                            mail_outbox::next_attempt_at.eq(crate::db::now() + retry),
                        ))
                        .execute(c)?;
                    Ok(())
                })
                .await?;
            }
        }
    }
    Ok(delivered)
}

/// The background sender: delivers due mail when woken, and at least every second.
pub async fn run_outbox(db: Db, mailer: Arc<Mailer>) {
    loop {
        if let Err(err) = send_due(&db, &mailer).await {
            tracing::warn!(error = %err, "outbox pass failed");
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), mailer.wake.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_and_escape() {
        let cfg = MailConfig { body_name: "Kimberley Process".into(), ..MailConfig::memory() };
        let mail = render(
            Template::Invitation,
            &cfg,
            "https://kp.example.org/",
            &[
                ("name", "Ada <Admin>".into()),
                ("organisation", "Botswana".into()),
                ("invited_by", "The Secretariat".into()),
                ("link", "https://kp.example.org/invitation?token=abc".into()),
                ("expires", "2026-12-05 10:00".into()),
            ],
        );
        assert_eq!(mail.subject, "Kimberley Process: you are invited to join the delegation of Botswana");
        assert!(mail.text.contains("Dear Ada <Admin>,"));
        assert!(mail.html.contains("Dear Ada &lt;Admin&gt;,"));
        assert!(mail.text.contains("https://kp.example.org/invitation?token=abc"));
        assert!(!mail.text.contains("{{"), "{}", mail.text);
        assert!(!mail.html.contains("{{"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cfg = MailConfig { retry_secs: 5, retry_max_secs: 300, ..MailConfig::memory() };
        assert_eq!(backoff(&cfg, 0).num_seconds(), 5);
        assert_eq!(backoff(&cfg, 1).num_seconds(), 10);
        assert_eq!(backoff(&cfg, 10).num_seconds(), 300);
    }
}
