//! Stocktaking benchmark: `GET /api/stocktaking` over 60 participants × 500 recommendations × 10
//! history entries per record (30,000 records, 300,000 entries). Prints figures.
//!
//! ```sh
//! cargo bench --bench stocktaking -- --requests 50
//! cargo bench --bench stocktaking -- --database-url postgres://…/empty_db --requests 50
//! ```
//! It seeds the demo with the release `plenum` binary (or `$PLENUM_BIN`) on a fresh SQLite file
//! (or the empty database of `--database-url`), creates a working group (with a closed meeting
//! a year before the date asked about) and 60 participants, and writes the recommendations,
//! their addressees and the entries directly with batch inserts. Then it starts the server as a
//! separate process and times N sequential stocktakings as the secretariat (`as_of` inside the
//! history, so every part — the previous meeting's comparison included — is computed), printing
//! p50/p99/max and the response size; and it times the loader and the pure computation
//! in-process, the latter also over the whole history (every entry loaded).

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use plenum::db::schema::{
    implementation_entries, meetings, organisations, recommendation_addressees, recommendation_themes, recommendations,
    users,
};
use plenum::db::{Db, DbConnection};
use plenum::recommendations::stocktaking::{self, Cut, History, Scope};

mod support;

use support::{AnyError, Options, Server, arg, login};

const ADMIN: &str = "admin@secretariat.kp.example";
const PARTICIPANTS: i64 = 60;
const RECOMMENDATIONS: i64 = 500;
const ENTRIES: i64 = 10;
const STATUSES: [&str; 6] =
    ["not_started", "in_progress", "partially_implemented", "implemented", "not_implemented", "superseded"];
const THEMES: [&str; 4] = ["transparency", "statistics", "technical assistance", "enforcement"];
const AS_OF: &str = "2022-06-30";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn noon(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(12, 0, 0).unwrap_or_default()
}

/// Runs the same diesel code on whichever backend the connection is (batch inserts are
/// backend-specific in diesel).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConnection::Sqlite($c) => $body,
            DbConnection::Postgresql($c) => $body,
        }
    };
}

/// Inserts rows in chunks small enough for SQLite's limit on bound parameters.
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {
        for chunk in $rows.chunks($per) {
            on_backend!(&mut *$conn, |c| diesel::insert_into($table).values(chunk).execute(c))?;
        }
    };
}

