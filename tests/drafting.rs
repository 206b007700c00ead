//! Live drafting over the websocket, with a minimal y-protocols client written on yrs: auth
//! before the upgrade, sync, write permission per message, durability, and every kind of bad
//! input or misbehaving client. (Stock Yjs clients are driven from Node in tests/yjs/.)

mod common;

use std::time::Duration;

use common::ws::*;
use common::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use yrs::sync::protocol::SyncMessage;
use yrs::sync::{AwarenessUpdate, Message};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, Text, Transact, Update};

async fn new_draft(s: &Session) -> i64 {
    let res = s.post("/api/drafts", &json!({"title": "Administrative decision on review visits"})).await;
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.expect("json")["id"].as_i64().expect("id")
}

/// Waits (5 s at most) until the draft's log holds at least `n` updates; returns how many.
async fn stored_updates_reach(app: &TestApp, draft: i64, n: i64) -> i64 {
    eventually(&format!("{n} stored updates"), Duration::from_secs(5), || async move {
        let stored = stored_updates(app, draft).await;
        if stored >= n { Ok(stored) } else { Err(stored) }
    })
    .await
}

async fn stored_updates(app: &TestApp, draft: i64) -> i64 {
    use diesel::prelude::*;
    use plenum::db::schema::draft_updates;
    app.state
        .db
        .read(move |c| {
            // A row holds a stored batch: count the updates, not the rows.
            Ok(draft_updates::table
                .filter(draft_updates::draft_id.eq(draft))
                .select(diesel::dsl::sum(draft_updates::updates))
                .first::<Option<i64>>(c)?
                .unwrap_or(0))
        })
        .await
        .expect("count")
}

/// Waits (5 s at most) until the text rebuilt from the database is `text`.
async fn stored_text_reaches(app: &TestApp, draft: i64, text: &str) {
    eventually(&format!("the stored text {text:?}"), Duration::from_secs(5), || async move {
        let stored = stored_text(app, draft).await;
        if stored == text { Ok(()) } else { Err(stored) }
    })
    .await
}

/// The text rebuilt from the database alone (snapshot and log), not from any room.
async fn stored_text(app: &TestApp, draft: i64) -> String {
    use plenum::drafting::store;
    app.state.db.read(move |c| Ok(store::text_of(&store::load(c, draft)?.to_doc()?))).await.expect("load")
}

async fn server_text(s: &Session, draft: i64) -> String {
    s.json(&format!("/api/drafts/{draft}")).await["text"].as_str().expect("text").to_string()
}

