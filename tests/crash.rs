//! Crash safety: the real `plenum serve` is SIGKILLed while 50 clients type into one draft, then
//! restarted on the same database, 20 times per backend. Every update any client received from
//! the server (broadcasts, sync answers, and so each client's own edits that the server
//! acknowledged) must be in the reloaded document.
//!
//! How a client knows what it received: besides the document it types into, it keeps a second
//! document, `seen`, that applies only what the server sent. Every 200 ms it sends a sync step 1
//! with `seen`'s state vector; the server answers (after committing the batch that carries the
//! client's earlier updates) with what `seen` lacks, its own edits included: that answer is the
//! acknowledgement. After the restart a fresh client syncs, and each `seen` state vector must be
//! covered by the reloaded document's, and each token in `seen`'s text must be in its text.
//!
//! `PLENUM_CRASH_SEED=N` replays a run (the seed is printed); `PLENUM_CRASH_TRIALS` changes the
//! number of trials (20).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::process::{Served, plenum};
use common::{Backend, TestDb};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::Message;
use yrs::sync::protocol::{MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

const CLIENTS: usize = 50;
const WRITERS: [&str; 2] = [common::BOTSWANA, common::INDIA];

/// Starts `plenum serve` on `db`, compacting often so that some kills land in the middle of a
/// compaction.
fn start(db: &TestDb, mail_dir: &std::path::Path) -> Served {
    Served::start(&db.url, |c| {
        c.args(["--compact-after", "100", "--mail-dir", &mail_dir.display().to_string()])
            // Each client signs in as one of two delegates.
            .env("PLENUM_WS_MAX_CONNECTIONS_PER_USER", "1000");
    })
}

/// An HTTP client whose requests fail after 20 s instead of hanging the test.
fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("http client")
}

async fn login(addr: &str, email: &str) -> String {
    let res = http()
        .post(format!("http://{addr}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": common::PASSWORD}))
        .send()
        .await
        .expect("login sent");
    assert_eq!(res.status(), 200, "login as {email}");
    res.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("token").to_string()
}

