//! HTTP read benchmark: authenticated reads under `wrk`, next to a trivial endpoint's ceiling on
//! the same server. Prints figures; asserts nothing about speed.
//!
//! ```sh
//! cargo bench --bench http_reads
//! cargo bench --bench http_reads -- --database-url postgres://postgres@127.0.0.1:5432/empty_db
//! cargo bench --bench http_reads -- --secs 10 --connections 64 --threads 2 --logins 20
//! ```
//! It seeds the demo with the release `plenum` binary (or `$PLENUM_BIN`) on a fresh SQLite file
//! (or the empty database of `--database-url`), starts the server as a separate process, signs in
//! as a participant's delegate and runs Debian's `wrk` (`apt-get install wrk`) with the session
//! as `Authorization: Bearer` against `/healthz` (the ceiling: no session, no database), `GET
//! /api/me`, the agenda of the demo meeting with the most items, `GET /api/drafts` and the
//! stocktaking of the plenary. For each it prints requests/s, p50 and p99 (`wrk --latency`), the
//! ratio to `/healthz` and the server's CPU. Then the agenda again with sign-ins beside it: a loop
//! here posts `POST /api/auth/login` for another demo account at `--logins` per second (argon2id,
//! 19 MiB × 2 passes, on the server's blocking pool: CPU-heavy by design) and reports their
//! latency and how much the agenda's p99 rose.
//!
//! Every run is `wrk -t{threads} -c{connections} -d{secs}s --latency` after a 2-second warm-up
//! with the same settings. `wrk` and the server share the machine's cores, as the targets assume.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod support;

use support::{AnyError, Options, Server, arg, cpu_secs, login_with as login};

/// The reader: a participant's delegate (Botswana).
const READER: &str = "kabo.molefe@bw.kp.example";
/// The account the sign-in loop uses (another participant's delegate).
const SIGNER: &str = "elena.martens@ec.kp.example";
const WRK: &str = "/usr/bin/wrk";

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Result<serde_json::Value, AnyError> {
    let res = http.get(url).bearer_auth(token).send().await?;
    if !res.status().is_success() {
        return Err(format!("GET {url}: {}", res.status()).into());
    }
    Ok(res.json().await?)
}

/// The items of a list answer, whether it is a bare array or a page (`{items: […]}`).
fn items(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v.as_array().or_else(|| v["items"].as_array()).cloned().unwrap_or_default()
}

/// The endpoints measured, as (label, path), each checked to answer 200 for the reader first.
async fn endpoints(http: &reqwest::Client, base: &str, token: &str) -> Result<Vec<(String, String)>, AnyError> {
    let meetings = items(&get_json(http, &format!("{base}/api/meetings"), token).await?);
    let mut agenda: Option<(usize, i64)> = None;
    for m in &meetings {
        let Some(id) = m["id"].as_i64() else { continue };
        let Ok(a) = get_json(http, &format!("{base}/api/meetings/{id}/agenda"), token).await else { continue };
        let n = a["items"].as_array().map_or(0, Vec::len);
        if agenda.is_none_or(|(best, _)| n > best) {
            agenda = Some((n, id));
        }
    }
    let (agenda_items, meeting) = agenda.ok_or("the reader sees no meeting")?;
    let bodies = items(&get_json(http, &format!("{base}/api/bodies"), token).await?);
    let plenary = bodies
        .iter()
        .find(|b| b["short_name"] == "KP")
        .or_else(|| bodies.first())
        .and_then(|b| b["id"].as_i64())
        .ok_or("no body")?;
    let list = [
        ("GET /healthz".to_string(), "/healthz".to_string()),
        ("GET /api/me".into(), "/api/me".into()),
        (format!("GET agenda ({agenda_items} items)"), format!("/api/meetings/{meeting}/agenda")),
        ("GET /api/drafts".into(), "/api/drafts".into()),
        ("GET /api/stocktaking".into(), format!("/api/stocktaking?body_id={plenary}")),
    ];
    for (_, path) in &list {
        get_json(http, &format!("{base}{path}"), token).await?;
    }
    Ok(list.into_iter().collect())
}

/// What one `wrk` run measured.
#[derive(Debug, Default, Clone, Copy)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Responses that were not 2xx/3xx, plus socket errors.
    errors: u64,
    /// Server CPU over the run, in cores (1.0 = one core busy all the time).
    server_cores: f64,
}

/// A wrk duration (`812.00us`, `1.23ms`, `2.01s`, `1.5m`) in milliseconds.
fn wrk_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => return None,
    })
}

/// Reads requests/s, the 50th and 99th percentiles and the errors from `wrk --latency` output.
fn parse_wrk(out: &str) -> Result<Run, AnyError> {
    let mut run = Run::default();
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => run.rps = v.parse()?,
            ["50%", v] => run.p50_ms = wrk_ms(v).ok_or("bad p50")?,
            ["99%", v] => run.p99_ms = wrk_ms(v).ok_or("bad p99")?,
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                // `Socket errors: connect 0, read 0, write 0, timeout 0`
                run.errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            _ => {}
        }
    }
    if run.rps == 0.0 {
        return Err(format!("cannot read wrk's output:\n{out}").into());
    }
    Ok(run)
}