async fn auth_comes_before_the_upgrade(app: TestApp) {
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    assert_eq!(refused_with(&ws_url(&app, draft, None)).await, 401);
    assert_eq!(refused_with(&ws_url(&app, draft, Some("not-a-token"))).await, 401);
    assert_eq!(refused_with(&ws_url(&app, 999_999, Some(&kabo.token))).await, 404);
    // A cookie-authenticated upgrade from another site is refused (cross-site websocket hijacking).
    let mut req = ws_url(&app, draft, None).into_client_request().expect("request");
    req.headers_mut().insert("cookie", format!("plenum_session={}", kabo.token).parse().expect("header"));
    req.headers_mut().insert("origin", "https://evil.example".parse().expect("header"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("cross-site upgrade accepted: {:?}", other.map(|_| ())),
    }
}

async fn participants_converge_and_observers_are_refused(app: TestApp) {
    app.seed_demo().await;
    let (kabo, priya, rafael) =
        (app.login(BOTSWANA, PASSWORD).await, app.login(INDIA, PASSWORD).await, app.login(OBSERVER, PASSWORD).await);
    let draft = new_draft(&kabo).await;
    let mut a = Client::connect(&app, draft, &kabo.token).await;
    let mut b = Client::connect(&app, draft, &priya.token).await;
    let mut o = Client::connect(&app, draft, &rafael.token).await;
    a.type_text("[option A] ").await;
    b.type_text("[option B] ").await;
    let both = |c: &Client| c.text().contains("[option A] ") && c.text().contains("[option B] ");
    for c in [&mut a, &mut b, &mut o] {
        c.pump_until("both options", Duration::from_secs(5), both).await;
    }
    assert_eq!(a.text(), b.text());
    assert_eq!(o.text(), a.text(), "observers receive everything");
    assert_eq!(stored_updates(&app, draft).await, 2);
    let before = a.text();
    o.type_text("OBSERVER WAS HERE ").await;
    assert_eq!(o.pump(Duration::from_millis(400)).await, None, "the observer stays connected");
    assert_eq!(o.denied, 1, "the observer is told permission-denied");
    a.pump(Duration::from_millis(200)).await;
    assert_eq!(a.text(), before);
    assert_eq!(server_text(&kabo, draft).await, before);
    assert_eq!(stored_updates(&app, draft).await, 2, "refused updates are never stored");
    let view = kabo.json(&format!("/api/drafts/{draft}")).await;
    assert_eq!(view["connected"].as_array().map(Vec::len), Some(3));
    assert_eq!(view["can_edit"], true);
    assert_eq!(rafael.json(&format!("/api/drafts/{draft}")).await["can_edit"], false);

    // Locking makes everyone read-only at once.
    let admin = app.login(ADMIN, PASSWORD).await;
    assert_eq!(admin.patch(&format!("/api/drafts/{draft}"), &json!({"state": "locked"})).await.status(), 200);
    a.type_text("late change ").await;
    a.pump_until("permission-denied after the lock", Duration::from_secs(5), |a| a.denied == 1).await;
    assert_eq!(server_text(&kabo, draft).await, before);
}

async fn everything_received_is_stored(app: TestApp) {
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut a = Client::connect(&app, draft, &kabo.token).await;
    let mut b = Client::connect(&app, draft, &priya.token).await;
    for i in 0..50 {
        a.type_text(&format!("a{i} ")).await;
        if i % 10 == 0 {
            b.type_text(&format!("b{i} ")).await;
        }
    }
    let all = |c: &Client| (0..50).all(|i| c.text().contains(&format!("a{i} "))) && c.text().contains("b40 ");
    b.pump_until("every update of a", Duration::from_secs(10), all).await;
    a.pump_until("every update of b", Duration::from_secs(10), all).await;
    assert_eq!(a.text(), b.text());
    // Rebuild the document from the database alone: it equals what the clients hold.
    let stored = stored_text(&app, draft).await;
    assert_eq!(stored, b.text());
}

async fn bad_input_closes_only_that_connection(app: TestApp) {
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut good = Client::connect(&app, draft, &priya.token).await;
    good.type_text("agreed text ").await;
    let stored = stored_updates_reach(&app, draft, 1).await;

    // Random bytes.
    let mut bad = Client::connect(&app, draft, &kabo.token).await;
    bad.send_raw(vec![0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0x13, 0x37]).await;
    assert_eq!(bad.pump(Duration::from_secs(2)).await, Some(1002));

    // A truncated update.
    let mut bad = Client::connect(&app, draft, &kabo.token).await;
    let doc = Doc::new();
    let update = {
        let t = doc.get_or_insert_text("content");
        let mut txn = doc.transact_mut();
        t.insert(&mut txn, 0, "a longer passage that gets cut in the middle");
        txn.encode_update_v1()
    };
    let mut msg = Message::Sync(SyncMessage::Update(update)).encode_v1();
    msg.truncate(msg.len() / 2);
    bad.send_raw(msg).await;
    assert_eq!(bad.pump(Duration::from_secs(2)).await, Some(1002));

    // None of it touched the log, and the other client is unaffected.
    assert_eq!(stored_updates(&app, draft).await, stored);
    good.type_text("still here ").await;
    assert_eq!(good.pump(Duration::from_millis(300)).await, None);
    assert_eq!(server_text(&priya, draft).await, good.text());
    assert_eq!(stored_updates(&app, draft).await, stored + 1);
}

/// Two updates of one client: `first`, then `second` built on it. Returns (first, second).
fn two_steps(first: &str, second: &str) -> (Vec<u8>, Vec<u8>) {
    let doc = Doc::new();
    let t = doc.get_or_insert_text("content");
    t.insert(&mut doc.transact_mut(), 0, first);
    let first_update = doc.transact().encode_state_as_update_v1(&Default::default());
    let sv = doc.transact().state_vector();
    let len = t.len(&doc.transact());
    t.insert(&mut doc.transact_mut(), len, second);
    (first_update, doc.transact().encode_state_as_update_v1(&sv))
}

/// An update whose predecessor has not arrived yet (a stock client that edited offline sends its
/// new edits before its sync reply) is held, not refused: nothing is stored or broadcast until the
/// predecessor arrives, then both are. One whose predecessor never comes closes only its own
/// connection (1002) after `--ws-hold-secs`, and nothing of it is stored.
async fn updates_missing_their_dependencies_are_held(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.drafting.hold_secs = 1).await;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut watcher = Client::connect(&app, draft, &priya.token).await;
    let stored = stored_updates(&app, draft).await;

    let mut typist = Client::connect(&app, draft, &kabo.token).await;
    let (first, second) = two_steps("first ", "second");
    typist.send(Message::Sync(SyncMessage::Update(second))).await;
    assert_eq!(typist.pump(Duration::from_millis(400)).await, None, "held, not refused");
    assert_eq!(stored_updates(&app, draft).await, stored, "nothing stored that cannot be integrated");
    assert_eq!(watcher.pump(Duration::from_millis(100)).await, None);
    assert_eq!(watcher.text(), "", "nothing broadcast that is not stored");
    typist.send(Message::Sync(SyncMessage::SyncStep2(first))).await;
    assert_eq!(typist.pump(Duration::from_millis(400)).await, None);
    assert_eq!(watcher.pump(Duration::from_millis(200)).await, None);
    assert_eq!(watcher.text(), "first second");
    assert_eq!(stored_text(&app, draft).await, "first second");

    // A predecessor that never comes: only that connection is closed, after the hold limit.
    let mut stuck = Client::connect(&app, draft, &kabo.token).await;
    let (_, orphan) = two_steps("never sent ", "orphan");
    stuck.send(Message::Sync(SyncMessage::Update(orphan))).await;
    assert_eq!(stuck.pump(Duration::from_secs(5)).await, Some(1002));
    assert_eq!(stored_text(&app, draft).await, "first second");
    watcher.type_text("still here ").await;
    assert_eq!(watcher.pump(Duration::from_millis(300)).await, None);
    assert_eq!(typist.pump(Duration::from_millis(300)).await, None, "the other writer stays connected");
    assert_eq!(server_text(&priya, draft).await, "still here first second");
    assert_eq!(stored_text(&app, draft).await, "still here first second");
}

#[actix_web::test]
async fn updates_missing_their_dependencies_are_held_sqlite() {
    updates_missing_their_dependencies_are_held(Backend::Sqlite).await
}

#[actix_web::test]
async fn updates_missing_their_dependencies_are_held_postgres() {
    updates_missing_their_dependencies_are_held(Backend::Postgres).await
}

