//! Meeting live-feed fan-out benchmark. Prints figures; fails only when a follower misses an event.
//!
//! ```sh
//! cargo bench --bench meeting_fanout -- --followers 500 --rounds 50
//! ```
//! It starts the release `plenum` binary (or `$PLENUM_BIN`) as a separate process on a fresh
//! SQLite database (or `--database-url postgres://…` for an existing empty database), seeds the
//! demo, creates a plenary of the KP with 20 agenda items, convenes and opens it, and opens N
//! followers of `/api/meetings/{id}/live` spread over the demo's delegates. Then, R times, the
//! secretariat admin puts the next item on the floor; every follower's latency is the time from
//! just before the POST until its `current_item` event naming that item arrives. A follower that
//! has not received it within 10 s counts as a miss, and any miss makes the run fail.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

mod support;

use support::{AnyError, Options, Server, arg, login};

const ADMIN: &str = "admin@secretariat.kp.example";
/// The demo's delegates: followers are spread over them (participants and observers alike).
const FOLLOWERS: &[&str] = &[
    "admin@secretariat.kp.example",
    "elena.martens@ec.kp.example",
    "jan.devries@ec.kp.example",
    "kabo.molefe@bw.kp.example",
    "priya.raman@in.kp.example",
    "ndapewa.shikongo@na.kp.example",
    "kwame.mensah@gh.kp.example",
    "musu.kollie@lr.kp.example",
    "awa.kone@ci.kp.example",
    "claire.tremblay@ca.kp.example",
    "thabo.nkosi@za.kp.example",
    "dmitri.volkov@ru.kp.example",
    "noa.levi@il.kp.example",
    "joana.neto@ao.kp.example",
    "foday.sesay@sl.kp.example",
    "grace.whitfield@us.kp.example",
    "patrick.ilunga@cd.kp.example",
    "li.wei@cn.kp.example",
    "mariam.alfalasi@ae.kp.example",
    "tom.harding@au.kp.example",
    "tendai.moyo@zw.kp.example",
    "rafael.adler@wdc.kp.example",
    "alice.mwangi@csc.kp.example",
];
const ITEMS: usize = 20;
const DEADLINE: Duration = Duration::from_secs(10);
/// Followers connecting at once.
const CONNECT_CONCURRENCY: usize = 16;

/// A JSON request as `token`; an error unless it succeeds.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, AnyError> {
    let mut req = http.request(method.clone(), &url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        return Err(format!("{method} {url}: {status}: {text}").into());
    }
    Ok(if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text)? })
}

/// A KP plenary with `ITEMS` agenda items, convened and in session: its id and the items' ids.
async fn open_meeting(http: &reqwest::Client, base: &str, admin: &str) -> Result<(i64, Vec<i64>), AnyError> {
    let api = |path: &str| format!("http://{base}/api{path}");
    let bodies = call(http, reqwest::Method::GET, api("/bodies"), Some(admin), None).await?;
    let kp = bodies
        .as_array()
        .and_then(|b| b.iter().find(|b| b["short_name"] == "KP"))
        .and_then(|b| b["id"].as_i64())
        .ok_or("no body with short_name KP")?;
    let starts = chrono::Utc::now() + chrono::Duration::days(1);
    let new = serde_json::json!({
        "body_id": kp, "kind": "plenary", "title": "Fan-out benchmark plenary", "venue": "Bench",
        "time_zone": "Europe/Brussels", "starts_at": starts.to_rfc3339(),
        "ends_at": (starts + chrono::Duration::days(3)).to_rfc3339(),
    });
    let meeting = call(http, reqwest::Method::POST, api("/meetings"), Some(admin), Some(new)).await?;
    let id = meeting["id"].as_i64().ok_or("no meeting id")?;
    let mut items = Vec::with_capacity(ITEMS);
    for i in 1..=ITEMS {
        let item = serde_json::json!({"title": format!("Item {i}"), "purpose": "for_discussion", "presenter": "KPS"});
        let item = call(http, reqwest::Method::POST, api(&format!("/meetings/{id}/agenda")), Some(admin), Some(item));
        items.push(item.await?["id"].as_i64().ok_or("no item id")?);
    }
    for step in ["convene", "open"] {
        call(http, reqwest::Method::POST, api(&format!("/meetings/{id}/{step}")), Some(admin), None).await?;
    }
    Ok((id, items))
}

/// What a follower's reader reports, stamped when the frame arrived.
enum Seen {
    Snapshot(usize, Instant, usize),
    CurrentItem(usize, Option<i64>, Instant),
    /// A snapshot after the first: the server found the follower too far behind.
    Resnapshot,
    Closed(usize),
}

