//! The steps from a shared text to a decision: final reading, a call for objections (with an
//! optional window), objections and abstentions, declared adoption, the written (silence)
//! procedure with its deadline, withdrawal; versions saved on every step; and the numbered,
//! frozen decisions. Each step is the chair's at the instant of the request (from the terms in
//! force), audited, and decided by a compare-and-set on the draft's stage and round, so when an
//! objection and an adoption race, the one committed first wins and the other gets a 409.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use yrs::{ReadTxn, Transact};

use super::model::{Decision, Diff, NewObjection, Objection, Procedure, Stance, Version, VersionSummary, diff, number};
use crate::accounts::actor::Actor;
use crate::accounts::service::MailContext;
use crate::audit::{self, AuditEntry};
use crate::db::DbConnection;
use crate::db::schema::{decisions, draft_objections, draft_versions, drafts, organisations, users};
use crate::drafting::brackets;
use crate::drafting::model::{DraftRow, DraftStage};
use crate::drafting::{service as drafting, store};
use crate::error::Error;
use crate::mail::{self, Template};
use crate::policy::{Action, Standing, authorize};

/// What the decision steps need from the configuration.
#[derive(Clone, Debug)]
pub struct DecisionContext {
    pub mail: MailContext,
    /// `AD {year}/{seq:02}`.
    pub number_format: String,
    /// How long before a written procedure's deadline the reminder goes out.
    pub reminder: Duration,
}

fn standing(conn: &mut DbConnection, actor: &Actor, draft: &DraftRow, now: DateTime<Utc>) -> Result<Standing, Error> {
    match draft.body_id {
        Some(body) => crate::bodies::service::standing(conn, actor, body, now),
        None => Ok(Standing::default()),
    }
}