/// Two edits by one client where the second depends only on others' text, not on the first
/// (its update names the client's clock 1 while the server has none of its clock 0).
fn edits_after_a_gap() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let others = Doc::with_client_id(2);
    let t = others.get_or_insert_text("content");
    t.insert(&mut others.transact_mut(), 0, "xy");
    let base = others.transact().encode_state_as_update_v1(&Default::default());
    let doc = Doc::with_client_id(3);
    doc.transact_mut().apply_update(Update::decode_v1(&base).expect("decode")).expect("apply");
    let t = doc.get_or_insert_text("content");
    let edit = |at: u32, s: &str| {
        let mut txn = doc.transact_mut();
        t.insert(&mut txn, at, s);
        txn.encode_update_v1()
    };
    let first = edit(0, "1");
    (base, first, edit(3, "2"))
}

/// An update with content after clocks of its client that the server lacks waits, unapplied
/// (yrs would integrate it behind a hole, and it would be neither stored nor sent), and goes
/// in, stored and broadcast, once the missing clocks arrive; if they never do, only that
/// connection is closed after `--ws-hold-secs`, and nothing of it is stored.
async fn updates_after_a_gap_in_their_clocks_wait(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.drafting.hold_secs = 1).await;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut watcher = Client::connect(&app, draft, &priya.token).await;
    let mut typist = Client::connect(&app, draft, &kabo.token).await;
    let (base, first, second) = edits_after_a_gap();
    typist.send(Message::Sync(SyncMessage::Update(base.clone()))).await;
    stored_text_reaches(&app, draft, "xy").await;
    let stored = stored_updates(&app, draft).await;
    typist.send(Message::Sync(SyncMessage::Update(second))).await;
    assert_eq!(typist.pump(Duration::from_millis(400)).await, None, "it waits, not refused");
    assert_eq!(stored_updates(&app, draft).await, stored, "nothing of it stored yet");
    assert_eq!(server_text(&priya, draft).await, "xy", "nor applied");
    typist.send(Message::Sync(SyncMessage::Update(first))).await;
    stored_text_reaches(&app, draft, "1xy2").await;
    assert_eq!(watcher.pump(Duration::from_millis(300)).await, None);
    assert_eq!(watcher.text(), "1xy2", "both broadcast");
    assert_eq!(server_text(&priya, draft).await, "1xy2");

    // Clocks that never come: that connection alone is closed, nothing of its update stored.
    let mut stuck = Client::connect(&app, draft, &kabo.token).await;
    let orphan = {
        let doc = Doc::with_client_id(4);
        doc.transact_mut().apply_update(Update::decode_v1(&base).expect("decode")).expect("apply");
        let t = doc.get_or_insert_text("content");
        t.insert(&mut doc.transact_mut(), 0, "never sent ");
        let mut txn = doc.transact_mut();
        t.insert(&mut txn, 13, " orphan"); // after "xy": it depends on nothing the server lacks
        txn.encode_update_v1()
    };
    stuck.send(Message::Sync(SyncMessage::Update(orphan))).await;
    assert_eq!(stuck.pump(Duration::from_secs(5)).await, Some(1002));
    assert_eq!(stored_text(&app, draft).await, "1xy2");
    assert_eq!(typist.pump(Duration::from_millis(300)).await, None, "the other writer stays connected");
}

#[actix_web::test]
async fn updates_after_a_gap_in_their_clocks_wait_sqlite() {
    updates_after_a_gap_in_their_clocks_wait(Backend::Sqlite).await
}

#[actix_web::test]
async fn updates_after_a_gap_in_their_clocks_wait_postgres() {
    updates_after_a_gap_in_their_clocks_wait(Backend::Postgres).await
}

async fn huge_messages_and_floods(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.drafting.max_message_bytes = 64 * 1024;
        c.drafting.awareness_per_sec = 10;
    })
    .await;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut good = Client::connect(&app, draft, &priya.token).await;
    good.type_text("agreed text ").await;
    let stored = stored_updates_reach(&app, draft, 1).await;

    let mut bad = Client::connect(&app, draft, &kabo.token).await;
    let doc = Doc::new();
    let update = {
        let t = doc.get_or_insert_text("content");
        let mut txn = doc.transact_mut();
        t.insert(&mut txn, 0, &"x".repeat(200 * 1024));
        txn.encode_update_v1()
    };
    bad.send(Message::Sync(SyncMessage::Update(update))).await;
    assert_eq!(bad.pump(Duration::from_secs(3)).await, Some(1009));
    assert_eq!(stored_updates(&app, draft).await, stored, "nothing refused is stored");

    // A flood of presence updates reaches the others only at the allowed rate.
    let mut flooder = Client::connect(&app, draft, &kabo.token).await;
    good.awareness = 0;
    for clock in 1..=500u32 {
        let mut clients = std::collections::HashMap::new();
        clients.insert(
            yrs::ClientID::new(4242),
            yrs::sync::awareness::AwarenessUpdateEntry { clock, json: format!("{{\"cursor\":{clock}}}").into() },
        );
        flooder.send(Message::Awareness(AwarenessUpdate { clients })).await;
    }
    good.pump(Duration::from_millis(1500)).await;
    assert!(good.awareness > 0 && good.awareness <= 40, "{} presence messages passed", good.awareness);
    good.type_text("still working ").await;
    flooder.pump(Duration::from_millis(500)).await;
    assert!(flooder.text().starts_with("still working"), "{}", flooder.text());
    assert_eq!(server_text(&priya, draft).await, good.text());
}