/// The working group, its meeting and participants, and the recommendations with their history.
fn seed(db: &Db, body: i64) -> Result<(), AnyError> {
    db.write_blocking(|conn| {
        let admin: i64 = users::table.filter(users::email_normalized.eq(ADMIN)).select(users::id).first(conn)?;
        let created = noon(date(2019, 12, 1));
        let orgs: Vec<_> = (1..=PARTICIPANTS)
            .map(|i| {
                (
                    organisations::kind.eq("participant"),
                    organisations::name.eq(format!("Bench participant {i:02}")),
                    organisations::short_code.eq(format!("B{i:02}")),
                    organisations::status.eq("active"),
                    organisations::admitted_on.eq(Some(date(2019, 1, 1))),
                    organisations::created_at.eq(created),
                    organisations::updated_at.eq(created),
                )
            })
            .collect();
        insert_chunks!(conn, organisations::table, orgs, 500);
        let org_ids: Vec<i64> = organisations::table
            .filter(organisations::short_code.like("B__"))
            .filter(organisations::name.like("Bench participant%"))
            .order(organisations::id.asc())
            .select(organisations::id)
            .load(conn)?;
        let meeting_at = noon(date(2022, 1, 15));
        on_backend!(&mut *conn, |c| diesel::insert_into(meetings::table)
            .values((
                meetings::body_id.eq(body),
                meetings::kind.eq("working_group"),
                meetings::title.eq("Bench meeting 2022"),
                meetings::time_zone.eq("UTC"),
                meetings::starts_at.eq(meeting_at),
                meetings::ends_at.eq(meeting_at + chrono::Duration::hours(6)),
                meetings::state.eq("closed"),
                meetings::created_by.eq(admin),
                meetings::created_at.eq(meeting_at),
                meetings::updated_at.eq(meeting_at),
            ))
            .execute(c))
        .map_err(plenum::error::Error::from)?;
        let vocabulary: i64 = plenum::db::schema::vocabularies::table
            .filter(plenum::db::schema::vocabularies::key.eq("simple"))
            .select(plenum::db::schema::vocabularies::id)
            .first(conn)?;
        let recs: Vec<_> = (0..RECOMMENDATIONS)
            .map(|i| {
                let issued = date(2020, 1, 1) + chrono::Duration::days(i);
                (
                    recommendations::code.eq(format!("BENCH/{i:03}")),
                    recommendations::title.eq(format!("Benchmark recommendation {i}")),
                    recommendations::text.eq("Participants should do what the benchmark says."),
                    recommendations::body_id.eq(body),
                    recommendations::issued_on.eq(issued),
                    recommendations::due_on.eq(Some(issued + chrono::Duration::days(365 + i % 400))),
                    recommendations::priority.eq("normal"),
                    recommendations::vocabulary_id.eq(vocabulary),
                    recommendations::source_kind.eq("report"),
                    recommendations::source_title.eq(format!("Annual report {}", 2019 + i % 5)),
                    recommendations::addressed_to.eq("participants"),
                    recommendations::restricted.eq(i % 10 == 0),
                    recommendations::created_by.eq(admin),
                    recommendations::created_at.eq(noon(issued)),
                    recommendations::updated_at.eq(noon(issued)),
                )
            })
            .collect();
        insert_chunks!(conn, recommendations::table, recs, 1000);
        let rec_ids: Vec<(i64, NaiveDate)> = recommendations::table
            .filter(recommendations::body_id.eq(body))
            .order(recommendations::id.asc())
            .select((recommendations::id, recommendations::issued_on))
            .load(conn)?;
        let themes: Vec<_> = rec_ids
            .iter()
            .enumerate()
            .map(|(i, (id, _))| {
                (recommendation_themes::recommendation_id.eq(*id), recommendation_themes::theme.eq(THEMES[i % 4]))
            })
            .collect();
        insert_chunks!(conn, recommendation_themes::table, themes, 5000);
        let addressees: Vec<_> = rec_ids
            .iter()
            .flat_map(|(id, _)| {
                org_ids.iter().map(move |org| {
                    (
                        recommendation_addressees::recommendation_id.eq(*id),
                        recommendation_addressees::organisation_id.eq(Some(*org)),
                    )
                })
            })
            .collect();
        insert_chunks!(conn, recommendation_addressees::table, addressees, 5000);
        let issued: std::collections::HashMap<i64, NaiveDate> = rec_ids.into_iter().collect();
        let records: Vec<(i64, i64, Option<i64>)> = recommendation_addressees::table
            .inner_join(recommendations::table)
            .filter(recommendations::body_id.eq(body))
            .select((
                recommendation_addressees::id,
                recommendation_addressees::recommendation_id,
                recommendation_addressees::organisation_id,
            ))
            .load(conn)?;
        // Ten entries per record, one every 40–80 days from its issue, the status moving on
        // (and now and then back: a correction).
        let mut entries = Vec::with_capacity(records.len() * 10);
        for (n, (addressee, rec, org)) in records.iter().enumerate() {
            let n = i64::try_from(n).unwrap_or_default();
            let mut at = noon(issued.get(rec).copied().unwrap_or_else(|| date(2020, 1, 1)));
            for k in 0..ENTRIES {
                at += chrono::Duration::days(40 + (n * 7 + k * 13) % 41) + chrono::Duration::minutes(n % 600);
                let status = STATUSES[usize::try_from((n + k * 3) % 6).unwrap_or_default()];
                entries.push((
                    implementation_entries::addressee_id.eq(*addressee),
                    implementation_entries::recommendation_id.eq(*rec),
                    implementation_entries::status.eq(status),
                    implementation_entries::note.eq("Progress as reported by the delegation."),
                    implementation_entries::recorded_by.eq(admin),
                    implementation_entries::recorded_for.eq(org.unwrap_or_default()),
                    implementation_entries::recorded_at.eq(at),
                ));
            }
        }
        insert_chunks!(conn, implementation_entries::table, entries, 4000);
        Ok(())
    })?;
    // Statistics for the planner, as autovacuum (PostgreSQL) or `ANALYZE` would have them on a
    // database that grew over years rather than in one second.
    db.read_blocking(|conn| {
        diesel::sql_query("ANALYZE").execute(conn)?;
        Ok(())
    })?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().collect();
    let requests: usize = arg(&args, "--requests").unwrap_or(50);
    let database_url: Option<String> = arg(&args, "--database-url");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let args = vec!["--scheduler-secs".into(), "0".into()];
        let server = Server::start(Options { database_url, demo: true, args, ..Options::default() }).await?;
        let url = server.database_url.clone();
        let http = reqwest::Client::new();
        let token = login(&server.base, ADMIN).await?;
        let bodies: serde_json::Value =
            http.get(format!("{}/api/bodies", server.base)).bearer_auth(&token).send().await?.json().await?;
        let plenary = bodies
            .as_array()
            .and_then(|b| b.iter().find(|b| b["short_name"] == "KP"))
            .and_then(|b| b["id"].as_i64())
            .ok_or("no plenary")?;
        let res = http
            .post(format!("{}/api/bodies", server.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": "Benchmark working group", "short_name": "WGB", "kind": "working_group",
                "parent_id": plenary, "mandate": "To be measured.", "created_on": "2019-01-01", "time_zone": "UTC"}))
            .send()
            .await?;
        let body = res.json::<serde_json::Value>().await?["id"].as_i64().ok_or("no body")?;

        let db = Db::connect_lazy(&plenum::config::DatabaseConfig::for_url(url.clone()))?;
        let started = Instant::now();
        let seeder = db.clone();
        tokio::task::spawn_blocking(move || seed(&seeder, body)).await??;
        println!(
            "seeded {PARTICIPANTS} participants × {RECOMMENDATIONS} recommendations × {ENTRIES} entries ({} records, {} entries) in {:.1} s on {}",
            PARTICIPANTS * RECOMMENDATIONS,
            PARTICIPANTS * RECOMMENDATIONS * ENTRIES,
            started.elapsed().as_secs_f64(),
            if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" },
        );

        let path = format!("{}/api/stocktaking?body_id={body}&as_of={AS_OF}", server.base);
        let first = http.get(&path).bearer_auth(&token).send().await?;
        if !first.status().is_success() {
            return Err(format!("GET {path}: {}", first.status()).into());
        }
        let sample: serde_json::Value = first.json().await?;
        let mut times = Vec::with_capacity(requests);
        let mut size = 0;
        for _ in 0..requests {
            let t = Instant::now();
            let res = http.get(&path).bearer_auth(&token).send().await?;
            let bytes = res.bytes().await?;
            times.push(t.elapsed());
            size = bytes.len();
        }
        times.sort();
        println!(
            "GET /api/stocktaking ({} records as of {AS_OF}, {} overdue, {} changes since the previous meeting) × {requests}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; response {:.1} kB",
            sample["records"],
            sample["overdue"],
            sample["since_previous_meeting"]["changes"].as_array().map_or(0, Vec::len),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(times.last().copied().unwrap_or_default()),
            size as f64 / 1000.0,
        );

        // In-process: the loader (the queries) and the pure computation on what it loads; then
        // the computation over the whole history.
        let timed = tokio::task::spawn_blocking(move || -> Result<(), AnyError> {
            let body_row = db.read_blocking(|c| plenum::bodies::service::load_body(c, body))?;
            let as_of: NaiveDate = AS_OF.parse()?;
            let cut = Cut::end_of(&body_row, as_of);
            let meeting_at = noon(date(2022, 1, 15));
            let then = Cut { date: meeting_at.date(), end: meeting_at, issued_only: true };
            let scope = Scope { body_id: Some(body), include_restricted: true };
            let reference = plenum::recommendations::model::BodyRef { id: body, name: "WGB".into(), short_name: "WGB".into() };
            let previous = stocktaking::PreviousMeeting { id: 0, title: "Bench meeting 2022".into(), starts_at: meeting_at.and_utc() };
            let mut load_times = Vec::new();
            let mut compute_times = Vec::new();
            let mut loaded = History::default();
            for _ in 0..10 {
                let t = Instant::now();
                loaded = db.read_consistent_blocking(|c| stocktaking::load(c, scope, &[cut.end, then.end], Some((then.end, cut.end))))?;
                load_times.push(t.elapsed());
                let t = Instant::now();
                let out = stocktaking::compute(&loaded, reference.clone(), &cut, Some((previous.clone(), then)));
                compute_times.push(t.elapsed());
                std::hint::black_box(out);
            }
            load_times.sort();
            compute_times.sort();
            println!(
                "in-process: load {:.1} ms (p50 of 10; {} entries read), compute {:.1} ms (p50 of 10)",
                ms(percentile(&load_times, 0.5)),
                loaded.entries.len(),
                ms(percentile(&compute_times, 0.5)),
            );
            let all: Vec<(i64, i64, String, NaiveDateTime)> = db.read_blocking(|c| {
                Ok(implementation_entries::table
                    .select((
                        implementation_entries::id,
                        implementation_entries::addressee_id,
                        implementation_entries::status,
                        implementation_entries::recorded_at,
                    ))
                    .load(c)?)
            })?;
            let mut full = loaded.clone();
            full.entries = all
                .into_iter()
                .map(|(id, addressee_id, status, recorded_at)| stocktaking::EntryFacts { id, addressee_id, status, recorded_at })
                .collect();
            let t = Instant::now();
            let whole = stocktaking::compute(&full, reference.clone(), &cut, Some((previous.clone(), then)));
            let whole_time = t.elapsed();
            let same = whole == stocktaking::compute(&loaded, reference, &cut, Some((previous, then)));
            println!(
                "in-process: compute over the whole history ({} entries) {:.1} ms; same result as on the loaded rows: {same}",
                full.entries.len(),
                ms(whole_time),
            );
            Ok(())
        })
        .await?;
        timed?;
        drop(server);
        Ok::<(), AnyError>(())
    })?;
    Ok(())
}
