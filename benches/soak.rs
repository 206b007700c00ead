//! Soak: many clients for a long time with typing and reconnect churn; checks that the server's
//! memory stays flat, that it does not leak file descriptors, and that drafts nobody has open
//! are unloaded.
//!
//! ```sh
//! cargo bench --bench soak                  # 300 clients, 6 drafts, 30 minutes, SQLite
//! cargo bench --bench soak -- --secs 120    # a short run
//! cargo bench --bench soak -- --database-url postgres://postgres@127.0.0.1:5432/soak   # an empty database
//! ```
//! It starts the release `plenum` (or `$PLENUM_BIN`) on a fresh SQLite database (or the
//! given empty PostgreSQL one), seeds the demo, and opens `--drafts` drafts. Each of `--clients`
//! clients (a fifth of them typing 1–4 edits/s at a cursor, with backspaces and jumps, the text
//! kept under a few thousand characters) joins a random draft, stays 10–90 s, leaves (one in ten
//! without a close frame) and comes back 0.5–5 s later. Every `--rest-secs` one draft is left by
//! everyone for that long, so its room should unload (`--room-idle-secs`, lowered to 5).
//!
//! Every `--sample-secs` it prints the server's RSS (`/proc/PID/status`), open descriptors
//! (`/proc/PID/fd`), open sockets and loaded drafts (`GET /metrics`). After everyone left it
//! waits for the rooms to unload and exits non-zero if RSS grew more than 10 % from the first
//! sample after `--warmup-secs` to the last, if descriptors other than the sockets grew by more
//! than the database pool can open (`--database-pool-size`, passed to the server, default 10),
//! or if a draft stayed loaded.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::Message;
use yrs::sync::protocol::{MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Assoc, Doc, IndexedSequence, ReadTxn, StateVector, Text, Transact, Update};

mod support;

use support::{AnyError, Options, Server, arg, login, new_draft};

/// The unlabelled samples of the server's `GET /metrics`.
async fn metrics(server: &Server, http: &reqwest::Client) -> Result<HashMap<String, f64>, AnyError> {
    let at = server.metrics.as_deref().ok_or("metrics are not served")?;
    let body = http.get(format!("http://{at}/metrics")).send().await?.text().await?;
    Ok(body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains('{'))
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(name, value)| Some((name.to_string(), value.trim().parse().ok()?)))
        .collect())
}

/// What all clients share.
struct Shared {
    base: String,
    drafts: Vec<i64>,
    writers: Vec<String>,
    reader: String,
    /// The index of the draft everyone must leave now (`usize::MAX`: none).
    resting: AtomicUsize,
    deadline: Instant,
    connected: AtomicI64,
    connects: AtomicU64,
    failures: AtomicU64,
    edits: AtomicU64,
}

/// One client: joins a random draft that is not resting, stays a while, leaves, comes back.
async fn client(i: usize, shared: Arc<Shared>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let typist = i.is_multiple_of(5);
    let rate = rng.random_range(1.0..4.0);
    // Spread the first connections over a few seconds.
    tokio::time::sleep(Duration::from_millis(rng.random_range(0..5000))).await;
    while Instant::now() < shared.deadline {
        let resting = shared.resting.load(Ordering::Relaxed);
        let choices: Vec<usize> = (0..shared.drafts.len()).filter(|d| *d != resting).collect();
        let d = choices[rng.random_range(0..choices.len())];
        let stay = Duration::from_secs_f64(rng.random_range(10.0..90.0));
        let token = if typist { &shared.writers[i % shared.writers.len()] } else { &shared.reader };
        let url = format!("ws://{}/api/drafts/{}/ws?token={token}", shared.base, shared.drafts[d]);
        let seed = rng.random();
        shared.connects.fetch_add(1, Ordering::Relaxed);
        if session(&shared, &url, d, typist.then_some(rate), stay, seed).await.is_err() {
            shared.failures.fetch_add(1, Ordering::Relaxed);
        }
        let pause = Duration::from_secs_f64(rng.random_range(0.5..5.0));
        tokio::time::sleep(pause.min(shared.deadline.saturating_duration_since(Instant::now()))).await;
    }
}