async fn a_client_that_never_reads_is_dropped(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.drafting.queue = 16).await;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let rafael = app.login(OBSERVER, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let closed_before = app.state.metrics.connections_closed.load(std::sync::atomic::Ordering::Relaxed);
    let mut sleeper = Client::connect(&app, draft, &kabo.token).await; // never reads again
    let mut reader = Client::connect(&app, draft, &rafael.token).await;
    let mut typist = Client::connect(&app, draft, &priya.token).await;
    let chunk = "y".repeat(64 * 1024);
    let mut dropped = false;
    for _ in 0..150 {
        for _ in 0..4 {
            typist.type_text(&chunk).await;
        }
        assert_eq!(reader.pump(Duration::from_millis(60)).await, None, "a client that reads is never dropped");
        let view = priya.json(&format!("/api/drafts/{draft}")).await;
        let names: Vec<&str> =
            view["connected"].as_array().expect("connected").iter().filter_map(|c| c["name"].as_str()).collect();
        if !names.contains(&"Kabo Molefe") {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the client that never reads was not disconnected");
    // When it reads again, it finds the documented close code after what was queued for it.
    assert_eq!(sleeper.pump(Duration::from_secs(10)).await, Some(4000));
    let closed = app.state.metrics.connections_closed.load(std::sync::atomic::Ordering::Relaxed);
    assert!(closed > closed_before, "the close is counted in plenum_ws_closed_by_server_total");
    typist.type_text("end").await;
    let target = typist.text();
    reader.pump_until("the typist's text", Duration::from_secs(10), |r| r.text() == target).await;
    assert_eq!(server_text(&priya, draft).await, typist.text());
}

on_both_backends!(
    auth_comes_before_the_upgrade,
    participants_converge_and_observers_are_refused,
    everything_received_is_stored,
    bad_input_closes_only_that_connection,
);

#[actix_web::test]
async fn huge_messages_and_floods_sqlite() {
    huge_messages_and_floods(Backend::Sqlite).await;
}

#[actix_web::test]
async fn huge_messages_and_floods_postgres() {
    huge_messages_and_floods(Backend::Postgres).await;
}

#[actix_web::test]
async fn a_client_that_never_reads_is_dropped_sqlite() {
    a_client_that_never_reads_is_dropped(Backend::Sqlite).await;
}

#[actix_web::test]
async fn a_client_that_never_reads_is_dropped_postgres() {
    a_client_that_never_reads_is_dropped(Backend::Postgres).await;
}

/// A connection that goes silent is dropped by the heartbeat and its presence removed for
/// everyone; a room with no connections is unloaded after the idle time, and loads again.
#[actix_web::test]
async fn dead_connections_leave_and_idle_rooms_unload() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.drafting.heartbeat_secs = 1;
        c.drafting.silence_timeout_secs = 2;
        c.drafting.room_idle_secs = 1;
    })
    .await;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut watcher = Client::connect(&app, draft, &priya.token).await;
    let mut ghost = Client::connect(&app, draft, &kabo.token).await;
    let mut clients = std::collections::HashMap::new();
    clients.insert(
        yrs::ClientID::new(777),
        yrs::sync::awareness::AwarenessUpdateEntry { clock: 1, json: "{\"cursor\":null}".into() },
    );
    ghost.send(Message::Awareness(AwarenessUpdate { clients })).await;
    ghost.type_text("before the ghost vanished ").await;
    watcher.pump_until("the ghost's presence", Duration::from_secs(5), |w| w.awareness == 1).await;
    // The ghost stops reading (so it never answers pings) and says nothing more.
    watcher.pump_until("the silent client to leave", Duration::from_secs(10), |w| w.departures == 1).await;
    let view = priya.json(&format!("/api/drafts/{draft}")).await;
    assert_eq!(view["connected"].as_array().map(Vec::len), Some(1));
    drop(ghost);
    drop(watcher);
    let started = std::time::Instant::now();
    while app.state.hub.loaded() > 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.state.hub.loaded(), 0, "the idle room was unloaded");
    // It loads again from the database with nothing lost.
    let again = Client::connect(&app, draft, &priya.token).await;
    assert_eq!(again.text(), "before the ghost vanished ");
}

/// Two instances behind a load balancer, on one PostgreSQL database: clients on either see each
/// other's edits (woken by NOTIFY, reading the rows themselves), and both serve the same text.
#[actix_web::test]
async fn two_instances_share_a_draft_postgres() {
    let one = TestApp::spawn_with(Backend::Postgres, |c| c.drafting.compact_after = 25).await;
    one.seed_demo().await;
    let two = one.spawn_second().await;
    let kabo = one.login(BOTSWANA, PASSWORD).await;
    let priya = two.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut a = Client::connect(&one, draft, &kabo.token).await;
    let mut b = Client::connect(&two, draft, &priya.token).await;
    for i in 0..40 {
        a.type_text(&format!("a{i} ")).await;
        b.type_text(&format!("b{i} ")).await;
        if i % 8 == 0 {
            a.pump(Duration::from_millis(30)).await;
            b.pump(Duration::from_millis(30)).await;
        }
    }
    for _ in 0..30 {
        a.pump(Duration::from_millis(100)).await;
        b.pump(Duration::from_millis(100)).await;
        if a.text() == b.text() && a.text().len() > 200 {
            break;
        }
    }
    assert_eq!(a.text(), b.text(), "clients on different instances converge");
    for i in 0..40 {
        assert!(a.text().contains(&format!("a{i} ")) && a.text().contains(&format!("b{i} ")));
    }
    assert_eq!(server_text(&kabo, draft).await, a.text());
    assert_eq!(server_text(&priya, draft).await, a.text());
    let stored = stored_text(&one, draft).await;
    assert_eq!(stored, a.text());
    // Only one side types now: the other instance learns of it through NOTIFY alone.
    a.type_text("adopted by consensus ").await;
    let started = std::time::Instant::now();
    while !b.text().starts_with("adopted by consensus") && started.elapsed() < Duration::from_secs(5) {
        b.pump(Duration::from_millis(50)).await;
    }
    assert!(b.text().starts_with("adopted by consensus"), "{}", b.text());
}

