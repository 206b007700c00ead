//! The one scheduler for timed work: every `--scheduler-secs` it asks each area's services to do
//! what has come due at the clock's now: written procedures and timed calls for objections
//! ending in silence, their reminders, chair successions, handover notices, missing-successor
//! warnings and the recommendation digests before meetings. Each unit of work is claimed in the
//! database — the body's row lock while a rotation is applied, a unique notice (or digest) row
//! before a mail is queued — so several instances running the scheduler do each thing exactly
//! once.

use std::time::Duration;

use crate::app::AppState;
use crate::bodies;
use crate::decisions::service::DecisionContext;
use crate::error::Error;

/// Runs the due work once at the clock's now: written procedures and timed calls for
/// objections that ended in silence are adopted (their rooms and meeting feeds told); then the
/// chairs' work. Returns how many mails were queued (or decisions adopted).
pub async fn run_once(state: &AppState, ctx: &DecisionContext) -> Result<usize, Error> {
    let (db, clock) = (&state.db, &state.clock);
    let (now, decisions_ctx) = (clock.now(), ctx.clone());
    let adopted = db.write(move |c| crate::decisions::service::run_due(c, now, &decisions_ctx)).await?;
    for draft in &adopted {
        state.draft_stepped(*draft).await;
    }
    let mail = &ctx.mail;
    let ids = db.read(bodies::service::all_ids).await?;
    let mut queued = 0;
    for id in ids {
        let (now, ctx) = (clock.now(), mail.clone());
        // One body per transaction: a body that fails does not hold up the others.
        match db.write(move |c| bodies::service::run_for_body(c, id, now, &ctx)).await {
            Ok(n) => queued += n,
            Err(err) => tracing::warn!(body = id, %err, "scheduled chair work failed; retried on the next run"),
        }
    }
    let digests = crate::recommendations::digest::DigestContext {
        mail: mail.clone(),
        lead: chrono::Duration::days(state.config.digest_lead_days.max(0)),
    };
    let now = clock.now();
    // Claimed per (meeting, participant): a run that loses the race to another instance sends
    // nothing, and one that fails is retried on the next run.
    match db.write(move |c| crate::recommendations::digest::run_due(c, now, &digests)).await {
        Ok(n) => queued += n,
        Err(err) => tracing::warn!(%err, "recommendation digests failed; retried on the next run"),
    }
    Ok(queued + adopted.len())
}

/// Runs [`run_once`] every `every` until the task is dropped, waking the mail sender when mail
/// was queued.
pub async fn run(state: AppState, every: Duration) {
    let ctx = state.decision_context();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match run_once(&state, &ctx).await {
            Ok(0) => {}
            Ok(_) => state.mailer.wake(),
            Err(err) => tracing::warn!(%err, "scheduler run failed"),
        }
    }
}
