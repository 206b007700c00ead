//! Live-drafting load generator and trace benchmark. Prints figures; asserts nothing about speed.
//!
//! ```sh
//! cargo bench --bench drafting_load -- load --clients 100 --typists 20 --rate 5 --secs 20
//! cargo bench --bench drafting_load -- trace ../shared/data/editing-traces/automerge-paper.json.gz
//! ```
//! It starts `target/release/plenum` (or `$PLENUM_BIN`) as a separate process on a fresh SQLite
//! database (or `--database-url postgres://…` for an existing empty database), seeds the demo,
//! and talks to it over real websockets.
//!
//! - `load`: N connections to one draft, K of them typing R edits/s each; reports the
//!   edit-to-receipt latency at the other clients (p50/p99/max), updates persisted per second and
//!   the server's resident memory.
//! - `trace`: pushes every edit of a sequential trace as its own update through one socket and
//!   waits until the server has stored all of them; compares with yrs applying the same updates
//!   in-process (the limit).

use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::Message;
use yrs::sync::protocol::SyncMessage;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

async fn start_server(database_url: Option<String>) -> Result<Server, AnyError> {
    let bin = std::env::var("PLENUM_BIN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/plenum").into());
    let dir = tempfile::tempdir()?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let seeded = Command::new(&bin).args(["demo", "--database-url", &url]).stdout(Stdio::null()).status()?;
    if !seeded.success() {
        return Err(format!("{bin} demo failed").into());
    }
    let child = Command::new(&bin)
        // Every load client signs in as one of a few demo delegates: lift the per-user cap.
        .env("PLENUM_WS_MAX_CONNECTIONS_PER_USER", "1000000")
        .args(["serve", "--database-url", &url, "--bind", &format!("127.0.0.1:{port}"), "--log-level", "warn"])
        .args(["--mail-dir", &dir.path().join("mail").display().to_string(), "--ws-queue", "8192"])
        .stdout(Stdio::null())
        .spawn()?;
    let base = format!("127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("http://{base}/readyz")).await.is_ok_and(|r| r.status() == 200) {
            return Ok(Server { child, base, _dir: dir });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the server did not become ready".into())
}

async fn login(base: &str, email: &str) -> Result<String, AnyError> {
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{base}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": "kimberley-2007"}))
        .send()
        .await?
        .json()
        .await?;
    Ok(res["token"].as_str().ok_or("no token")?.to_string())
}

async fn new_draft(base: &str, token: &str) -> Result<i64, AnyError> {
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{base}/api/drafts"))
        .bearer_auth(token)
        .json(&serde_json::json!({"title": "Load test"}))
        .send()
        .await?
        .json()
        .await?;
    Ok(res["id"].as_i64().ok_or("no draft id")?)
}