/// An open websocket does not outlive its rights: suspending the organisation closes it (4001,
/// the session ended) within a heartbeat, and the delegate's reconnection is read-only.
#[actix_web::test]
async fn suspension_reaches_open_websockets() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.drafting.heartbeat_secs = 1).await;
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut a = Client::connect(&app, draft, &kabo.token).await;
    a.type_text("before ").await;
    stored_updates_reach(&app, draft, 1).await;
    let bw = app.organisation_id(&admin, "BW").await;
    assert_eq!(admin.patch(&format!("/api/organisations/{bw}"), &json!({"status": "suspended"})).await.status(), 200);
    assert_eq!(a.pump(Duration::from_secs(4)).await, Some(4001));
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let mut again = Client::connect(&app, draft, &kabo.token).await;
    again.type_text("after suspension ").await;
    again.pump_until("permission-denied", Duration::from_secs(5), |c| c.denied == 1).await;
    assert_eq!(server_text(&kabo, draft).await, "before ");
}

/// Compaction folds the log into a snapshot that rebuilds the same text.
#[actix_web::test]
async fn compaction_keeps_the_text() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.drafting.compact_after = 20).await;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut a = Client::connect(&app, draft, &kabo.token).await;
    for i in 0..45 {
        a.type_text(&format!("{i} ")).await;
    }
    // All 45 updates are stored (the text reads back from the database) and the log was folded
    // (a compaction runs after the batch that crossed the threshold has been stored).
    let expected = a.text();
    eventually("the folded log to hold the whole text", Duration::from_secs(5), || {
        let (app, expected) = (&app, &expected);
        async move {
            let (stored, rows) = (stored_text(app, draft).await, stored_updates(app, draft).await);
            if &stored == expected && rows < 45 { Ok(()) } else { Err((rows, stored)) }
        }
    })
    .await;
}

/// A sequence number is never handed out twice: an append that expects a number at or below
/// the newest snapshot (another instance compacted meanwhile) is refused, not stored where no
/// read would ever find it.
async fn sequence_numbers_are_never_reused(app: TestApp) {
    use plenum::drafting::store::{self, NewUpdate};
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let user = kabo.user_id();
    let (first, second) = two_steps("first ", "second");
    let outcome = app
        .state
        .db
        .write(move |c| {
            let seq = store::append(c, draft, 0, &[NewUpdate { user_id: user, data: first.clone() }], 0)?;
            assert_eq!(seq, Some(1));
            let doc = store::load(c, draft)?.to_doc()?;
            assert_eq!(store::compact(c, draft, 1, &doc)?, Some(1));
            // An instance that still believes the log ends at 0 tries to append.
            let stale = store::append(c, draft, 0, &[NewUpdate { user_id: user, data: second.clone() }], 0)?;
            let fresh = store::append(c, draft, 1, &[NewUpdate { user_id: user, data: second }], 0)?;
            Ok((stale, fresh))
        })
        .await
        .expect("store calls");
    assert_eq!(outcome, (None, Some(2)), "a stale append is refused; one that read the snapshot gets 2");
    assert_eq!(stored_text(&app, draft).await, "first second");
}

/// A stored batch is one row of the log (a few when it is larger than `store::ROW_BYTES`), and
/// reads back as its updates, each with its own number, whoever sent it: the document rebuilds,
/// another instance reading after any number it knows gets exactly the rest, and compaction
/// folds whole rows.
async fn a_batch_is_one_row_of_the_log(app: TestApp) {
    use plenum::drafting::store::{self, NewUpdate, ROW_BYTES};
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let (kabo_id, priya_id) = (kabo.user_id(), priya.user_id());
    // 60 edits of two people, as a room would store them in one batch.
    let doc = Doc::new();
    let text = doc.get_or_insert_text("content");
    let mut batch = Vec::new();
    for i in 0..60 {
        let sv = doc.transact().state_vector();
        let len = text.len(&doc.transact());
        text.insert(&mut doc.transact_mut(), len, &format!("w{i} "));
        let user_id = if i % 3 == 0 { priya_id } else { kabo_id };
        batch.push(NewUpdate { user_id, data: doc.transact().encode_state_as_update_v1(&sv) });
    }
    let expected: String = (0..60).map(|i| format!("w{i} ")).collect();
    // Then three pastes too large to share a row.
    let mut pastes = Vec::new();
    for word in ["alpha", "beta", "gamma"] {
        let sv = doc.transact().state_vector();
        let len = text.len(&doc.transact());
        // A third of a row each: two share one, the third does not fit beside them.
        text.insert(&mut doc.transact_mut(), len, &word.repeat(ROW_BYTES / word.len() / 3));
        pastes.push(NewUpdate { user_id: kabo_id, data: doc.transact().encode_state_as_update_v1(&sv) });
    }
    let (first, big) = (batch.clone(), pastes.clone());
    let (rows, seqs, middle, text_after, folded) = app
        .state
        .db
        .write(move |c| {
            use diesel::prelude::*;
            use plenum::db::schema::draft_updates;
            let start = store::last_seq(c, draft)?;
            assert_eq!(store::append(c, draft, start, &first, 0)?, Some(start + 60));
            assert_eq!(store::append(c, draft, start + 60, &big, 0)?, Some(start + 63));
            let rows: Vec<(i64, i32, i64)> = draft_updates::table
                .filter(draft_updates::draft_id.eq(draft))
                .filter(draft_updates::seq.gt(start))
                .order(draft_updates::seq.asc())
                .select((draft_updates::seq, draft_updates::updates, draft_updates::user_id))
                .load(c)?;
            let all = store::load_after(c, draft, start)?;
            let seqs: Vec<i64> = all.updates.iter().map(|(s, _)| *s - start).collect();
            let same = all.updates.iter().map(|(_, d)| d).eq(first.iter().chain(&big).map(|u| &u.data));
            assert!(same, "every update reads back as it was stored, in order");
            // Another instance that knows the log up to the end of the first row.
            let middle = store::load_after(c, draft, start + 60)?.updates.len();
            let text_after = store::text_of(&store::load(c, draft)?.to_doc()?);
            let doc = store::load(c, draft)?.to_doc()?;
            let folded = store::compact(c, draft, start + 63, &doc)?;
            Ok((rows, seqs, middle, text_after, folded))
        })
        .await
        .expect("store calls");
    assert_eq!(seqs, (1..=63).collect::<Vec<_>>());
    let shape: Vec<(i32, i64)> = rows.iter().map(|(_, n, user)| (*n, *user)).collect();
    assert_eq!(shape, vec![(60, priya_id), (2, kabo_id), (1, kabo_id)], "one row per batch, large ones split");
    assert_eq!(middle, 3);
    assert!(text_after.starts_with(&expected) && text_after.ends_with("gamma"), "the document rebuilds");
    assert_eq!(folded, Some(3), "compaction deletes whole rows");
    assert_eq!(stored_text(&app, draft).await, text_after);
}