/// The draft, if the actor chairs its body now (and may read it).
fn conducted(conn: &mut DbConnection, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<DraftRow, Error> {
    let draft = drafting::find(conn, actor, id)?;
    let standing = standing(conn, actor, &draft, now)?;
    authorize(actor, &Action::ConductDecision { standing })?;
    Ok(draft)
}

fn current_text(conn: &mut DbConnection, id: i64) -> Result<(String, Vec<u8>), Error> {
    let doc = store::load(conn, id)?.to_doc()?;
    let text = store::text_of(&doc);
    let data = doc.transact().encode_state_as_update_v1(&yrs::StateVector::default());
    Ok((text, data))
}

/// 409 listing the open brackets unless the text is clean.
fn require_clean(text: &str, what: &str) -> Result<(), Error> {
    let b = brackets::parse(text);
    if b.clean { Ok(()) } else { Err(Error::Conflict(format!("{what} needs a clean text: {}", b.summary()))) }
}

/// Saves the document's state as the next version.
pub fn save_version(
    conn: &mut DbConnection,
    draft: &DraftRow,
    label: &str,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i32, Error> {
    let (text, data) = current_text(conn, draft.id)?;
    let last: Option<i32> = draft_versions::table
        .filter(draft_versions::draft_id.eq(draft.id))
        .select(diesel::dsl::max(draft_versions::n))
        .first(conn)?;
    let n = last.unwrap_or(0) + 1;
    let stage = drafts::table.find(draft.id).select(drafts::stage).first::<String>(conn)?;
    diesel::insert_into(draft_versions::table)
        .values((
            draft_versions::draft_id.eq(draft.id),
            draft_versions::n.eq(n),
            draft_versions::label.eq(label),
            draft_versions::stage.eq(stage),
            draft_versions::text.eq(text),
            draft_versions::data.eq(data),
            draft_versions::created_by.eq(by),
            draft_versions::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(n)
}

/// Moves the draft from one of `from` to `to` if it is still there (compare-and-set); 409
/// naming where it is otherwise.
fn advance(
    conn: &mut DbConnection,
    draft: &DraftRow,
    from: &[DraftStage],
    to: DraftStage,
    now: DateTime<Utc>,
    extra: impl FnOnce(&mut DbConnection) -> Result<(), Error>,
) -> Result<DraftRow, Error> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let n = diesel::update(drafts::table.find(draft.id))
        .filter(drafts::stage.eq_any(&from))
        .filter(drafts::round.eq(draft.round))
        .set((drafts::stage.eq(to.as_str()), drafts::updated_at.eq(now.naive_utc())))
        .execute(conn)?;
    if n == 0 {
        let now_at = drafting::load(conn, draft.id)?;
        return Err(Error::Conflict(format!(
            "the draft is {} now, so it cannot become {}",
            now_at.stage.as_str(),
            to.as_str()
        )));
    }
    extra(conn)?;
    // Meetings whose agenda links the draft show its new stage live; the drafting rooms of
    // other instances learn it at commit.
    crate::meetings::service::draft_changed(conn, draft.id, now)?;
    drafting::announce_stage(conn, draft.id)?;
    drafting::load(conn, draft.id)
}

fn audited(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    action: &'static str,
    before: &DraftRow,
    after: &DraftRow,
) -> Result<(), Error> {
    let entry = match actor {
        Some(a) => AuditEntry::by(a, action, "draft", before.id),
        None => AuditEntry::system(action, "draft", before.id, &after.audit_json()),
    };
    audit::record(conn, entry.diff(&before.audit_json(), &after.audit_json()))
}

/// Final reading: the clean text is read out; only the chair may still mend it.
pub fn final_reading(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<DraftRow, Error> {
    let draft = conducted(conn, actor, id, now)?;
    require_clean(&current_text(conn, id)?.0, "final reading")?;
    let after = advance(conn, &draft, &[DraftStage::Drafting], DraftStage::FinalReading, now, |_| Ok(()))?;
    save_version(conn, &after, "final reading", Some(actor.user_id), now)?;
    audited(conn, Some(actor), "draft.final_reading", &draft, &after)?;
    Ok(after)
}

/// Back to drafting (from final reading, a call for objections, or broken silence).
pub fn reopen(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<DraftRow, Error> {
    let draft = conducted(conn, actor, id, now)?;
    let from = [DraftStage::FinalReading, DraftStage::CallForObjections, DraftStage::SilenceBroken];
    let after = advance(conn, &draft, &from, DraftStage::Drafting, now, |c| {
        diesel::update(drafts::table.find(id))
            .set((drafts::objections_until.eq(None::<NaiveDateTime>), drafts::deadline.eq(None::<NaiveDateTime>)))
            .execute(c)?;
        Ok(())
    })?;
    audited(conn, Some(actor), "draft.reopen", &draft, &after)?;
    Ok(after)
}

/// Calls for objections, for `minutes` if given.
pub fn call_for_objections(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    minutes: Option<i64>,
) -> Result<DraftRow, Error> {
    if minutes.is_some_and(|m| !(1..=10_080).contains(&m)) {
        return Err(Error::invalid("minutes", "must be between 1 and 10080 (a week)"));
    }
    let draft = conducted(conn, actor, id, now)?;
    require_clean(&current_text(conn, id)?.0, "a call for objections")?;
    let until = minutes.map(|m| (now + Duration::minutes(m)).naive_utc());
    let after = advance(
        conn,
        &draft,
        &[DraftStage::Drafting, DraftStage::FinalReading],
        DraftStage::CallForObjections,
        now,
        |c| {
            diesel::update(drafts::table.find(id))
                .set((
                    drafts::round.eq(draft.round + 1),
                    drafts::objections_until.eq(until),
                    drafts::deadline.eq(None::<NaiveDateTime>),
                ))
                .execute(c)?;
            Ok(())
        },
    )?;
    save_version(conn, &after, "as called for objections", Some(actor.user_id), now)?;
    audited(conn, Some(actor), "draft.call_for_objections", &draft, &after)?;
    Ok(after)
}

/// Records an objection (which returns the draft to drafting, or breaks silence) or an
/// abstention (which blocks nothing).
pub fn object(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: NewObjection,
    ctx: &DecisionContext,
) -> Result<DraftRow, Error> {
    let reason = crate::validate::long_text("reason", &input.reason, 4_000)?;
    if reason.is_empty() {
        return Err(Error::invalid("reason", "is required: say why"));
    }
    let draft = drafting::find(conn, actor, id)?;
    authorize(actor, &Action::Object)?;
    let kind = input.kind.unwrap_or(Stance::Objection);
    let procedure = match draft.stage {
        DraftStage::CallForObjections => Procedure::Consensus,
        DraftStage::WrittenProcedure => Procedure::Written,
        other => {
            return Err(Error::Conflict(format!("nothing to object to: the draft is {}", other.as_str())));
        }
    };
    let closes = match procedure {
        Procedure::Consensus => draft.objections_until,
        Procedure::Written => draft.deadline,
    };
    if closes.is_some_and(|t| t <= now.naive_utc()) {
        return Err(Error::Conflict("the time for objections is over".into()));
    }
    let after = if kind == Stance::Objection {
        let to = if procedure == Procedure::Consensus { DraftStage::Drafting } else { DraftStage::SilenceBroken };
        advance(conn, &draft, &[draft.stage], to, now, |_| Ok(()))?
    } else {
        draft.clone()
    };
    diesel::insert_into(draft_objections::table)
        .values((
            draft_objections::draft_id.eq(id),
            draft_objections::round.eq(draft.round),
            draft_objections::procedure.eq(procedure.as_str()),
            draft_objections::kind.eq(kind.as_str()),
            draft_objections::user_id.eq(actor.user_id),
            draft_objections::organisation_id.eq(actor.organisation_id),
            draft_objections::reason.eq(&reason),
            draft_objections::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    // An abstention moves nothing, but the rooms list it too.
    if kind == Stance::Abstention {
        drafting::announce_stage(conn, id)?;
    }
    audit::record(
        conn,
        AuditEntry::by(actor, if kind == Stance::Objection { "draft.object" } else { "draft.abstain" }, "draft", id)
            .created(&json!({"round": draft.round, "procedure": procedure, "reason": reason})),
    )?;
    if kind == Stance::Objection && procedure == Procedure::Written {
        mail_participants(
            conn,
            &after,
            Template::SilenceBroken,
            &[("objector", actor.organisation_name.clone()), ("reason", reason)],
            &ctx.mail,
        )?;
    }
    Ok(after)
}

/// Declares the draft adopted by consensus (no objection was committed in this round).
pub fn adopt(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    ctx: &DecisionContext,
) -> Result<Decision, Error> {
    let draft = conducted(conn, actor, id, now)?;
    if draft.stage != DraftStage::CallForObjections {
        return Err(Error::Conflict(format!(
            "adoption is declared after a call for objections; the draft is {}",
            draft.stage.as_str()
        )));
    }
    adopt_now(conn, Some(actor), &draft, Procedure::Consensus, now, ctx)
}

/// Adopts `draft` (still at its stage and round, or 409): numbers the decision, freezes the
/// text, saves the adopted version.
fn adopt_now(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    draft: &DraftRow,
    procedure: Procedure,
    at: DateTime<Utc>,
    ctx: &DecisionContext,
) -> Result<Decision, Error> {
    let after = advance(conn, draft, &[draft.stage], DraftStage::Adopted, at, |_| Ok(()))?;
    let version = save_version(conn, &after, "as adopted", actor.map(|a| a.user_id), at)?;
    let (text, _) = current_text(conn, draft.id)?;
    // The year is the body's: a decision adopted at 00:30 on 1 January in Gaborone is of the new
    // year there, whatever the year in UTC.
    let (short, year) = match draft.body_id {
        Some(body) => {
            // One numbering per body and year: take the body's row lock while counting.
            crate::bodies::service::lock_body(conn, body)?;
            let row = crate::bodies::service::load_body(conn, body)?;
            let year = at.with_timezone(&row.tz()).year();
            (row.short_name, year)
        }
        None => (String::new(), at.year()),
    };
    let mut q = decisions::table.filter(decisions::year.eq(year)).select(diesel::dsl::max(decisions::seq)).into_boxed();
    q = match draft.body_id {
        Some(body) => q.filter(decisions::body_id.eq(body)),
        None => q.filter(decisions::body_id.is_null()),
    };
    let seq = q.first::<Option<i32>>(conn)?.unwrap_or(0) + 1;
    let num = number(&ctx.number_format, year, seq, &short);
    let id: i64 = diesel::insert_into(decisions::table)
        .values((
            decisions::draft_id.eq(draft.id),
            decisions::body_id.eq(draft.body_id),
            decisions::year.eq(year),
            decisions::seq.eq(seq),
            decisions::number.eq(&num),
            decisions::title.eq(&draft.title),
            decisions::text.eq(&text),
            decisions::procedure.eq(procedure.as_str()),
            decisions::adopted_at.eq(at.naive_utc()),
            decisions::adopted_by.eq(actor.map(|a| a.user_id)),
            decisions::version_n.eq(version),
        ))
        .returning(decisions::id)
        .get_result(conn)?;
    audited(conn, actor, "draft.adopt", draft, &after)?;
    audit::record(
        conn,
        match actor {
            Some(a) => AuditEntry::by(a, "decision.adopt", "decision", id),
            None => AuditEntry::system("decision.adopt", "decision", id, &json!({"number": num})),
        }
        .created(&json!({"number": num, "draft_id": draft.id, "procedure": procedure, "adopted_at": at})),
    )?;
    find_row(conn, id)
}

/// Circulates the clean text in writing until `deadline`; every participant's delegates are
/// mailed the text and the deadline.
pub fn written_procedure(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    deadline: DateTime<Utc>,
    ctx: &DecisionContext,
) -> Result<DraftRow, Error> {
    if deadline <= now {
        return Err(Error::invalid("deadline", "must be in the future"));
    }
    let draft = conducted(conn, actor, id, now)?;
    let (text, _) = current_text(conn, id)?;
    require_clean(&text, "a written procedure")?;
    let from = [DraftStage::Drafting, DraftStage::FinalReading, DraftStage::SilenceBroken];
    let after = advance(conn, &draft, &from, DraftStage::WrittenProcedure, now, |c| {
        diesel::update(drafts::table.find(id))
            .set((
                drafts::round.eq(draft.round + 1),
                drafts::deadline.eq(deadline.naive_utc()),
                drafts::objections_until.eq(None::<NaiveDateTime>),
                drafts::reminded_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        Ok(())
    })?;
    save_version(conn, &after, &format!("as circulated {}", now.format("%-d %B %Y")), Some(actor.user_id), now)?;
    audited(conn, Some(actor), "draft.written_procedure", &draft, &after)?;
    mail_participants(conn, &after, Template::WrittenProcedure, &[("text", text)], &ctx.mail)?;
    Ok(after)
}

/// Withdraws the draft (anything but an adopted one).
pub fn withdraw(conn: &mut DbConnection, actor: &Actor, now: DateTime<Utc>, id: i64) -> Result<DraftRow, Error> {
    let draft = conducted(conn, actor, id, now)?;
    let from = [
        DraftStage::Drafting,
        DraftStage::FinalReading,
        DraftStage::CallForObjections,
        DraftStage::WrittenProcedure,
        DraftStage::SilenceBroken,
    ];
    let after = advance(conn, &draft, &from, DraftStage::Withdrawn, now, |_| Ok(()))?;
    audited(conn, Some(actor), "draft.withdraw", &draft, &after)?;
    Ok(after)
}

fn mail_participants(
    conn: &mut DbConnection,
    draft: &DraftRow,
    template: Template,
    extra: &[(&'static str, String)],
    ctx: &MailContext,
) -> Result<(), Error> {
    let recipients =
        crate::accounts::service::reachable(conn, crate::accounts::service::Delegates::ActiveParticipants)?;
    let deadline = draft.deadline.map(|d| d.format("%A %-d %B %Y, %H:%M UTC").to_string()).unwrap_or_default();
    let link = format!("{}/drafts/{}", ctx.public_url.trim_end_matches('/'), draft.id);
    for (email, name) in recipients {
        let mut vars = vec![
            ("name", name),
            ("title", draft.title.clone()),
            ("deadline", deadline.clone()),
            ("link", link.clone()),
        ];
        vars.extend(extra.iter().cloned());
        let rendered = mail::render(template, &ctx.mail, &ctx.public_url, &vars);
        mail::enqueue(conn, &email, template, rendered)?;
    }
    Ok(())
}

// ---- the scheduler's part ----------------------------------------------------------------

/// Adopts what has come due at `now` — a call for objections whose window ended in silence, a
/// written procedure whose deadline passed — recording the window's end or the deadline (not
/// the moment the server noticed) as the adoption time; and sends each written procedure's
/// reminder once. Each draft is claimed by its compare-and-set, so two instances, or a server
/// that was down at the deadline, adopt exactly once. Returns the drafts adopted.
pub fn run_due(conn: &mut DbConnection, now: DateTime<Utc>, ctx: &DecisionContext) -> Result<Vec<i64>, Error> {
    let at = now.naive_utc();
    let due: Vec<DraftRow> = drafts::table
        .filter(
            drafts::stage
                .eq(DraftStage::CallForObjections.as_str())
                .and(drafts::objections_until.le(at))
                .or(drafts::stage.eq(DraftStage::WrittenProcedure.as_str()).and(drafts::deadline.le(at))),
        )
        .select(DraftRow::as_select())
        .load(conn)?;
    let mut adopted = Vec::new();
    for draft in due {
        let (procedure, when) = match draft.stage {
            DraftStage::WrittenProcedure => (Procedure::Written, draft.deadline),
            _ => (Procedure::Consensus, draft.objections_until),
        };
        let when = when.map(|t| t.and_utc()).unwrap_or(now);
        match adopt_now(conn, None, &draft, procedure, when, ctx) {
            Ok(_) => adopted.push(draft.id),
            // Another instance adopted it, or an objection came first: nothing to do.
            Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let remind_from = (now + ctx.reminder).naive_utc();
    let reminders: Vec<DraftRow> = drafts::table
        .filter(drafts::stage.eq(DraftStage::WrittenProcedure.as_str()))
        .filter(drafts::reminded_at.is_null())
        .filter(drafts::deadline.le(remind_from))
        .filter(drafts::deadline.gt(at))
        .select(DraftRow::as_select())
        .load(conn)?;
    for draft in reminders {
        let claimed = diesel::update(drafts::table.find(draft.id))
            .filter(drafts::reminded_at.is_null())
            .set(drafts::reminded_at.eq(at))
            .execute(conn)?;
        if claimed == 1 {
            mail_participants(conn, &draft, Template::WrittenProcedureReminder, &[], &ctx.mail)?;
        }
    }
    Ok(adopted)
}

// ---- reading -------------------------------------------------------------------------------

/// The objections and abstentions recorded on a draft.
pub fn objections(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<Vec<Objection>, Error> {
    drafting::find(conn, actor, id)?;
    type Row = (i64, i32, String, String, String, String, String, NaiveDateTime);
    let rows: Vec<Row> = draft_objections::table
        .inner_join(users::table)
        .inner_join(organisations::table.on(organisations::id.eq(draft_objections::organisation_id)))
        .filter(draft_objections::draft_id.eq(id))
        .order(draft_objections::id.asc())
        .select((
            draft_objections::id,
            draft_objections::round,
            draft_objections::procedure,
            draft_objections::kind,
            users::display_name,
            organisations::name,
            draft_objections::reason,
            draft_objections::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, round, procedure, kind, user, organisation, reason, at)| {
            Some(Objection {
                id,
                round,
                procedure: procedure.parse().ok()?,
                kind: kind.parse().ok()?,
                user,
                organisation,
                reason,
                created_at: at.and_utc(),
            })
        })
        .collect())
}

/// Saves the current state as a named version (participants' delegates and the secretariat).
pub fn new_version(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    label: &str,
) -> Result<VersionSummary, Error> {
    let label = crate::validate::text("label", label, 200, true)?;
    let draft = drafting::find(conn, actor, id)?;
    authorize(actor, &Action::SaveVersion)?;
    let n = save_version(conn, &draft, &label, Some(actor.user_id), now)?;
    audit::record(conn, AuditEntry::by(actor, "draft.version", "draft", id).created(&json!({"n": n, "label": label})))?;
    versions(conn, actor, id)?
        .into_iter()
        .find(|v| v.n == n)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("version just saved is missing")))
}

/// Every saved version of a draft, oldest first.
pub fn versions(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<Vec<VersionSummary>, Error> {
    drafting::find(conn, actor, id)?;
    let rows: Vec<(i32, String, String, Option<String>, NaiveDateTime)> = draft_versions::table
        .left_join(users::table.on(users::id.nullable().eq(draft_versions::created_by)))
        .filter(draft_versions::draft_id.eq(id))
        .order(draft_versions::n.asc())
        .select((
            draft_versions::n,
            draft_versions::label,
            draft_versions::stage,
            users::display_name.nullable(),
            draft_versions::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(n, label, stage, created_by, at)| VersionSummary {
            n,
            label,
            stage,
            created_by,
            created_at: at.and_utc(),
        })
        .collect())
}

fn version_text(conn: &mut DbConnection, id: i64, n: i32) -> Result<String, Error> {
    draft_versions::table
        .filter(draft_versions::draft_id.eq(id))
        .filter(draft_versions::n.eq(n))
        .select(draft_versions::text)
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("draft {id} has no version {n}")))
}

/// One version with its text.
pub fn version(conn: &mut DbConnection, actor: &Actor, id: i64, n: i32) -> Result<Version, Error> {
    let summary = versions(conn, actor, id)?
        .into_iter()
        .find(|v| v.n == n)
        .ok_or_else(|| Error::NotFound(format!("draft {id} has no version {n}")))?;
    Ok(Version { summary, text: version_text(conn, id, n)? })
}

/// The word-level diff from version `from` to version `to` (or the current text).
pub fn diff_of(conn: &mut DbConnection, actor: &Actor, id: i64, from: i32, to: Option<i32>) -> Result<Diff, Error> {
    drafting::find(conn, actor, id)?;
    let old = version_text(conn, id, from)?;
    let new = match to {
        Some(n) => version_text(conn, id, n)?,
        None => current_text(conn, id)?.0,
    };
    Ok(Diff { from, to, parts: diff(&old, &new) })
}

/// `forward`: the decisions the draft `id` amends or repeals; otherwise the decisions whose
/// drafts amend or repeal the decision `id`.
fn links(conn: &mut DbConnection, id: i64, forward: bool) -> Result<Vec<super::model::DecisionLink>, Error> {
    use crate::db::schema::decision_relations;
    let pairs: Vec<(i64, String)> = if forward {
        decision_relations::table
            .filter(decision_relations::draft_id.eq(id))
            .select((decision_relations::target_id, decision_relations::kind))
            .load(conn)?
    } else {
        let drafts_of: Vec<(i64, String)> = decision_relations::table
            .filter(decision_relations::target_id.eq(id))
            .select((decision_relations::draft_id, decision_relations::kind))
            .load(conn)?;
        let mut out = Vec::new();
        for (draft, kind) in drafts_of {
            if let Some(d) = decisions::table
                .filter(decisions::draft_id.eq(draft))
                .select(decisions::id)
                .first::<i64>(conn)
                .optional()?
            {
                out.push((d, kind));
            }
        }
        out
    };
    let mut out = Vec::new();
    for (decision, kind) in pairs {
        let (number, title): (String, String) =
            decisions::table.find(decision).select((decisions::number, decisions::title)).first(conn)?;
        out.push(super::model::DecisionLink {
            kind: kind.parse().map_err(Error::internal)?,
            decision_id: decision,
            number,
            title,
        });
    }
    Ok(out)
}

/// Declares that the draft, once adopted, amends or repeals an adopted decision (the chair,
/// before adoption).
pub fn relate(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: super::model::NewRelation,
) -> Result<Vec<super::model::DecisionLink>, Error> {
    use crate::db::schema::decision_relations;
    let draft = conducted(conn, actor, id, now)?;
    if matches!(draft.stage, DraftStage::Adopted | DraftStage::Withdrawn) {
        return Err(Error::Conflict(format!("the draft is {}: its relations are settled", draft.stage.as_str())));
    }
    let target: Option<i64> =
        decisions::table.find(input.decision_id).select(decisions::draft_id).first(conn).optional()?;
    match target {
        None => return Err(Error::invalid("decision_id", "no such decision")),
        Some(target_draft) if target_draft == id => {
            return Err(Error::invalid("decision_id", "a draft cannot amend itself"));
        }
        Some(_) => {}
    }
    diesel::delete(decision_relations::table.find((id, input.decision_id))).execute(conn)?;
    diesel::insert_into(decision_relations::table)
        .values((
            decision_relations::draft_id.eq(id),
            decision_relations::target_id.eq(input.decision_id),
            decision_relations::kind.eq(input.kind.as_str()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "draft.relate", "draft", id)
            .created(&json!({"kind": input.kind, "decision_id": input.decision_id})),
    )?;
    links(conn, id, true)
}

fn find_row(conn: &mut DbConnection, id: i64) -> Result<Decision, Error> {
    type Row = (i64, String, String, String, Option<i64>, i64, String, NaiveDateTime, i32);
    let row: Row = decisions::table
        .find(id)
        .select((
            decisions::id,
            decisions::number,
            decisions::title,
            decisions::text,
            decisions::body_id,
            decisions::draft_id,
            decisions::procedure,
            decisions::adopted_at,
            decisions::version_n,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no decision {id}")))?;
    let relates_to = links(conn, row.5, true)?;
    let related_by = links(conn, row.0, false)?;
    Ok(Decision {
        relates_to,
        related_by,
        id: row.0,
        number: row.1,
        title: row.2,
        text: row.3,
        body_id: row.4,
        draft_id: row.5,
        procedure: row.6.parse().map_err(Error::internal)?,
        adopted_at: row.7.and_utc(),
        version: row.8,
    })
}

/// The register: adopted decisions, newest first, filtered by body, year and words.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    body_id: Option<i64>,
    year: Option<i32>,
    words: Option<&str>,
) -> Result<Vec<Decision>, Error> {
    authorize(actor, &Action::ReadDraft { linked_for_guest: false })?;
    let mut q =
        decisions::table.select(decisions::id).order((decisions::adopted_at.desc(), decisions::id.desc())).into_boxed();
    if let Some(body) = body_id {
        q = q.filter(decisions::body_id.eq(body));
    }
    if let Some(year) = year {
        q = q.filter(decisions::year.eq(year));
    }
    let ids: Vec<i64> = q.load(conn)?;
    let words: Vec<String> = words.unwrap_or("").split_whitespace().map(str::to_lowercase).collect();
    let mut out = Vec::new();
    for id in ids {
        let d = find_row(conn, id)?;
        let hay = format!("{} {} {}", d.number, d.title, d.text).to_lowercase();
        if words.iter().all(|w| hay.contains(w)) {
            out.push(d);
        }
    }
    Ok(out)
}

/// One decision.
pub fn find(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<Decision, Error> {
    authorize(actor, &Action::ReadDraft { linked_for_guest: false })?;
    find_row(conn, id)
}

/// A decision as Markdown (the same content as its HTML page and its PDF).
pub fn markdown(d: &Decision) -> String {
    super::document::decision(d).markdown()
}

/// The current text (or version `version`) as passages by author, with the organisations'
/// shares: the authorship colours and their legend.
pub fn authorship(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    version: Option<i32>,
) -> Result<super::model::Authorship, Error> {
    use super::model::{AuthorShare, Authorship, Passage};
    use crate::accounts::model::{Organisation, OrganisationRef, OrganisationRow};
    use crate::bodies::model::PersonRef;
    use crate::db::schema::draft_authors;
    use crate::drafting::authorship::{AuthorRange, passages};
    use yrs::updates::decoder::Decode;
    drafting::find(conn, actor, id)?;
    let doc = match version {
        None => store::load(conn, id)?.to_doc()?,
        Some(n) => {
            let data: Vec<u8> = draft_versions::table
                .filter(draft_versions::draft_id.eq(id))
                .filter(draft_versions::n.eq(n))
                .select(draft_versions::data)
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::NotFound(format!("draft {id} has no version {n}")))?;
            let doc = store::new_doc();
            let update = yrs::Update::decode_v1(&data)
                .map_err(|e| Error::internal(anyhow::anyhow!("version unreadable: {e}")))?;
            doc.transact_mut()
                .apply_update(update)
                .map_err(|e| Error::internal(anyhow::anyhow!("version does not apply: {e}")))?;
            doc
        }
    };
    let index: Vec<AuthorRange> = draft_authors::table
        .filter(draft_authors::draft_id.eq(id))
        .select((
            draft_authors::client_id,
            draft_authors::clock_start,
            draft_authors::clock_end,
            draft_authors::user_id,
        ))
        .load::<(i64, i64, i64, i64)>(conn)?
        .into_iter()
        .map(|(client, start, end, user)| AuthorRange {
            client: u64::try_from(client).unwrap_or_default(),
            start: u64::try_from(start).unwrap_or_default(),
            end: u64::try_from(end).unwrap_or_default(),
            user,
        })
        .collect();
    let cut = passages(&doc, &index);
    let mut user_ids: Vec<i64> = cut.iter().filter_map(|(_, u)| *u).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let people: std::collections::HashMap<i64, (PersonRef, OrganisationRef)> = users::table
        .inner_join(organisations::table)
        .filter(users::id.eq_any(&user_ids))
        .select((users::id, users::display_name, OrganisationRow::as_select()))
        .load::<(i64, String, OrganisationRow)>(conn)?
        .into_iter()
        .map(|(uid, name, org)| {
            (uid, (PersonRef { id: uid, display_name: name }, OrganisationRef::from(&Organisation::from(org))))
        })
        .collect();
    let mut legend: Vec<AuthorShare> = Vec::new();
    let passages: Vec<Passage> = cut
        .into_iter()
        .map(|(text, user)| {
            let who = user.and_then(|u| people.get(&u).cloned());
            if let Some((_, org)) = &who {
                let n = text.chars().count();
                match legend.iter_mut().find(|l| l.organisation.id == org.id) {
                    Some(l) => l.characters += n,
                    None => legend.push(AuthorShare { organisation: org.clone(), characters: n }),
                }
            }
            Passage { text, user: who.as_ref().map(|w| w.0.clone()), organisation: who.map(|w| w.1) }
        })
        .collect();
    legend.sort_by_key(|l| std::cmp::Reverse(l.characters));
    Ok(Authorship { version, passages, legend })
}

/// Turns a meeting's report, as observers may see it (it becomes a public communiqué), into a
/// draft of the meeting's body, belonging to the meeting, for the chair's team to co-edit live and
/// adopt like a decision.
pub fn draft_report(
    conn: &mut DbConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    meeting_id: i64,
) -> Result<DraftRow, Error> {
    let seen = crate::meetings::service::seen(conn, actor, meeting_id, now)?;
    let standing = crate::bodies::service::standing(conn, actor, seen.meeting.body_id, now)?;
    authorize(actor, &Action::ChairMeeting { standing })?;
    let text = super::report::public_markdown(conn, &seen.meeting)?;
    let input = crate::drafting::model::ValidNewDraft::try_from(crate::drafting::model::NewDraft {
        title: format!("Report and communiqué: {}", seen.meeting.title).chars().take(300).collect(),
        body_id: Some(seen.meeting.body_id),
        meeting_id: Some(seen.meeting.id),
        agenda_item_id: None,
    })?;
    let id = drafting::insert(conn, actor.user_id, now.naive_utc(), &input, &text)?;
    let row = drafting::load(conn, id)?;
    audit::record(
        conn,
        AuditEntry::by(actor, "meeting.report_draft", "draft", id).created(&json!({"meeting_id": meeting_id})),
    )?;
    Ok(row)
}