fn binary(m: Message) -> WsMessage {
    WsMessage::Binary(m.encode_v1().into())
}

/// One connection, as a stock client behaves: sync, apply what arrives, answer sync requests;
/// a typist edits at its cursor `rate` times a second.
async fn session(
    shared: &Shared,
    url: &str,
    draft: usize,
    rate: Option<f64>,
    stay: Duration,
    seed: u64,
) -> Result<(), AnyError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (ws, _) = tokio_tungstenite::connect_async(url).await?;
    shared.connected.fetch_add(1, Ordering::Relaxed);
    let (mut tx, mut rx) = ws.split();
    let doc = Doc::new();
    let text = doc.get_or_insert_text("content");
    let mut cursor = None;
    tx.send(binary(Message::Sync(SyncMessage::SyncStep1(StateVector::default())))).await?;
    let leave_at = tokio::time::Instant::now() + stay.min(shared.deadline.saturating_duration_since(Instant::now()));
    let mut typing = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.unwrap_or(1.0)));
    let mut check = tokio::time::interval(Duration::from_secs(1));
    let mut synced = false;
    let outcome: Result<(), AnyError> = loop {
        tokio::select! {
            frame = rx.next() => {
                let data = match frame {
                    Some(Ok(WsMessage::Binary(data))) => data,
                    Some(Ok(WsMessage::Close(_))) | None => break Err("the server closed the connection".into()),
                    Some(Err(e)) => break Err(e.into()),
                    Some(Ok(_)) => continue,
                };
                let mut decoder = DecoderV1::from(data.as_ref());
                let mut reply = None;
                for m in MessageReader::new(&mut decoder) {
                    match m? {
                        Message::Sync(SyncMessage::SyncStep1(sv)) => {
                            reply = Some(binary(Message::Sync(SyncMessage::SyncStep2(doc.transact().encode_diff_v1(&sv)))));
                        }
                        Message::Sync(SyncMessage::SyncStep2(u) | SyncMessage::Update(u)) => {
                            doc.transact_mut().apply_update(Update::decode_v1(&u)?)?;
                            synced = true;
                        }
                        _ => {}
                    }
                }
                if let Some(reply) = reply {
                    tx.send(reply).await?;
                }
            }
            _ = typing.tick(), if rate.is_some() && synced => {
                let update = {
                    let mut txn = doc.transact_mut();
                    let len = text.len(&txn);
                    let mut at = cursor
                        .as_ref()
                        .and_then(|c: &yrs::StickyIndex| c.get_offset(&txn))
                        .map(|o| o.index)
                        .unwrap_or(len)
                        .min(len);
                    let roll: f64 = rng.random();
                    if len > 3000 || (roll < 0.1 && at > 0) {
                        // Backspace (a whole phrase when the text is long).
                        let n = if len > 3000 { 40.min(at).max(1) } else { 1 };
                        let from = at.saturating_sub(n);
                        text.remove_range(&mut txn, from, (at - from).min(len - from));
                        at = from;
                    } else {
                        if roll > 0.95 {
                            at = rng.random_range(0..=len);
                        }
                        let c = if rng.random_bool(0.15) { ' ' } else { char::from(b'a' + rng.random_range(0..26u8)) };
                        text.insert(&mut txn, at, &c.to_string());
                        at += 1;
                    }
                    cursor = text.sticky_index(&txn, at, Assoc::Before);
                    txn.encode_update_v1()
                };
                tx.send(binary(Message::Sync(SyncMessage::Update(update)))).await?;
                shared.edits.fetch_add(1, Ordering::Relaxed);
            }
            _ = check.tick() => {
                if shared.resting.load(Ordering::Relaxed) == draft || tokio::time::Instant::now() >= leave_at {
                    // One in ten leaves without a close frame (a closed laptop, a lost network).
                    if rng.random_bool(0.9) {
                        let _ = tx.send(WsMessage::Close(None)).await;
                    }
                    break Ok(());
                }
            }
        }
    };
    shared.connected.fetch_sub(1, Ordering::Relaxed);
    outcome
}

struct Sample {
    at: f64,
    rss_kib: u64,
    fds: usize,
    sockets: i64,
    rooms: i64,
}