on_both_backends!(sequence_numbers_are_never_reused, a_batch_is_one_row_of_the_log);

/// Cross-instance updates survive a lost notification: with the second instance's listener
/// stopped, its room finds the other instance's rows by polling; and a reload (here: held
/// updates that expired) sends rows it skipped past to its clients instead of keeping them back.
#[actix_web::test]
async fn missed_notifications_and_reloads_reach_clients_postgres() {
    let one = TestApp::spawn(Backend::Postgres).await;
    one.seed_demo().await;
    let mut two = one
        .spawn_second_with(|c| {
            c.drafting.room_poll_secs = 1;
            c.drafting.hold_secs = 1;
        })
        .await;
    two.listener.take().expect("a PostgreSQL instance listens").stop();
    let kabo = one.login(BOTSWANA, PASSWORD).await;
    let priya = two.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut a = Client::connect(&one, draft, &kabo.token).await;
    let mut b = Client::connect(&two, draft, &priya.token).await;
    a.type_text("polled ").await;
    let code = b.pump_until("the polled row", Duration::from_secs(4), |b| b.text() == "polled ").await;
    assert_eq!(code, None);

    // Now with polling out of the way (a long interval), a reload must bring the rows along.
    let mut three = one
        .spawn_second_with(|c| {
            c.drafting.room_poll_secs = 3600;
            c.drafting.hold_secs = 1;
        })
        .await;
    three.listener.take().expect("listener").stop();
    let mut c = Client::connect(&three, draft, &priya.token).await;
    assert_eq!(c.text(), "polled ");
    a.type_text("skipped ").await;
    stored_text_reaches(&one, draft, "skipped polled ").await;
    let mut stuck = Client::connect(&three, draft, &kabo.token).await;
    let (_, orphan) = two_steps("never sent ", "orphan");
    stuck.send(Message::Sync(SyncMessage::Update(orphan))).await;
    assert_eq!(stuck.pump(Duration::from_secs(4)).await, Some(1002), "the held update expired");
    let code =
        c.pump_until("the rows the reload read", Duration::from_secs(3), |c| c.text() == "skipped polled ").await;
    assert_eq!(code, None);
}

/// A compaction that fails waits before it is tried again (doubling), instead of encoding the
/// whole document on every later batch.
#[actix_web::test]
async fn failed_compactions_back_off_postgres() {
    let app = TestApp::spawn_with(Backend::Postgres, |c| c.drafting.compact_after = 5).await;
    app.seed_demo().await;
    app.state
        .db
        .write(|c| {
            use diesel::connection::SimpleConnection;
            let plenum::db::DbConnection::Postgresql(pg) = c else { unreachable!("PostgreSQL") };
            pg.batch_execute(
                "CREATE SEQUENCE compaction_attempts; \
                 CREATE FUNCTION refuse_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$ \
                   BEGIN PERFORM nextval('compaction_attempts'); RAISE EXCEPTION 'disk full'; END $$; \
                 CREATE TRIGGER refuse_snapshot BEFORE INSERT ON draft_snapshots \
                   FOR EACH ROW EXECUTE FUNCTION refuse_snapshot();",
            )?;
            Ok(())
        })
        .await
        .expect("install the failing trigger");
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut a = Client::connect(&app, draft, &kabo.token).await;
    for i in 0..60 {
        a.type_text(&format!("{i} ")).await;
        a.pump(Duration::from_millis(40)).await;
    }
    let attempts: i64 = app
        .state
        .db
        .read(|c| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Attempts {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                last_value: i64,
            }
            let row: Attempts = diesel::sql_query(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS last_value FROM compaction_attempts",
            )
            .get_result(c)?;
            Ok(row.last_value)
        })
        .await
        .expect("attempts");
    // ~2.5 s of typing: attempts at 0, 1, 3 s (1 s, then 2 s backoff) — never one per batch.
    assert!((1..=4).contains(&attempts), "{attempts} compaction attempts");
    assert_eq!(stored_text(&app, draft).await, a.text(), "nothing lost meanwhile");
}