async fn draft_text(base: &str, token: &str, id: i64) -> Result<String, AnyError> {
    let res: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{base}/api/drafts/{id}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    Ok(res["text"].as_str().unwrap_or_default().to_string())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

type Sent = Arc<Mutex<HashMap<(ClientID, u32), Instant>>>;

/// `load`: N connections, K typists at R edits/s for S seconds.
async fn load(args: &[String]) -> Result<(), AnyError> {
    let n: usize = arg(args, "--clients").and_then(|v| v.parse().ok()).unwrap_or(100);
    let k: usize = arg(args, "--typists").and_then(|v| v.parse().ok()).unwrap_or(20).min(n);
    let rate: f64 = arg(args, "--rate").and_then(|v| v.parse().ok()).unwrap_or(5.0);
    let secs: u64 = arg(args, "--secs").and_then(|v| v.parse().ok()).unwrap_or(20);
    let server = start_server(arg(args, "--database-url")).await?;
    let writer = login(&server.base, "kabo.molefe@bw.kp.example").await?;
    let reader = login(&server.base, "rafael.adler@wdc.kp.example").await?;
    let draft = new_draft(&server.base, &writer).await?;
    let url = |t: &str| format!("ws://{}/api/drafts/{draft}/ws?token={t}", server.base);
    let sent: Sent = Arc::new(Mutex::new(HashMap::new()));
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..n {
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(url(if i < k { &writer } else { &reader }), None, true)
                .await?;
        let (mut tx, mut rx) = ws.split();
        let latencies = latencies.clone();
        let sent_r = sent.clone();
        // Every client reads: latency is measured when an edit from someone else arrives.
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = rx.next().await {
                let WsMessage::Binary(data) = frame else { continue };
                if let Ok(Message::Sync(SyncMessage::Update(u))) = Message::decode_v1(&data)
                    && let Ok(update) = Update::decode_v1(&u)
                {
                    let now = Instant::now();
                    for (client, clock) in update.state_vector_lower().iter() {
                        let at = sent_r.lock().ok().and_then(|m| m.get(&(*client, *clock)).copied());
                        if let Some(t) = at {
                            latencies.lock().map(|mut l| l.push(now.duration_since(t).as_secs_f64() * 1000.0)).ok();
                        }
                    }
                }
            }
        }));
        if i < k {
            let sent = sent.clone();
            tasks.push(tokio::spawn(async move {
                let doc = Doc::new();
                let text = doc.get_or_insert_text("content");
                let client = doc.client_id();
                let sv = doc.transact().state_vector();
                let _ = tx.send(WsMessage::Binary(Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1().into())).await;
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
                while Instant::now() < deadline {
                    tick.tick().await;
                    let (update, clock) = {
                        let mut txn = doc.transact_mut();
                        let clock = txn.state_vector().get(&doc.client_id());
                        text.insert(&mut txn, 0, "x");
                        (txn.encode_update_v1(), clock)
                    };
                    sent.lock().map(|mut m| m.insert((client, clock), Instant::now())).ok();
                    if tx
                        .send(WsMessage::Binary(Message::Sync(SyncMessage::Update(update)).encode_v1().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }));
        }
    }
    let started = Instant::now();
    let mut peak_rss = 0;
    while Instant::now() < deadline + Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak_rss = peak_rss.max(server.rss_kib("VmRSS:"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let text = draft_text(&server.base, &writer, draft).await?;
    let persisted = text.chars().count();
    let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let backend =
        if arg(args, "--database-url").is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" };
    println!("load: N={n} clients, K={k} typists at R={rate} edits/s for {secs} s on {backend}");
    println!("  edits persisted: {persisted} ({:.1} updates/s)", persisted as f64 / secs as f64);
    println!(
        "  edit-to-receipt latency over {} receipts: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        percentile(&l, 0.50),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  server RSS: {} MiB now, {} MiB peak sampled, {} MiB high-water mark",
        server.rss_kib("VmRSS:") / 1024,
        peak_rss / 1024,
        server.rss_kib("VmHWM:") / 1024
    );
    println!("  (wall {elapsed:.1} s; load generator and server share the machine's 2 cores)");
    for t in tasks {
        t.abort();
    }
    Ok(())
}

/// The updates of a sequential trace, one per edit, as a client would produce them.
fn trace_updates(path: &str) -> Result<(Vec<Vec<u8>>, String), AnyError> {
    let mut raw = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut raw)?;
    let trace: serde_json::Value = serde_json::from_str(&raw)?;
    let end = trace["endContent"].as_str().ok_or("no endContent")?.to_string();
    let doc = Doc::new();
    let text = doc.get_or_insert_text("content");
    let mut updates = Vec::new();
    for txn in trace["txns"].as_array().ok_or("no txns")? {
        for patch in txn["patches"].as_array().ok_or("no patches")? {
            let pos = patch[0].as_u64().unwrap_or(0) as u32;
            let del = patch[1].as_u64().unwrap_or(0) as u32;
            let ins = patch[2].as_str().unwrap_or("");
            let mut t = doc.transact_mut();
            if del > 0 {
                text.remove_range(&mut t, pos, del);
            }
            if !ins.is_empty() {
                text.insert(&mut t, pos, ins);
            }
            updates.push(t.encode_update_v1());
        }
    }
    Ok((updates, end))
}

/// `trace`: every edit as its own update through one socket, until all are stored.
async fn trace(args: &[String]) -> Result<(), AnyError> {
    let flag_values: Vec<&String> = args.windows(2).filter(|w| w[0].starts_with("--")).map(|w| &w[1]).collect();
    let path =
        args.iter().skip(1).find(|a| !a.starts_with("--") && !flag_values.contains(a)).cloned().unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/editing-traces/automerge-paper.json.gz").into()
        });
    let (updates, end) = trace_updates(&path)?;
    let limit = {
        let started = Instant::now();
        let doc = Doc::new();
        let text = doc.get_or_insert_text("content");
        for u in &updates {
            doc.transact_mut().apply_update(Update::decode_v1(u)?)?;
        }
        let elapsed = started.elapsed();
        assert_eq!(text.get_string(&doc.transact()), end, "in-process replay differs from endContent");
        let snapshot = doc.transact().encode_state_as_update_v1(&StateVector::default()).len();
        (elapsed, snapshot)
    };
    let server = start_server(arg(args, "--database-url")).await?;
    let token = login(&server.base, "kabo.molefe@bw.kp.example").await?;
    let draft = new_draft(&server.base, &token).await?;
    let (ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/drafts/{draft}/ws?token={token}", server.base)).await?;
    let (mut tx, mut rx) = ws.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    let started = Instant::now();
    for u in &updates {
        tx.send(WsMessage::Binary(Message::Sync(SyncMessage::Update(u.clone())).encode_v1().into())).await?;
    }
    let sent = started.elapsed();
    loop {
        if draft_text(&server.base, &token, draft).await? == end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored = started.elapsed();
    drain.abort();
    println!("trace: {path}");
    println!("  {} updates, final text {} chars", updates.len(), end.chars().count());
    println!(
        "  yrs in-process apply (the limit): {:.3} s; state snapshot {} kB",
        limit.0.as_secs_f64(),
        limit.1 / 1024
    );
    println!(
        "  through one socket: all sent after {:.2} s, all stored and applied after {:.2} s ({:.0} updates/s)",
        sent.as_secs_f64(),
        stored.as_secs_f64(),
        updates.len() as f64 / stored.as_secs_f64()
    );
    println!(
        "  server RSS {} MiB, high-water mark {} MiB",
        server.rss_kib("VmRSS:") / 1024,
        server.rss_kib("VmHWM:") / 1024
    );
    Ok(())
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    match args.first().map(String::as_str) {
        Some("load") => rt.block_on(load(&args)),
        Some("trace") => rt.block_on(trace(&args)),
        _ => {
            println!(
                "usage: cargo bench --bench drafting_load -- load [--clients N] [--typists K] [--rate R] [--secs S] [--database-url URL]"
            );
            println!("       cargo bench --bench drafting_load -- trace [PATH.json.gz] [--database-url URL]");
            Ok(())
        }
    }
}