/// Opens follower `i`'s live feed (bearer token on the upgrade) and reports its frames.
async fn follow(url: String, token: String, i: usize, tx: mpsc::UnboundedSender<Seen>) -> Result<(), AnyError> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}"))?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    tokio::spawn(async move {
        let mut first = true;
        while let Some(Ok(frame)) = ws.next().await {
            let at = Instant::now();
            let WsMessage::Text(text) = frame else { continue };
            let text = text.as_str();
            let seen = if first {
                first = false;
                Seen::Snapshot(i, at, text.len())
            } else if text.starts_with(r#"{"type":"snapshot""#) {
                Seen::Resnapshot
            } else if text.contains(r#""kind":"current_item""#) {
                let event: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
                Seen::CurrentItem(i, event["data"]["item_id"].as_i64(), at)
            } else {
                continue;
            };
            if tx.send(seen).is_err() {
                return;
            }
        }
        let _ = tx.send(Seen::Closed(i));
    });
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the benchmark; `Ok(false)` when some follower missed an event.
async fn run(args: &[String]) -> Result<bool, AnyError> {
    let n: usize = arg(args, "--followers").unwrap_or(500);
    let rounds: usize = arg(args, "--rounds").unwrap_or(50);
    let database_url: Option<String> = arg(args, "--database-url");
    let backend =
        if database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" };
    let server = Server::start(Options { database_url, demo: true, ..Options::default() }).await?;
    let http = reqwest::Client::new();
    let admin = login(&server.base, ADMIN).await?;
    let (meeting, items) = open_meeting(&http, &server.addr, &admin).await?;
    let mut tokens = Vec::with_capacity(FOLLOWERS.len());
    for email in FOLLOWERS {
        tokens.push(login(&server.base, email).await?);
    }

    // Followers: connect a few at a time, then wait for every snapshot.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let url = format!("ws://{}/api/meetings/{meeting}/live", server.addr);
    let opening = Instant::now();
    let mut connected_at = vec![opening; n];
    let connects = futures_util::stream::iter((0..n).map(|i| {
        let (url, token, tx) = (url.clone(), tokens[i % tokens.len()].clone(), tx.clone());
        async move {
            let at = Instant::now();
            (i, at, follow(url, token, i, tx).await)
        }
    }))
    .buffer_unordered(CONNECT_CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    drop(tx);
    for (i, at, result) in connects {
        if let Err(err) = result {
            return Err(format!("follower {i} ({}) could not connect: {err}", FOLLOWERS[i % FOLLOWERS.len()]).into());
        }
        connected_at[i] = at;
    }
    let mut snapshot_ms = Vec::with_capacity(n);
    let mut snapshot_bytes = 0;
    let mut has_snapshot = vec![false; n];
    let snapshot_deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while snapshot_ms.len() < n {
        match tokio::time::timeout_at(snapshot_deadline, rx.recv()).await {
            Ok(Some(Seen::Snapshot(i, at, bytes))) if !has_snapshot[i] => {
                has_snapshot[i] = true;
                snapshot_ms.push(ms(at - connected_at[i]));
                snapshot_bytes = snapshot_bytes.max(bytes);
            }
            Ok(Some(Seen::Closed(i))) => return Err(format!("follower {i} was closed before its snapshot").into()),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                return Err(format!("only {} of {n} followers got a snapshot within 60 s", snapshot_ms.len()).into());
            }
        }
    }
    let all_open = opening.elapsed();
    let snapshot_ms = sorted(snapshot_ms);

    // Rounds: the next item on the floor; wait for every follower's `current_item` event.
    let mut latencies = Vec::with_capacity(n * rounds);
    let mut post_ms = Vec::with_capacity(rounds);
    let mut last_ms = Vec::with_capacity(rounds);
    let (mut missed, mut resnapshots, mut closed) = (0, 0, 0);
    let mut alive = vec![true; n];
    for round in 0..rounds {
        let item = items[round % items.len()];
        let url = format!("{}/api/meetings/{meeting}/current-item", server.base);
        let body = serde_json::json!({"item_id": item});
        let t0 = Instant::now();
        call(&http, reqwest::Method::POST, url, Some(&admin), Some(body)).await?;
        post_ms.push(ms(t0.elapsed()));
        let deadline = tokio::time::Instant::from_std(t0 + DEADLINE);
        let mut got = vec![false; n];
        let mut count = 0;
        let mut last = 0.0f64;
        while count < n {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Seen::CurrentItem(i, Some(id), at))) if id == item && !got[i] => {
                    got[i] = true;
                    count += 1;
                    let l = ms(at - t0);
                    latencies.push(l);
                    last = last.max(l);
                }
                Ok(Some(Seen::Resnapshot)) => resnapshots += 1,
                Ok(Some(Seen::Closed(i))) => {
                    closed += 1;
                    alive[i] = false;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        last_ms.push(last);
        if count < n {
            missed += n - count;
            eprintln!("round {round}: {} of {n} followers did not get item {item} within 10 s", n - count);
        }
    }
    let latencies = sorted(latencies);
    let post_ms = sorted(post_ms);
    let last_ms = sorted(last_ms);

    let command: Vec<String> = std::env::args().collect();
    println!("meeting_fanout: {}", command.join(" "));
    println!(
        "  {n} followers of one meeting over {} demo accounts, {rounds} rounds, on {backend}",
        FOLLOWERS.len().min(n)
    );
    println!(
        "  opening: all {n} followers had their snapshot ({} kB) after {:.2} s; connect-to-snapshot p50 {:.1} ms, \
         max {:.1} ms",
        snapshot_bytes / 1024,
        all_open.as_secs_f64(),
        percentile(&snapshot_ms, 0.50),
        snapshot_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  current-item POST: p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        percentile(&post_ms, 0.50),
        percentile(&post_ms, 0.90),
        post_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  POST-to-event latency over {} receipts: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  until the last follower had it, per round: median {:.2} ms, max {:.2} ms",
        percentile(&last_ms, 0.50),
        last_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  missed (no event within 10 s): {missed}; re-snapshots: {resnapshots}; followers closed by the server: {closed}"
    );
    println!(
        "  server RSS {} MiB, high-water mark {} MiB",
        server.mem_kib("VmRSS:") / 1024,
        server.mem_kib("VmHWM:") / 1024
    );
    println!("  (one client thread reads every follower: the later receipts include its own work)");
    Ok(missed == 0 && alive.iter().all(|a| *a))
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: cargo bench --bench meeting_fanout -- [--followers N] [--rounds R] [--database-url URL]");
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    if rt.block_on(run(&args))? { Ok(()) } else { Err("some followers missed an event".into()) }
}