/// A presence message with one client's state.
fn presence(client: u64, clock: u32, json: String) -> Message {
    let mut clients = std::collections::HashMap::new();
    clients.insert(yrs::ClientID::new(client), yrs::sync::awareness::AwarenessUpdateEntry { clock, json: json.into() });
    Message::Awareness(AwarenessUpdate { clients })
}

/// What the websocket does with messages outside the happy path, as the README documents it:
/// unknown message types and client-sent auth messages are ignored (providers that add their own
/// messages keep working); presence that is not a JSON object, or is over `--ws-presence-bytes`,
/// is refused and not forwarded; bytes after a complete message in one frame close with 1002.
async fn protocol_edges(app: TestApp) {
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let priya = app.login(INDIA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut watcher = Client::connect(&app, draft, &priya.token).await;
    let mut client = Client::connect(&app, draft, &kabo.token).await;

    client.send(Message::Custom(7, b"a provider's own message".to_vec())).await;
    client.send(Message::Auth(Some("I may write".into()))).await;
    client.send(presence(4242, 1, "not json at all".into())).await;
    let big = format!("{{\"cursor\":\"{}\"}}", "x".repeat(8 * 1024));
    client.send(presence(4242, 2, big)).await;
    assert_eq!(client.pump(Duration::from_millis(300)).await, None, "none of that closes the connection");
    assert_eq!(watcher.pump(Duration::from_millis(100)).await, None);
    assert_eq!(watcher.awareness, 0, "refused presence is not forwarded");
    client.send(presence(4242, 3, "{\"cursor\":{\"anchor\":1}}".into())).await;
    watcher.pump_until("the small presence state", Duration::from_secs(3), |w| w.awareness == 1).await;
    client.type_text("still works ").await;
    watcher.pump_until("the text", Duration::from_secs(3), |w| w.text() == "still works ").await;

    // Two messages in one frame: the second is not silently dropped, the frame is refused.
    let mut bytes = Message::AwarenessQuery.encode_v1();
    bytes.extend(Message::AwarenessQuery.encode_v1());
    client.send_raw(bytes).await;
    assert_eq!(client.pump(Duration::from_secs(2)).await, Some(1002));
}

on_both_backends!(protocol_edges);

/// One person cannot open hundreds of sockets: past `--ws-max-connections-per-user` the upgrade
/// is refused with 429, and a closed connection frees its place.
async fn connections_per_user_are_capped(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.drafting.max_connections_per_user = 3).await;
    app.seed_demo().await;
    let rafael = app.login(OBSERVER, PASSWORD).await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Client::connect(&app, draft, &rafael.token).await);
    }
    assert_eq!(refused_with(&ws_url(&app, draft, Some(&rafael.token))).await, 429);
    let _other = Client::connect(&app, draft, &kabo.token).await; // other people are not affected
    let closing = open.pop().expect("a connection");
    drop(closing);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio_tungstenite::connect_async(ws_url(&app, draft, Some(&rafael.token))).await {
            Ok(_) => break,
            Err(err) => assert!(std::time::Instant::now() < deadline, "the freed place was not given back: {err}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn connections_per_user_are_capped_sqlite() {
    connections_per_user_are_capped(Backend::Sqlite).await
}

#[actix_web::test]
async fn connections_per_user_are_capped_postgres() {
    connections_per_user_are_capped(Backend::Postgres).await
}

/// Types a numbered token every 50 ms (20 updates/s) until the server closes the socket;
/// returns the close code, how long after `changed_at` it came, and the tokens sent after it.
async fn type_until_closed(
    client: &mut Client,
    prefix: &str,
    change: impl std::future::Future<Output = ()>,
) -> (u16, Duration, Vec<String>) {
    let mut change = Some(Box::pin(change));
    let mut changed_at = None;
    let mut after = Vec::new();
    for i in 0..400 {
        let token = format!("[{prefix}{i}]");
        client.type_text(&token).await;
        if changed_at.is_some() {
            after.push(token);
        }
        if let Some(code) = client.pump(Duration::from_millis(50)).await {
            let at = changed_at.expect("closed before the change");
            return (code, std::time::Instant::now().duration_since(at), after);
        }
        if i == 10
            && let Some(change) = change.take()
        {
            change.await;
            changed_at = Some(std::time::Instant::now());
        }
    }
    panic!("the socket was never closed");
}

/// Revocation reaches open websockets at once, on every instance: a client typing 20 updates/s
/// is closed (4001) within a second of its user being disabled or signing out, and nothing it
/// sent after the change committed is stored.
async fn revocation_reaches_open_sockets_at_once(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;

    // Signing out ends that session's socket.
    let mut client = Client::connect(&app, draft, &kabo.token).await;
    let signout = async {
        assert_eq!(kabo.post("/api/auth/logout", &json!({})).await.status(), 204);
    };
    let (code, took, after) = type_until_closed(&mut client, "s", signout).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "closed {took:?} after the sign-out");
    let stored = stored_text(&app, draft).await;
    assert!(after.iter().all(|t| !stored.contains(t.as_str())), "stored after the sign-out: {stored}");

    // Disabling the user ends every session's socket.
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let mut client = Client::connect(&app, draft, &kabo.token).await;
    let disable = async {
        let res = admin.patch(&format!("/api/users/{}", kabo.user_id()), &json!({"disabled": true})).await;
        assert_eq!(res.status(), 200);
    };
    let (code, took, after) = type_until_closed(&mut client, "d", disable).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "closed {took:?} after the user was disabled");
    let stored = stored_text(&app, draft).await;
    assert!(stored.contains("[d0]"), "what was sent before is kept: {stored}");
    assert!(after.iter().all(|t| !stored.contains(t.as_str())), "stored after the change: {stored}");
}