async fn new_draft(addr: &str, token: &str) -> i64 {
    let res = http()
        .post(format!("http://{addr}/api/drafts"))
        .bearer_auth(token)
        .json(&serde_json::json!({"title": "Crash trial"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.expect("json")["id"].as_i64().expect("id")
}

/// The text the API gives (read from the database: no room is loaded right after a restart).
async fn api_text(addr: &str, token: &str, draft: i64) -> String {
    let res = http().get(format!("http://{addr}/api/drafts/{draft}")).bearer_auth(token).send().await.expect("sent");
    assert_eq!(res.status(), 200);
    res.json::<serde_json::Value>().await.expect("json")["text"].as_str().expect("text").to_string()
}

fn url(addr: &str, draft: i64, token: &str) -> String {
    format!("ws://{addr}/api/drafts/{draft}/ws?token={token}")
}

fn binary(m: Message) -> WsMessage {
    WsMessage::Binary(m.encode_v1().into())
}

fn apply(doc: &Doc, update: &[u8]) {
    let update = Update::decode_v1(update).expect("the server sends valid updates");
    doc.transact_mut().apply_update(update).expect("apply");
}

/// The whole document as a fresh client syncs it.
async fn synced_doc(addr: &str, draft: i64, token: &str) -> Doc {
    let (mut ws, _) =
        tokio::time::timeout(Duration::from_secs(20), tokio_tungstenite::connect_async(url(addr, draft, token)))
            .await
            .expect("upgrade within 20 s")
            .expect("upgrade");
    let doc = Doc::new();
    doc.get_or_insert_text("content");
    ws.send(binary(Message::Sync(SyncMessage::SyncStep1(StateVector::default())))).await.expect("send");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next()).await.expect("a sync step 2 within 20 s");
        let Some(Ok(WsMessage::Binary(data))) = frame else { continue };
        let mut decoder = DecoderV1::from(data.as_ref());
        for m in MessageReader::new(&mut decoder) {
            if let Ok(Message::Sync(SyncMessage::SyncStep2(u))) = m {
                apply(&doc, &u);
                let _ = ws.close(None).await;
                return doc;
            }
        }
    }
}

/// What one client saw, sent and got acknowledged in a trial.
struct Tally {
    client: usize,
    /// The state vector of what arrived from the server.
    seen_sv: StateVector,
    /// The text of what arrived from the server (whatever its pending parts did not show).
    seen_text: String,
    /// Tokens this client typed and sent.
    typed: Vec<String>,
    /// Messages received from the server.
    frames: usize,
}

/// One typing client: connects, syncs, waits for `go`, then types a unique token 2–5 times a
/// second (at the start or the end of the text) and asks for an acknowledgement every 200 ms,
/// until the server goes away.
/// Who a typing client is and where it types.
struct Typist {
    addr: String,
    draft: i64,
    token: String,
    client: usize,
    trial: usize,
    seed: u64,
}

async fn typist(
    Typist { addr, draft, token, client, trial, seed }: Typist,
    synced: Arc<AtomicUsize>,
    mut go: tokio::sync::watch::Receiver<bool>,
) -> Tally {
    let mut rng = StdRng::seed_from_u64(seed);
    let (ws, _) =
        tokio::time::timeout(Duration::from_secs(20), tokio_tungstenite::connect_async(url(&addr, draft, &token)))
            .await
            .expect("upgrade within 20 s")
            .expect("upgrade");
    let (mut tx, mut rx) = ws.split();
    let doc = Doc::new();
    let text = doc.get_or_insert_text("content");
    let seen = Doc::new();
    let seen_text = seen.get_or_insert_text("content");
    let mut tally =
        Tally { client, seen_sv: StateVector::default(), seen_text: String::new(), typed: vec![], frames: 0 };
    let _ = tx.send(binary(Message::Sync(SyncMessage::SyncStep1(StateVector::default())))).await;
    let mut is_synced = false;
    let period = Duration::from_secs_f64(1.0 / rng.random_range(2.0..5.0));
    let phase = period.mul_f64(rng.random());
    let mut typing = tokio::time::interval(period);
    let mut acks = tokio::time::interval(Duration::from_millis(200));
    let mut typing_on = false;
    loop {
        tokio::select! {
            frame = rx.next() => {
                let data = match frame {
                    Some(Ok(WsMessage::Binary(data))) => data,
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                tally.frames += 1;
                let mut decoder = DecoderV1::from(data.as_ref());
                let mut replies = Vec::new();
                for m in MessageReader::new(&mut decoder) {
                    match m.expect("the server sends valid messages") {
                        Message::Sync(SyncMessage::SyncStep1(sv)) => {
                            let diff = doc.transact().encode_diff_v1(&sv);
                            replies.push(binary(Message::Sync(SyncMessage::SyncStep2(diff))));
                        }
                        Message::Sync(SyncMessage::SyncStep2(u)) => {
                            apply(&doc, &u);
                            apply(&seen, &u);
                            if !is_synced {
                                is_synced = true;
                                synced.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Message::Sync(SyncMessage::Update(u)) => {
                            apply(&doc, &u);
                            apply(&seen, &u);
                        }
                        _ => {}
                    }
                }
                for reply in replies {
                    if tx.send(reply).await.is_err() {
                        break;
                    }
                }
            }
            changed = go.changed(), if !typing_on => {
                if changed.is_err() {
                    break;
                }
                typing_on = *go.borrow();
                typing.reset_at(tokio::time::Instant::now() + phase);
                acks.reset();
            }
            _ = typing.tick(), if typing_on => {
                let token = format!("<t{trial}c{client}n{}>", tally.typed.len());
                let update = {
                    let mut txn = doc.transact_mut();
                    let at = if rng.random_bool(0.5) { 0 } else { text.len(&txn) };
                    text.insert(&mut txn, at, &token);
                    txn.encode_update_v1()
                };
                tally.typed.push(token);
                if tx.send(binary(Message::Sync(SyncMessage::Update(update)))).await.is_err() {
                    break;
                }
            }
            _ = acks.tick(), if typing_on => {
                let sv = seen.transact().state_vector();
                if tx.send(binary(Message::Sync(SyncMessage::SyncStep1(sv)))).await.is_err() {
                    break;
                }
            }
        }
    }
    let txn = seen.transact();
    tally.seen_sv = txn.state_vector();
    tally.seen_text = seen_text.get_string(&txn);
    tally
}

/// The tokens in a text (each `<…>`).
fn tokens(text: &str) -> Vec<&str> {
    text.split_inclusive('>').filter_map(|s| s.find('<').map(|i| &s[i..])).collect()
}

/// Figures of one backend's run.
#[derive(Default, Debug)]
struct Totals {
    typed: usize,
    received: usize,
    own_acked: usize,
    unacked_lost: usize,
}

fn crash_trials(backend: Backend) {
    let seed: u64 =
        std::env::var("PLENUM_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::rng().random());
    let trials: usize = std::env::var("PLENUM_CRASH_TRIALS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    println!("crash trials on {backend:?}: seed {seed} (replay with PLENUM_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let db = TestDb::create(backend);
    let mail = tempfile::tempdir().expect("temp dir");
    let out = plenum().args(["demo", "--database-url", &db.url]).output().expect("run plenum demo");
    assert!(out.status.success(), "plenum demo: {}", String::from_utf8_lossy(&out.stderr));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut server = start(&db, mail.path());
    let (tokens_of, draft) = rt.block_on(async {
        let mut t = Vec::new();
        for w in WRITERS {
            t.push(login(&server.addr, w).await);
        }
        let draft = new_draft(&server.addr, &t[0]).await;
        (t, draft)
    });
    let mut totals = Totals::default();
    let started = Instant::now();
    for trial in 0..trials {
        let kill_after = Duration::from_millis(rng.random_range(200..3000));
        let client_seeds: Vec<u64> = (0..CLIENTS).map(|_| rng.random()).collect();
        let synced = Arc::new(AtomicUsize::new(0));
        let (go, go_rx) = tokio::sync::watch::channel(false);
        let tallies: Vec<Tally> = rt.block_on(async {
            let mut tasks = Vec::new();
            for (client, s) in client_seeds.iter().enumerate() {
                let who = Typist {
                    addr: server.addr.clone(),
                    draft,
                    token: tokens_of[client % tokens_of.len()].clone(),
                    client,
                    trial,
                    seed: *s,
                };
                tasks.push(tokio::spawn(typist(who, synced.clone(), go_rx.clone())));
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while synced.load(Ordering::SeqCst) < CLIENTS {
                assert!(
                    Instant::now() < deadline,
                    "only {} of {CLIENTS} clients synced",
                    synced.load(Ordering::SeqCst)
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            go.send_replace(true);
            tokio::time::sleep(kill_after).await;
            server.sigkill();
            let mut tallies = Vec::new();
            for task in tasks {
                let tally = tokio::time::timeout(Duration::from_secs(20), task)
                    .await
                    .expect("a client noticed the server died")
                    .expect("client task");
                tallies.push(tally);
            }
            tallies
        });
        drop(go);
        let killed = std::mem::replace(&mut server, start(&db, mail.path()));
        let (stored, synced_text, stored_sv) = rt.block_on(async {
            let stored = api_text(&server.addr, &tokens_of[0], draft).await;
            let doc = synced_doc(&server.addr, draft, &tokens_of[1]).await;
            let content = doc.get_or_insert_text("content");
            let txn = doc.transact();
            (stored, content.get_string(&txn), txn.state_vector())
        });
        assert_eq!(stored, synced_text, "trial {trial}: the API and a fresh sync disagree (seed {seed})");
        let present: HashSet<&str> = tokens(&stored).into_iter().collect();
        let (mut received, mut own_acked, mut typed, mut unacked_lost) = (HashSet::new(), 0, 0, 0);
        let mut missing = Vec::new();
        for t in &tallies {
            for (id, clock) in t.seen_sv.iter() {
                let have = stored_sv.get(id);
                if have < *clock {
                    missing.push(format!("client {}: received {id}@{clock}, reloaded has up to {have}", t.client));
                }
            }
            let seen: HashSet<&str> = tokens(&t.seen_text).into_iter().collect();
            for token in &seen {
                if !present.contains(token) {
                    missing.push(format!("client {} received {token}", t.client));
                }
                received.insert(token.to_string());
            }
            typed += t.typed.len();
            for token in &t.typed {
                if seen.contains(token.as_str()) {
                    own_acked += 1;
                } else if !present.contains(token.as_str()) {
                    unacked_lost += 1;
                }
            }
        }
        let this_trial = received.iter().filter(|t| t.starts_with(&format!("<t{trial}c"))).count();
        println!(
            "trial {trial:2}: killed after {:4} ms; {typed:4} typed, {this_trial:4} received by someone, {own_acked:4} acked \
             to their typist, {unacked_lost:3} unacknowledged lost; {} frames received; text {} tokens",
            kill_after.as_millis(),
            tallies.iter().map(|t| t.frames).sum::<usize>(),
            present.len()
        );
        assert!(
            missing.is_empty(),
            "trial {trial} (seed {seed}) on {backend:?}: {} received updates are not in the reloaded document:\n{}\n\
             killed server's warnings: {:#?}",
            missing.len(),
            missing.iter().take(20).cloned().collect::<Vec<_>>().join("\n"),
            killed.complaints()
        );
        assert!(typed > 0 && !received.is_empty(), "trial {trial}: nobody typed or received anything");
        totals.typed += typed;
        totals.received += this_trial;
        totals.own_acked += own_acked;
        totals.unacked_lost += unacked_lost;
    }
    println!(
        "{backend:?}: {trials} SIGKILLs in {:.1} s, 0 received edits lost; totals {totals:?} (seed {seed})",
        started.elapsed().as_secs_f64()
    );
    assert!(totals.own_acked > 0, "no typist's edit was ever acknowledged: the check proves nothing");
}

#[test]
fn sigkill_loses_nothing_received_sqlite() {
    crash_trials(Backend::Sqlite);
}

#[test]
fn sigkill_loses_nothing_received_postgres() {
    crash_trials(Backend::Postgres);
}