#[derive(Clone, Copy)]
struct Load {
    threads: u32,
    connections: u32,
    secs: u32,
}

fn wrk(load: Load, url: &str, token: &str, secs: u32) -> Result<String, AnyError> {
    let out = Command::new(WRK)
        .args([
            format!("-t{}", load.threads),
            format!("-c{}", load.connections),
            format!("-d{secs}s"),
            "--latency".into(),
            "-H".into(),
            format!("Authorization: Bearer {token}"),
            url.into(),
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!("wrk failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Warms up for 2 s, then measures for `load.secs`, with the server's CPU over the measured run.
async fn measure(server: &Server, load: Load, path: &str, token: &str) -> Result<Run, AnyError> {
    let (url, token, pid) = (format!("{}{path}", server.base), token.to_string(), server.pid().to_string());
    tokio::task::spawn_blocking(move || {
        wrk(load, &url, &token, 2)?;
        let (cpu, started) = (cpu_secs(&pid), Instant::now());
        let out = wrk(load, &url, &token, load.secs)?;
        let cores = (cpu_secs(&pid) - cpu) / started.elapsed().as_secs_f64();
        Ok(Run { server_cores: cores, ..parse_wrk(&out)? })
    })
    .await?
}

/// Sign-ins at `rate` per second until `stop`; returns their latencies (ms) and failures.
async fn sign_ins(base: String, rate: u32, stop: Arc<AtomicBool>) -> (Vec<f64>, u64) {
    let http = reqwest::Client::new();
    let failures = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let (http, base, failures) = (http.clone(), base.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            match login(&http, &base, SIGNER).await {
                Ok(_) => Some(t.elapsed().as_secs_f64() * 1000.0),
                Err(_) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    None
                }
            }
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        if let Ok(Some(ms)) = task.await {
            times.push(ms);
        }
    }
    times.sort_by(f64::total_cmp);
    (times, failures.load(Ordering::Relaxed))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn print_run(label: &str, run: &Run, ceiling: f64) {
    println!(
        "{label:<32} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>5.1} % of /healthz  server CPU {:.2} cores{}",
        run.rps,
        run.p50_ms,
        run.p99_ms,
        100.0 * run.rps / ceiling,
        run.server_cores,
        if run.errors > 0 { format!("  ({} errors!)", run.errors) } else { String::new() },
    );
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().collect();
    if !std::path::Path::new(WRK).exists() {
        return Err("wrk is not installed: apt-get install -y wrk".into());
    }
    let num = |name: &str, default: u32| arg(&args, name).unwrap_or(default);
    let load = Load { threads: num("--threads", 2), connections: num("--connections", 64), secs: num("--secs", 10) };
    let rate = num("--logins", 20);
    let database_url: Option<String> = arg(&args, "--database-url");
    let backend =
        if database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    runtime.block_on(async move {
        let args = vec!["--scheduler-secs".into(), "0".into()];
        let server = Server::start(Options { database_url, demo: true, args, ..Options::default() }).await?;
        let http = reqwest::Client::new();
        let token = login(&http, &server.base, READER).await?;
        let list = endpoints(&http, &server.base, &token).await?;
        println!(
            "{backend}, demo data, `wrk -t{} -c{} -d{}s --latency` (after a 2 s warm-up), signed in as {READER}",
            load.threads, load.connections, load.secs
        );
        let mut ceiling = 0.0;
        let mut agenda = None;
        for (label, path) in &list {
            let run = measure(&server, load, path, &token).await?;
            if path == "/healthz" {
                ceiling = run.rps;
            }
            if path.ends_with("/agenda") {
                agenda = Some((label.clone(), path.clone(), run));
            }
            print_run(label, &run, ceiling);
        }
        let (label, path, quiet) = agenda.ok_or("no agenda measured")?;
        let stop = Arc::new(AtomicBool::new(false));
        let signer = tokio::spawn(sign_ins(server.base.clone(), rate, stop.clone()));
        let busy = measure(&server, load, &path, &token).await;
        stop.store(true, Ordering::Relaxed);
        let (times, failures) = signer.await?;
        let busy = busy?;
        print_run(&format!("{label} + {rate} sign-ins/s"), &busy, ceiling);
        println!(
            "  sign-ins beside it: {} done ({:.1}/s over the warm-up and run), {failures} failed, latency p50 {:.0} ms, p99 {:.0} ms; agenda p99 {:.2}× the quiet run's",
            times.len(),
            times.len() as f64 / f64::from(load.secs + 2),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            busy.p99_ms / quiet.p99_ms,
        );
        drop(server);
        Ok::<(), AnyError>(())
    })?;
    Ok(())
}