async fn sample(server: &Server, http: &reqwest::Client, started: Instant) -> Sample {
    let m = metrics(server, http).await.unwrap_or_default();
    let metric = |name: &str| m.get(name).copied().map(|v| v as i64).unwrap_or(-1);
    Sample {
        at: started.elapsed().as_secs_f64(),
        rss_kib: server.rss_kib(),
        fds: server.fds(),
        sockets: metric("plenum_ws_connections"),
        rooms: metric("plenum_drafting_rooms"),
    }
}

async fn soak(args: &[String]) -> Result<bool, AnyError> {
    let secs: u64 = arg(args, "--secs").unwrap_or(1800);
    let clients: usize = arg(args, "--clients").unwrap_or(300);
    let drafts: usize = arg(args, "--drafts").unwrap_or(6).max(2);
    let room_idle: u64 = arg(args, "--room-idle-secs").unwrap_or(5);
    // The server's database pool opens connections lazily, up to this many (descriptors that
    // may appear during the soak without being a leak).
    let pool: i64 = arg(args, "--database-pool-size").unwrap_or(10);
    let every: u64 = arg(args, "--sample-secs").unwrap_or(10).max(1);
    let warmup: u64 = arg(args, "--warmup-secs").unwrap_or((secs / 4).min(120));
    let rest: u64 = arg(args, "--rest-secs").unwrap_or((room_idle * 4).max(30));
    let seed: u64 = arg(args, "--seed").unwrap_or_else(|| rand::rng().random());
    let database_url: Option<String> = arg(args, "--database-url");
    let backend =
        if database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" };
    let server = Server::start(Options {
        database_url,
        demo: true,
        metrics: true,
        args: vec!["--room-idle-secs".into(), room_idle.to_string(), "--database-pool-size".into(), pool.to_string()],
        ..Options::default()
    })
    .await?;
    let writers = vec![
        login(&server.base, "kabo.molefe@bw.kp.example").await?,
        login(&server.base, "priya.raman@in.kp.example").await?,
    ];
    let reader = login(&server.base, "rafael.adler@wdc.kp.example").await?;
    let mut ids = Vec::new();
    for n in 0..drafts {
        ids.push(new_draft(&server.base, &writers[0], &format!("Soak draft {n}")).await?);
    }
    println!(
        "soak: {clients} clients ({} typing) on {drafts} drafts for {secs} s on {backend}; room idle {room_idle} s, \
         one draft left for {rest} s at a time; warm-up {warmup} s; seed {seed}",
        clients.div_ceil(5)
    );
    let started = Instant::now();
    let shared = Arc::new(Shared {
        base: server.addr.clone(),
        drafts: ids,
        writers,
        reader,
        resting: AtomicUsize::new(usize::MAX),
        deadline: started + Duration::from_secs(secs),
        connected: AtomicI64::new(0),
        connects: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        edits: AtomicU64::new(0),
    });
    let mut rng = StdRng::seed_from_u64(seed);
    let tasks: Vec<_> = (0..clients).map(|i| tokio::spawn(client(i, shared.clone(), rng.random()))).collect();
    let http = reqwest::Client::new();
    let mut samples: Vec<Sample> = Vec::new();
    println!(
        "{:>7} {:>9} {:>7} {:>7} {:>6} {:>8} {:>6} {:>9} {:>8}",
        "t (s)", "RSS MiB", "fds", "sockets", "rooms", "resting", "conn", "connects", "edits/s"
    );
    let mut last_edits = 0;
    let mut next = started;
    let mut rested = 0;
    while Instant::now() < shared.deadline {
        next += Duration::from_secs(every);
        // Rotate which draft everyone leaves.
        let period = (started.elapsed().as_secs() / rest) as usize;
        if period != rested {
            rested = period;
            let resting = if period % 2 == 1 { (period / 2) % drafts } else { usize::MAX };
            shared.resting.store(resting, Ordering::Relaxed);
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(next.min(shared.deadline))).await;
        let s = sample(&server, &http, started).await;
        let edits = shared.edits.load(Ordering::Relaxed);
        let resting = shared.resting.load(Ordering::Relaxed);
        println!(
            "{:>7.0} {:>9.1} {:>7} {:>7} {:>6} {:>8} {:>6} {:>9} {:>8.1}",
            s.at,
            s.rss_kib as f64 / 1024.0,
            s.fds,
            s.sockets,
            s.rooms,
            if resting == usize::MAX { "-".to_string() } else { resting.to_string() },
            shared.connected.load(Ordering::Relaxed),
            shared.connects.load(Ordering::Relaxed),
            (edits - last_edits) as f64 / every as f64
        );
        last_edits = edits;
        samples.push(s);
    }
    for t in tasks {
        t.await?;
    }
    // Everyone left: the sockets close, then the rooms unload after the idle delay.
    let wait_until = Instant::now() + Duration::from_secs(room_idle + 30);
    let mut end = sample(&server, &http, started).await;
    while (end.sockets != 0 || end.rooms != 0) && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(500)).await;
        end = sample(&server, &http, started).await;
    }
    println!(
        "{:>7.0} {:>9.1} {:>7} {:>7} {:>6}   (everyone left)",
        end.at,
        end.rss_kib as f64 / 1024.0,
        end.fds,
        end.sockets,
        end.rooms
    );
    let after: Vec<&Sample> = samples.iter().filter(|s| s.at >= warmup as f64).collect();
    let (Some(first), Some(last)) = (after.first(), after.last()) else {
        return Err("no sample after the warm-up: run longer or lower --warmup-secs".into());
    };
    let max = after.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let pct = |v: u64| (v as f64 / first.rss_kib as f64 - 1.0) * 100.0;
    let growth = pct(last.rss_kib);
    // Descriptors besides the drafting sockets (database files and connections, listeners).
    let others = |s: &Sample| s.fds as i64 - s.sockets.max(0);
    println!(
        "summary ({} connections, {} failed; {} edits):",
        shared.connects.load(Ordering::Relaxed),
        shared.failures.load(Ordering::Relaxed),
        shared.edits.load(Ordering::Relaxed)
    );
    println!(
        "  RSS: {:.1} MiB at {:.0} s (after warm-up), {:.1} MiB at the end of the load ({growth:+.1} %), max {:.1} MiB \
         ({:+.1} %); {:.1} MiB once everyone left",
        first.rss_kib as f64 / 1024.0,
        first.at,
        last.rss_kib as f64 / 1024.0,
        max as f64 / 1024.0,
        pct(max),
        end.rss_kib as f64 / 1024.0
    );
    println!(
        "  fds: {} at {:.0} s ({} besides {} sockets), {} at the end of the load ({} besides {} sockets), {} once everyone left",
        first.fds,
        first.at,
        others(first),
        first.sockets,
        last.fds,
        others(last),
        last.sockets,
        end.fds
    );
    println!("  drafts loaded once everyone left: {} (room idle delay {room_idle} s)", end.rooms);
    let mut ok = true;
    if growth > 10.0 {
        println!("FAIL: RSS grew {growth:.1} % after the warm-up (limit 10 %)");
        ok = false;
    }
    // A leak grows with the connections (tens of thousands in a soak); the pool stops at its size.
    if others(&end) > others(first) + pool {
        println!(
            "FAIL: {} descriptors open once everyone left, {} besides the sockets after the warm-up \
             (the database pool may add up to {pool})",
            others(&end),
            others(first)
        );
        ok = false;
    }
    if end.rooms != 0 || end.sockets != 0 {
        println!("FAIL: {} drafts still loaded and {} sockets open once everyone left", end.rooms, end.sockets);
        ok = false;
    }
    if ok {
        println!(
            "PASS: RSS flat within 10 %, no descriptor growth beyond the database pool ({pool}), every draft unloaded"
        );
    }
    Ok(ok)
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "usage: cargo bench --bench soak -- [--secs 1800] [--clients 300] [--drafts 6] [--room-idle-secs 5] \
             [--rest-secs S] [--warmup-secs S] [--sample-secs 10] [--seed N] [--database-url URL] \
             [--database-pool-size 10]"
        );
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    if rt.block_on(soak(&args))? { Ok(()) } else { std::process::exit(1) }
}