on_both_backends!(revocation_reaches_open_sockets_at_once);

/// The same across instances: the change is made on one, the socket is on the other.
#[actix_web::test]
async fn revocation_reaches_other_instances_postgres() {
    let one = TestApp::spawn(Backend::Postgres).await;
    one.seed_demo().await;
    let two = one.spawn_second().await;
    let admin = one.login(ADMIN, PASSWORD).await;
    let priya = two.login(INDIA, PASSWORD).await;
    let draft = new_draft(&priya).await;
    let mut client = Client::connect(&two, draft, &priya.token).await;
    let suspend = async {
        let india = priya.user["organisation"]["id"].as_i64().expect("organisation id");
        let res = admin.patch(&format!("/api/organisations/{india}"), &json!({"status": "suspended"})).await;
        assert_eq!(res.status(), 200);
    };
    let (code, took, after) = type_until_closed(&mut client, "o", suspend).await;
    assert_eq!(code, 4001);
    assert!(took < Duration::from_secs(1), "closed {took:?} after the suspension on the other instance");
    let stored = stored_text(&one, draft).await;
    assert!(after.iter().all(|t| !stored.contains(t.as_str())), "stored after the change: {stored}");
}

/// A delegate typing all day is not signed out for idleness: an active websocket counts as
/// activity. (The clock is moved, not waited for: 4 × 40 s with a 1-minute idle limit.)
async fn an_active_socket_keeps_its_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.accounts.session_idle_minutes = 1;
        c.drafting.heartbeat_secs = 1;
    })
    .await;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let mut client = Client::connect(&app, draft, &kabo.token).await;
    for i in 0..4 {
        app.clock.advance(chrono::Duration::seconds(40));
        client.type_text(&format!("{i} ")).await;
        // Two heartbeats: the first sees the activity and refreshes the session.
        assert_eq!(client.pump(Duration::from_millis(2200)).await, None, "signed out while typing (round {i})");
    }
    assert_eq!(kabo.get("/api/me").await.status(), 200);
    // An open socket on which nobody types does not keep the session alive.
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(client.pump(Duration::from_secs(3)).await, Some(4001));
}

#[actix_web::test]
async fn an_active_socket_keeps_its_session_sqlite() {
    an_active_socket_keeps_its_session(Backend::Sqlite).await
}

#[actix_web::test]
async fn an_active_socket_keeps_its_session_postgres() {
    an_active_socket_keeps_its_session(Backend::Postgres).await
}

/// Reads from a raw socket until `done` says what has arrived is enough, or the deadline passes.
async fn read_until(stream: &mut tokio::net::TcpStream, what: &str, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(&got) {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
            Ok(Err(err)) => panic!("{what}: {err}"),
            Err(_) => panic!("{what}: not there in 10 s; got {:?}", String::from_utf8_lossy(&got)),
        }
    }
    got
}

fn handshake(path: &str, port: u16) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
}

/// A client may send its first message in the same packet as its handshake: the server hands
/// those bytes to the socket along with the connection, and answers them.
async fn frames_sent_with_the_handshake_are_answered(app: TestApp) {
    use tokio::io::AsyncWriteExt;
    app.seed_demo().await;
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let draft = new_draft(&kabo).await;
    let port: u16 = app.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let mut bytes = handshake(&format!("/api/drafts/{draft}/ws?token={}", kabo.token), port).into_bytes();
    // A masked binary frame: sync step 1 with an empty state vector.
    let (mask, step1) = ([1u8, 2, 3, 4], Message::Sync(SyncMessage::SyncStep1(Default::default())).encode_v1());
    bytes.extend([0x82, 0x80 | step1.len() as u8]);
    bytes.extend(mask);
    bytes.extend(step1.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    stream.write_all(&bytes).await.expect("write");
    let got = read_until(&mut stream, "the answer to sync step 1", |got| {
        let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
        // Frames after the head; the server's are unmasked with short lengths here.
        let mut frames = &got[end + 4..];
        while frames.len() >= 2 && frames.len() >= 2 + usize::from(frames[1]) {
            let payload = &frames[2..2 + usize::from(frames[1])];
            if frames[0] == 0x82 && payload.starts_with(&[0, 1]) {
                return true;
            }
            frames = &frames[2 + usize::from(frames[1])..];
        }
        false
    })
    .await;
    let head = String::from_utf8_lossy(&got);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.to_ascii_lowercase().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "{head}");
}

on_both_backends!(frames_sent_with_the_handshake_are_answered);

/// A websocket handshake sent to an endpoint that is not a websocket gets that endpoint's
/// ordinary answer (or its refusal), and the connection ends after it.
async fn upgrades_to_plain_endpoints_get_their_answer(app: TestApp) {
    use tokio::io::AsyncWriteExt;
    let port: u16 = app.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    for (path, status) in [("/healthz", "200"), ("/api/me", "401"), ("/api/no-such-thing", "404")] {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        stream.write_all(handshake(path, port).as_bytes()).await.expect("write");
        // Until the server closes the connection.
        let got = read_until(&mut stream, path, |_| false).await;
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with(&format!("HTTP/1.1 {status}")), "{path}: {text}");
        assert!(text.to_ascii_lowercase().contains("connection: close"), "{path}: {text}");
        let body = &text[text.find("\r\n\r\n").expect("a head") + 4..];
        assert!(body.starts_with('{'), "{path}: a JSON body, got {body:?}");
    }
}

on_both_backends!(upgrades_to_plain_endpoints_get_their_answer);
