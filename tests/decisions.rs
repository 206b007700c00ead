//! From a shared text to a decision, end to end on both backends: brackets that block, a call
//! for objections that one objection sends back, abstentions that do not, declared adoption with
//! a number, frozen text, versions and diffs, the race between an objection and an adoption, and
//! the written procedure adopted by the scheduler exactly once — even when the deadline passed
//! while the server was stopped.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::ws::Client;
use common::*;
use serde_json::{Value, json};

const NAMIBIA: &str = "ndapewa.shikongo@na.kp.example";
const BRACKETED: &str = "The Working Group,\n\nDecides:\n\n1. A visit [at least once every three years] / [within five years].\n\n2. Reports go to the WGM.";

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).single().expect("instant")
}

/// A working group chaired by Botswana in 2025, and a draft of it with `text`.
async fn setup(app: &TestApp, text: &str) -> (i64, i64) {
    app.seed_demo().await;
    app.clock.set(at(2025, 6, 2));
    let admin = app.login(ADMIN, PASSWORD).await;
    let list = admin.json("/api/bodies").await;
    let plenary = list
        .as_array()
        .and_then(|l| l.iter().find(|b| b["short_name"] == "KP"))
        .and_then(|b| b["id"].as_i64())
        .expect("KP");
    let res = admin
        .post("/api/bodies", &json!({"name": "Working group D", "short_name": "WGD", "kind": "working_group", "parent_id": plenary, "created_on": "2020-01-01"}))
        .await;
    let group = res.json::<Value>().await.expect("json")["id"].as_i64().expect("group");
    let bw = app.organisation_id(&admin, "BW").await;
    let res = admin
        .post(
            &format!("/api/bodies/{group}/terms"),
            &json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let author = app.login(BOTSWANA, PASSWORD).await.user_id();
    let draft = insert_draft(app, group, author, "Decision on review visits", text).await;
    (group, draft)
}

/// A draft of `group` with `text`, written by `author` (stored as the service stores one).
async fn insert_draft(app: &TestApp, group: i64, author: i64, title: &str, text: &str) -> i64 {
    let (title, text) = (title.to_string(), text.to_string());
    app.state
        .db
        .write(move |c| {
            let input = plenum::drafting::model::ValidNewDraft::try_from(plenum::drafting::model::NewDraft {
                title,
                body_id: Some(group),
                ..Default::default()
            })?;
            plenum::drafting::service::insert(c, author, chrono::Utc::now().naive_utc(), &input, &text)
        })
        .await
        .expect("draft")
}

/// Replaces the draft's text, as a delegate's edit stored through the log.
async fn edit(app: &TestApp, draft: i64, user: i64, new_text: &str) {
    let new_text = new_text.to_string();
    app.state
        .db
        .write(move |c| {
            use plenum::drafting::store;
            use yrs::{GetString, ReadTxn, Text, Transact};
            let stored = store::load(c, draft)?;
            let last = store::last_seq(c, draft)?;
            let doc = stored.to_doc()?;
            let content = doc.get_or_insert_text(store::TEXT_NAME);
            let before = doc.transact().state_vector();
            {
                let mut txn = doc.transact_mut();
                let len = content.get_string(&txn).chars().count() as u32;
                content.remove_range(&mut txn, 0, len);
                content.insert(&mut txn, 0, &new_text);
            }
            let update = doc.transact().encode_diff_v1(&before);
            store::append(c, draft, last, &[store::NewUpdate { user_id: user, data: update }], 0)?;
            Ok(())
        })
        .await
        .expect("edit stored");
}

async fn consensus_objections_and_adoption(app: TestApp) {
    let (group, draft) = setup(&app, BRACKETED).await;
    let chair = app.login(BOTSWANA, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    let observer = app.login(OBSERVER, PASSWORD).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let view = chair.json(&format!("/api/drafts/{draft}")).await;
    assert_eq!(view["brackets"]["clean"], false);
    assert_eq!(view["brackets"]["open"][0]["paragraph"], 3);
    assert_eq!(view["brackets"]["open"][0]["alternatives"], view["brackets"]["open"][1]["alternatives"]);
    // Brackets block every step towards adoption, with the reason.
    for step in ["final-reading", "call-for-objections"] {
        let p = problem(chair.post(&format!("/api/drafts/{draft}/{step}"), &json!({})).await, 409).await;
        assert!(p["detail"].as_str().unwrap_or("").contains("at least once every three years"), "{p}");
    }
    // Only the chair moves the draft, not the secretariat.
    assert_eq!(admin.post(&format!("/api/drafts/{draft}/final-reading"), &json!({})).await.status(), 403);
    let clean =
        "The Working Group,\n\nDecides:\n\n1. A visit at least once every three years.\n\n2. Reports go to the WGM.";
    edit(&app, draft, india.user_id(), clean).await;
    assert_eq!(chair.json(&format!("/api/drafts/{draft}")).await["brackets"]["clean"], true);
    // The draft is on the agenda of the group's meeting: its steps reach the meeting's feed.
    let res = chair
        .post(
            "/api/meetings",
            &json!({"body_id": group, "kind": "working_group", "title": "WGD meeting", "time_zone": "UTC",
                "starts_at": "2025-06-02T08:00:00Z", "ends_at": "2025-06-02T17:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let meeting = res.json::<Value>().await.expect("json")["id"].as_i64().expect("meeting");
    let res = chair.post(&format!("/api/meetings/{meeting}/agenda"), &json!({"title": "Review visits"})).await;
    let item = res.json::<Value>().await.expect("json")["id"].as_i64().expect("item");
    let link = chair
        .request(reqwest::Method::PUT, &format!("/api/agenda-items/{item}/drafts/{draft}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(link.status(), 204);
    let seq_before = chair.json(&format!("/api/meetings/{meeting}")).await["event_seq"].as_i64().expect("seq");
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/final-reading"), &json!({})).await.status(), 200);
    let agenda = chair.json(&format!("/api/meetings/{meeting}/agenda")).await;
    assert_eq!(agenda["items"][0]["drafts"][0]["stage"], "final_reading");
    assert!(chair.json(&format!("/api/meetings/{meeting}")).await["event_seq"].as_i64() > Some(seq_before));
    assert_eq!(india.json(&format!("/api/drafts/{draft}")).await["can_edit"], false, "nobody edits in final reading");
    let res = chair.post(&format!("/api/drafts/{draft}/call-for-objections"), &json!({"minutes": 30})).await;
    assert_eq!(res.status(), 200);
    assert!(res.json::<Value>().await.expect("json")["objections_until"].is_string(), "the room's countdown");
    // Observers and the secretariat do not object.
    let objection = json!({"reason": "The three-year cycle is too short for small producers."});
    assert_eq!(observer.post(&format!("/api/drafts/{draft}/objections"), &objection).await.status(), 403);
    assert_eq!(admin.post(&format!("/api/drafts/{draft}/objections"), &objection).await.status(), 403);
    assert_eq!(
        problem(india.post(&format!("/api/drafts/{draft}/objections"), &json!({"reason": " "})).await, 422).await["errors"]
            [0]["field"],
        "reason"
    );
    let res = india.post(&format!("/api/drafts/{draft}/objections"), &objection).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.expect("json")["stage"], "drafting", "one objection sends it back");
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/adopt"), &json!({})).await.status(), 409);
    let recorded = chair.json(&format!("/api/drafts/{draft}/objections")).await;
    assert_eq!(recorded[0]["organisation"], "India");
    assert_eq!(recorded[0]["kind"], "objection");
    // The objection is met by editing; the chair calls again; an abstention does not block.
    edit(&app, draft, india.user_id(), &clean.replace("three", "five")).await;
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/call-for-objections"), &json!({})).await.status(), 200);
    let namibia = app.login(NAMIBIA, PASSWORD).await;
    let res = namibia
        .post(&format!("/api/drafts/{draft}/objections"), &json!({"kind": "abstention", "reason": "No instructions."}))
        .await;
    assert_eq!(res.json::<Value>().await.expect("json")["stage"], "call_for_objections");
    let res = chair.post(&format!("/api/drafts/{draft}/adopt"), &json!({})).await;
    assert_eq!(res.status(), 201);
    let decision = res.json::<Value>().await.expect("json");
    assert_eq!(decision["number"], "AD 2025/01");
    assert!(decision["text"].as_str().unwrap_or("").contains("every five years"));
    // Frozen: nothing moves it, nobody may write, and the register has it.
    assert_eq!(
        india.post(&format!("/api/drafts/{draft}/objections"), &objection).await.status(),
        409,
        "too late to object"
    );
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/reopen"), &json!({})).await.status(), 409);
    assert_eq!(admin.patch(&format!("/api/drafts/{draft}"), &json!({"title": "Other"})).await.status(), 409);
    for s in [&chair, &india] {
        assert_eq!(s.json(&format!("/api/drafts/{draft}")).await["can_edit"], false);
    }
    let register = observer.json(&format!("/api/decisions?body_id={group}&q=five+years")).await;
    assert_eq!(register[0]["number"], "AD 2025/01");
    let id = register[0]["id"].as_i64().expect("id");
    let md = observer.get(&format!("/api/decisions/{id}.md")).await.text().await.expect("md");
    assert!(md.starts_with("# AD 2025/01 — Decision on review visits") && md.contains("every five years"), "{md}");
    // The meeting's report: agenda, decisions with their text, objections; the chair turns it
    // into a draft (the communiqué) to co-edit and adopt.
    assert_eq!(chair.post(&format!("/api/meetings/{meeting}/convene"), &json!({})).await.status(), 200);
    let report = india.get(&format!("/api/meetings/{meeting}/report.md")).await.text().await.expect("md");
    assert!(
        report.contains("## Decisions adopted")
            && report.contains("### AD 2025/01")
            && report.contains("every five years"),
        "{report}"
    );
    assert!(report.contains("objection by India"), "{report}");
    let page = india.get(&format!("/api/meetings/{meeting}/report.html")).await.text().await.expect("html");
    assert!(page.contains("<h2>Decisions adopted</h2>"));
    let res = chair.post(&format!("/api/meetings/{meeting}/report"), &json!({})).await;
    assert_eq!(res.status(), 201);
    let communique = res.json::<Value>().await.expect("json")["id"].as_i64().expect("draft");
    let text = chair.json(&format!("/api/drafts/{communique}")).await["text"].as_str().unwrap_or("").to_string();
    assert!(text.contains("AD 2025/01") && text.contains("Review visits"), "{text}");
    assert_eq!(india.post(&format!("/api/meetings/{meeting}/report"), &json!({})).await.status(), 403);
    // Versions at every step, and a word-level diff from the first to the adopted text.
    let versions = chair.json(&format!("/api/drafts/{draft}/versions")).await;
    let labels: Vec<&str> = versions.as_array().expect("versions").iter().filter_map(|v| v["label"].as_str()).collect();
    assert_eq!(labels, vec!["final reading", "as called for objections", "as called for objections", "as adopted"]);
    let diff = chair.json(&format!("/api/drafts/{draft}/diff?from=1&to=4")).await;
    let parts = diff["parts"].as_array().expect("parts");
    assert!(parts.iter().any(|p| p["op"] == "delete" && p["text"].as_str().unwrap_or("").contains("three")), "{diff}");
    assert!(parts.iter().any(|p| p["op"] == "insert" && p["text"].as_str().unwrap_or("").contains("five")), "{diff}");
    assert_eq!(chair.get(&format!("/api/drafts/{draft}/versions/99")).await.status(), 404);
    // A later decision amends this one: links both ways.
    let author = chair.user_id();
    let second = insert_draft(&app, group, author, "Amendment on review visits", "1. Visits may be virtual.").await;
    let p = problem(
        chair.post(&format!("/api/drafts/{second}/relations"), &json!({"kind": "amends", "decision_id": 424242})).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "decision_id");
    let res =
        chair.post(&format!("/api/drafts/{second}/relations"), &json!({"kind": "amends", "decision_id": id})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(chair.post(&format!("/api/drafts/{second}/call-for-objections"), &json!({})).await.status(), 200);
    let res = chair.post(&format!("/api/drafts/{second}/adopt"), &json!({})).await;
    let amending = res.json::<Value>().await.expect("json");
    assert_eq!(amending["number"], "AD 2025/02");
    assert_eq!(amending["relates_to"][0]["number"], "AD 2025/01");
    assert_eq!(amending["relates_to"][0]["kind"], "amends");
    let first = observer.json(&format!("/api/decisions/{id}")).await;
    assert_eq!(first["related_by"][0]["number"], "AD 2025/02");
    assert_eq!(
        chair
            .post(&format!("/api/drafts/{second}/relations"), &json!({"kind": "repeals", "decision_id": id}))
            .await
            .status(),
        409
    );
    // Who wrote what: Botswana's first text, India's edits, kept after compaction too.
    let who = chair.json(&format!("/api/drafts/{draft}/authorship")).await;
    let orgs: Vec<&str> = who["legend"]
        .as_array()
        .expect("legend")
        .iter()
        .filter_map(|l| l["organisation"]["short_code"].as_str())
        .collect();
    assert_eq!(orgs, vec!["IN"], "India rewrote the whole text: {who}");
    let first = chair.json(&format!("/api/drafts/{draft}/authorship?version=1")).await;
    assert!(
        first["passages"].as_array().expect("passages").iter().all(|p| p["organisation"]["short_code"] == "IN"),
        "{first}"
    );
    let written: String = who["passages"].as_array().expect("p").iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(written.contains("every five years"));
}

async fn the_first_committed_of_objection_and_adoption_wins(app: TestApp) {
    let (_, draft) = setup(&app, "1. A clean text.").await;
    let chair = app.login(BOTSWANA, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    let mut adopted = 0;
    for round in 0..6 {
        assert_eq!(
            chair.post(&format!("/api/drafts/{draft}/call-for-objections"), &json!({})).await.status(),
            200,
            "round {round}"
        );
        let (adopt_path, object_path) =
            (format!("/api/drafts/{draft}/adopt"), format!("/api/drafts/{draft}/objections"));
        let (empty, reason) = (json!({}), json!({"reason": format!("round {round}")}));
        let (a, o) = tokio::join!(chair.post(&adopt_path, &empty), india.post(&object_path, &reason));
        let (a, o) = (a.status().as_u16(), o.status().as_u16());
        assert!(matches!((a, o), (201, 409) | (409, 200)), "round {round}: adopt {a}, object {o}");
        let stage = chair.json(&format!("/api/drafts/{draft}")).await["stage"].clone();
        let objections = chair.json(&format!("/api/drafts/{draft}/objections")).await;
        let this_round =
            objections.as_array().expect("list").iter().filter(|x| x["reason"] == format!("round {round}")).count();
        if a == 201 {
            assert_eq!((stage.as_str(), this_round), (Some("adopted"), 0), "an objection that lost is not recorded");
            adopted += 1;
            break;
        }
        assert_eq!((stage.as_str(), this_round), (Some("drafting"), 1));
    }
    let decisions = chair.json("/api/decisions").await;
    assert_eq!(decisions.as_array().map(Vec::len), Some(adopted), "never two decisions");
}

async fn written_procedure_breaks_or_passes_in_silence(app: TestApp) {
    let (_, draft) = setup(&app, "1. A text with [brackets].").await;
    let chair = app.login(BOTSWANA, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    let deadline = json!({"deadline": "2025-06-20T12:00:00Z"});
    assert_eq!(
        problem(
            chair
                .post(&format!("/api/drafts/{draft}/written-procedure"), &json!({"deadline": "2025-06-01T00:00:00Z"}))
                .await,
            422
        )
        .await["errors"][0]["field"],
        "deadline"
    );
    problem(chair.post(&format!("/api/drafts/{draft}/written-procedure"), &deadline).await, 409).await;
    edit(&app, draft, chair.user_id(), "1. A text without them.").await;
    let res = chair.post(&format!("/api/drafts/{draft}/written-procedure"), &deadline).await;
    assert_eq!(res.status(), 200);
    let circulated = eventually("the circulation mails", Duration::from_secs(10), || async {
        let m: Vec<_> =
            app.state.mailer.sent().into_iter().filter(|m| m.subject.contains("written procedure")).collect();
        if m.iter().any(|m| m.to == INDIA) { Ok(m) } else { Err(m.len()) }
    })
    .await;
    assert!(circulated.iter().all(|m| m.text.contains("A text without them.") && m.text.contains("20 June 2025")));
    assert!(!circulated.iter().any(|m| m.to == OBSERVER), "participants decide");
    // India objects before the deadline: silence is broken, everyone is told.
    assert_eq!(
        india
            .post(&format!("/api/drafts/{draft}/objections"), &json!({"reason": "Not in writing."}))
            .await
            .json::<Value>()
            .await
            .expect("json")["stage"],
        "silence_broken"
    );
    eventually("the silence-broken mails", Duration::from_secs(10), || async {
        let n =
            app.state.mailer.sent().iter().filter(|m| m.subject.contains("silence broken") && m.to == BOTSWANA).count();
        if n == 1 { Ok(()) } else { Err(n) }
    })
    .await;
    // Circulated again; the reminder goes out once, 48 hours before the deadline.
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/written-procedure"), &deadline).await.status(), 200);
    let ctx = app.state.decision_context();
    app.clock.set(Utc.with_ymd_and_hms(2025, 6, 19, 0, 0, 0).single().expect("instant"));
    for _ in 0..2 {
        plenum::scheduler::run_once(&app.state, &ctx).await.expect("run");
    }
    let reminders = eventually("the reminders", Duration::from_secs(10), || async {
        let n = app.state.mailer.sent().iter().filter(|m| m.subject.contains("reminder") && m.to == INDIA).count();
        if n >= 1 { Ok(n) } else { Err(n) }
    })
    .await;
    assert_eq!(reminders, 1);
    let chair = app.login(BOTSWANA, PASSWORD).await;
    assert_eq!(
        chair.json(&format!("/api/drafts/{draft}")).await["stage"],
        "written_procedure",
        "not before the deadline"
    );
}

async fn silence_adopts_once_even_if_the_server_was_down(app: TestApp) {
    let (_, draft) = setup(&app, "1. Cameroon is admitted as a Participant.").await;
    let chair = app.login(BOTSWANA, PASSWORD).await;
    let res = chair
        .post(&format!("/api/drafts/{draft}/written-procedure"), &json!({"deadline": "2025-06-10T17:00:00Z"}))
        .await;
    assert_eq!(res.status(), 200);
    // Nothing runs the scheduler until the deadline has passed (the test servers run it only
    // when told). Then a second instance starts with its scheduler on — it runs at start-up —
    // while the first runs it too.
    let second = app.spawn_second_with(|c| c.scheduler_secs = 1).await;
    let ctx = app.state.decision_context();
    app.clock.set(Utc.with_ymd_and_hms(2025, 6, 12, 8, 0, 0).single().expect("instant"));
    plenum::scheduler::run_once(&app.state, &ctx).await.expect("run");
    let db = second.state.db.clone();
    // Days later, the chair signs in again.
    let chair = app.login(BOTSWANA, PASSWORD).await;
    eventually("the adoption", Duration::from_secs(10), || async {
        let n = chair.json("/api/decisions").await.as_array().map(Vec::len).unwrap_or(0);
        if n >= 1 { Ok(()) } else { Err(n) }
    })
    .await;
    plenum::scheduler::run_once(&app.state, &ctx).await.expect("run again");
    let decisions = db
        .read(move |c| {
            use diesel::prelude::*;
            use plenum::db::schema::decisions;
            Ok(decisions::table
                .filter(decisions::draft_id.eq(draft))
                .select((decisions::number, decisions::adopted_at, decisions::procedure))
                .load::<(String, chrono::NaiveDateTime, String)>(c)?)
        })
        .await
        .expect("decisions");
    assert_eq!(decisions.len(), 1, "adopted exactly once");
    assert_eq!(decisions[0].1.and_utc().to_rfc3339(), "2025-06-10T17:00:00+00:00", "at the deadline, not when noticed");
    assert_eq!(decisions[0].2, "written");
}

/// Appends `more` at the end of the draft's text, as `user`'s edit.
async fn append_text(app: &TestApp, draft: i64, user: i64, more: &str) {
    let more = more.to_string();
    app.state
        .db
        .write(move |c| {
            use plenum::drafting::store;
            use yrs::{GetString, ReadTxn, Text, Transact};
            let doc = store::load(c, draft)?.to_doc()?;
            let last = store::last_seq(c, draft)?;
            let content = doc.get_or_insert_text(store::TEXT_NAME);
            let before = doc.transact().state_vector();
            {
                let mut txn = doc.transact_mut();
                let len = content.get_string(&txn).chars().count() as u32;
                content.insert(&mut txn, len, &more);
            }
            let update = doc.transact().encode_diff_v1(&before);
            store::append(c, draft, last, &[store::NewUpdate { user_id: user, data: update }], 0)?;
            Ok(())
        })
        .await
        .expect("edit stored");
}

async fn authorship_survives_compaction(app: TestApp) {
    let (_, draft) = setup(&app, "Decides that ").await;
    let chair = app.login(BOTSWANA, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    append_text(&app, draft, india.user_id(), "review visits are annual.").await;
    let expect = |who: &Value| {
        let p: Vec<(String, String)> = who["passages"]
            .as_array()
            .expect("passages")
            .iter()
            .map(|p| {
                (
                    p["text"].as_str().unwrap_or("").into(),
                    p["organisation"]["short_code"].as_str().unwrap_or("?").into(),
                )
            })
            .collect();
        assert_eq!(
            p,
            vec![
                ("Decides that ".to_string(), "BW".to_string()),
                ("review visits are annual.".to_string(), "IN".to_string())
            ],
            "{who}"
        );
    };
    expect(&chair.json(&format!("/api/drafts/{draft}/authorship")).await);
    // Compaction folds the log into a snapshot: the authors stay known.
    app.state
        .db
        .write(move |c| {
            use plenum::drafting::store;
            let doc = store::load(c, draft)?.to_doc()?;
            let seq = store::last_seq(c, draft)?;
            store::compact(c, draft, seq, &doc)?;
            Ok(())
        })
        .await
        .expect("compacted");
    let who = chair.json(&format!("/api/drafts/{draft}/authorship")).await;
    expect(&who);
    assert_eq!(who["legend"][0]["organisation"]["short_code"], "IN", "most characters first");
}

/// Waits until `client` has received a stage notice saying `stage` (and, if given, `recorded`
/// objections and abstentions); the notice is returned.
async fn notice_reaches(client: &mut Client, stage: &str, recorded: Option<i64>) -> Value {
    let found = |c: &Client| {
        c.stages.iter().rev().find(|n| n["stage"] == stage && recorded.is_none_or(|r| n["recorded"] == r)).cloned()
    };
    let closed =
        client.pump_until(&format!("a stage notice: {stage}"), Duration::from_secs(10), |c| found(c).is_some()).await;
    assert_eq!(closed, None, "the room closed the connection while we waited for {stage}");
    found(client).expect("notice")
}

/// Final reading: the chair alone still mends the text, over the same socket as everyone; each
/// step is pushed to the rooms of clients that follow stages (and to no stock client).
async fn final_reading_is_the_chairs_and_rooms_hear_each_step(app: TestApp) {
    let (_, draft) = setup(&app, "1. A clean text.").await;
    let chair = app.login(BOTSWANA, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    let mut kabo = Client::connect_following_stages(&app, draft, &chair.token).await;
    let mut priya = Client::connect_following_stages(&app, draft, &india.token).await;
    let mut stock = Client::connect(&app, draft, &india.token).await;
    // Joining, a follower is told where the draft stands.
    assert_eq!(notice_reaches(&mut priya, "drafting", Some(0)).await["draft_id"], draft);
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/final-reading"), &json!({})).await.status(), 200);
    notice_reaches(&mut kabo, "final_reading", None).await;
    notice_reaches(&mut priya, "final_reading", None).await;
    let (as_chair, as_india) =
        (chair.json(&format!("/api/drafts/{draft}")).await, india.json(&format!("/api/drafts/{draft}")).await);
    assert_eq!(as_chair["can_edit"], true, "the chair mends the text");
    assert_eq!(as_india["can_edit"], false);
    // Who conducts and who may object is the server's answer, not the client's guess.
    assert_eq!((as_chair["can_conduct"].as_bool(), as_india["can_conduct"].as_bool()), (Some(true), Some(false)));
    assert_eq!(as_india["can_object"], true);
    let observer = app.login(OBSERVER, PASSWORD).await;
    let as_observer = observer.json(&format!("/api/drafts/{draft}")).await;
    assert_eq!((as_observer["can_object"].as_bool(), as_observer["can_conduct"].as_bool()), (Some(false), Some(false)));
    kabo.type_text("As read out: ").await;
    let text = eventually("the chair's mend stored", Duration::from_secs(10), || async {
        let text = chair.json(&format!("/api/drafts/{draft}")).await["text"].as_str().unwrap_or("").to_string();
        if text.starts_with("As read out: ") { Ok(text) } else { Err(text) }
    })
    .await;
    priya.pump_until("the chair's mend", Duration::from_secs(10), |c| c.text() == text).await;
    priya.type_text("India's late idea. ").await;
    let closed = priya.pump_until("India's refusal", Duration::from_secs(10), |c| c.denied > 0).await;
    assert_eq!(closed, None, "a refused writer stays connected, read-only");
    assert_eq!(chair.json(&format!("/api/drafts/{draft}")).await["text"], text.as_str(), "nothing of India's stored");
    // Calling for objections closes the text to the chair too.
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/call-for-objections"), &json!({})).await.status(), 200);
    notice_reaches(&mut kabo, "call_for_objections", Some(0)).await;
    kabo.type_text("Too late. ").await;
    kabo.pump_until("the chair's refusal", Duration::from_secs(10), |c| c.denied > 0).await;
    // An abstention moves nothing, but the rooms hear of it.
    let res = india
        .post(&format!("/api/drafts/{draft}/objections"), &json!({"kind": "abstention", "reason": "No instructions."}))
        .await;
    assert_eq!(res.status(), 200);
    notice_reaches(&mut kabo, "call_for_objections", Some(1)).await;
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/adopt"), &json!({})).await.status(), 201);
    notice_reaches(&mut priya, "adopted", None).await;
    assert_eq!(chair.json(&format!("/api/drafts/{draft}")).await["text"], text.as_str());
    // A stock client never asked, so never got a message it does not know.
    stock.pump(Duration::from_millis(200)).await;
    assert!(stock.stages.is_empty(), "{:?}", stock.stages);
}

/// A step taken on one instance reaches the room of the draft on another (NOTIFY), which then
/// refuses what its clients may no longer write.
#[actix_web::test]
async fn steps_reach_rooms_on_other_instances_postgres() {
    let one = TestApp::spawn(Backend::Postgres).await;
    let (_, draft) = setup(&one, "1. A clean text.").await;
    let two = one.spawn_second().await;
    two.clock.set(at(2025, 6, 2));
    let chair = one.login(BOTSWANA, PASSWORD).await;
    let india = two.login(INDIA, PASSWORD).await;
    let mut priya = Client::connect_following_stages(&two, draft, &india.token).await;
    notice_reaches(&mut priya, "drafting", None).await;
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/final-reading"), &json!({})).await.status(), 200);
    notice_reaches(&mut priya, "final_reading", None).await;
    priya.type_text("India's late idea. ").await;
    priya.pump_until("India's refusal on the other instance", Duration::from_secs(10), |c| c.denied > 0).await;
    assert_eq!(india.json(&format!("/api/drafts/{draft}")).await["text"], "1. A clean text.");
}

/// The page count and the text of a PDF, its whitespace made single spaces (lines and pieces
/// of text are placed separately, so a phrase may span a line break).
fn pdf_text(bytes: &[u8]) -> (usize, String) {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF: {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(40)]));
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF that lopdf reads");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("extractable text");
    (pages.len(), text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A PDF download: its status, type and file name checked; its bytes.
async fn pdf_download(session: &Session, path: &str, file_name: &str) -> Vec<u8> {
    let res = session.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("content-type"), "application/pdf");
    assert_eq!(header("content-disposition"), format!("attachment; filename=\"{file_name}\""));
    res.bytes().await.expect("bytes").to_vec()
}

async fn decisions_are_published_as_html_and_pdf(app: TestApp) {
    let mut text = String::from(
        "The Working Group on Monitoring, meeting in Brussels — on the “Côte d’Ivoire” plan <script>alert(1)</script>,\n\nDecides:",
    );
    for n in 1..=60 {
        text.push_str(&format!(
            "\n\n{n}. Every Participant shall receive a review visit at least once every three years, on its own \
             invitation; the team reports to the Working Group on Monitoring."
        ));
    }
    let (group, draft) = setup(&app, &text).await;
    let chair = app.login(BOTSWANA, PASSWORD).await;
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/call-for-objections"), &json!({})).await.status(), 200);
    let res = chair.post(&format!("/api/drafts/{draft}/adopt"), &json!({})).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    // A later decision amends it: both exports say so.
    let author = chair.user_id();
    let second = insert_draft(&app, group, author, "Amendment on review visits", "1. Visits may be virtual.").await;
    let res =
        chair.post(&format!("/api/drafts/{second}/relations"), &json!({"kind": "amends", "decision_id": id})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(chair.post(&format!("/api/drafts/{second}/call-for-objections"), &json!({})).await.status(), 200);
    let res = chair.post(&format!("/api/drafts/{second}/adopt"), &json!({})).await;
    let amending = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");

    // The print-ready page, for anyone who may read the decision.
    let observer = app.login(OBSERVER, PASSWORD).await;
    let res = observer.get(&format!("/api/decisions/{id}.html")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let page = res.text().await.expect("html");
    assert!(page.starts_with("<!doctype html>\n<html lang=\"en\">"), "{page}");
    assert!(page.contains("<title>AD 2025/01 — Decision on review visits</title>"), "{page}");
    assert!(page.contains("<h1>AD 2025/01 — Decision on review visits</h1>"), "{page}");
    assert!(page.contains("<p class=\"note\">Adopted 2 June 2025 by consensus.</p>"), "{page}");
    assert!(page.contains("<p>Decides:</p>") && page.contains("<p>60. Every Participant"), "{page}");
    assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"), "{page}");
    assert!(page.contains("Amended by AD 2025/02 — Amendment on review visits"), "{page}");
    assert!(page.contains("@media print"), "{page}");
    // The Markdown says the same.
    let md = observer.get(&format!("/api/decisions/{id}.md")).await.text().await.expect("md");
    assert!(md.starts_with("# AD 2025/01 — Decision on review visits\n"), "{md}");
    assert!(md.contains("\n- Amended by AD 2025/02 — Amendment on review visits"), "{md}");

    // The PDF: real text, non-ASCII included, over several numbered pages.
    let bytes = pdf_download(&observer, &format!("/api/decisions/{id}.pdf"), "AD-2025-01.pdf").await;
    let (pages, text) = pdf_text(&bytes);
    assert!(pages > 1, "{pages} page(s): the long text is not broken into pages");
    for phrase in [
        "AD 2025/01 — Decision on review visits",
        "Adopted 2 June 2025 by consensus.",
        "meeting in Brussels — on the “Côte d’Ivoire” plan <script>alert(1)</script>,",
        "1. Every Participant shall receive a review visit",
        "60. Every Participant shall receive a review visit",
        "Amended by AD 2025/02 — Amendment on review visits",
        "Page 1 of",
        &format!("Page {pages} of {pages}"),
    ] {
        assert!(text.contains(phrase), "{phrase:?} is not in the PDF's text: {text}");
    }
    let (_, amends) =
        pdf_text(&pdf_download(&chair, &format!("/api/decisions/{amending}.pdf"), "AD-2025-02.pdf").await);
    assert!(
        amends.contains("Amends AD 2025/01 — Decision on review visits") && amends.contains("Visits may be virtual.")
    );
    assert!(!amends.contains("Page 2 of"), "a short decision is one page: {amends}");

    // Unknown decisions, and nobody signed in.
    for ext in ["html", "pdf"] {
        assert_eq!(
            problem(observer.get(&format!("/api/decisions/424242.{ext}")).await, 404).await["code"],
            "not-found"
        );
        assert_eq!(app.get(&format!("/api/decisions/{id}.{ext}")).await.status(), 401);
    }
}

async fn reports_export_as_pdf_and_observers_never_see_closed_sessions(app: TestApp) {
    const CLOSED: &str = "Côte d'Ivoire: compliance and the UN embargo";
    app.seed_demo().await;
    let participant = app.login(INDIA, PASSWORD).await;
    let observer = app.login(OBSERVER, PASSWORD).await;
    let meeting = participant
        .json("/api/meetings")
        .await
        .as_array()
        .and_then(|m| m.iter().find(|m| m["title"] == "Brussels Plenary 2007"))
        .and_then(|m| m["id"].as_i64())
        .expect("the demo plenary");
    let path = format!("/api/meetings/{meeting}/report.pdf");
    let file_name = format!("meeting-{meeting}-report.pdf");
    // The participants' report: the closed session is in it, as in its Markdown and HTML.
    let (pages, text) = pdf_text(&pdf_download(&participant, &path, &file_name).await);
    for phrase in [
        "Brussels Plenary 2007",
        "Charlemagne building, Brussels",
        "Agenda (proposed)",
        "5. Administrative decision on peer review visits — pending",
        CLOSED,
        "Drafts still open",
        "Brussels Plenary 2007 — Administrative decision on peer review visits",
        &format!("Page {pages} of {pages}"),
    ] {
        assert!(text.contains(phrase), "{phrase:?} is not in the participants' report: {text}");
    }
    for format in ["md", "html"] {
        let other =
            participant.get(&format!("/api/meetings/{meeting}/report.{format}")).await.text().await.expect("text");
        assert!(other.contains(CLOSED) && other.contains("Drafts still open"), "{other}");
    }
    // The observers' report: everything else, never the closed session.
    let (_, seen) = pdf_text(&pdf_download(&observer, &path, &file_name).await);
    assert!(seen.contains("Brussels Plenary 2007") && seen.contains("Selection of the Vice-Chair for 2008"), "{seen}");
    assert!(!seen.contains(CLOSED) && !seen.contains("UN embargo"), "the observers' report leaked: {seen}");
    for format in ["md", "html"] {
        let other = observer.get(&format!("/api/meetings/{meeting}/report.{format}")).await.text().await.expect("text");
        assert!(!other.contains("UN embargo"), "{other}");
    }
    // Unknown meetings, and nobody signed in.
    assert_eq!(problem(observer.get("/api/meetings/424242/report.pdf").await, 404).await["code"], "not-found");
    assert_eq!(app.get(&path).await.status(), 401);
}

/// A decision's number counts in its body's year: 03:00 UTC on 1 January 2026 is still 2025 in
/// New York (where the group's 2025 chair is still in office).
async fn the_year_of_a_decision_is_its_bodys(app: TestApp) {
    let (group, draft) = setup(&app, "1. A clean text.").await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let res = admin.patch(&format!("/api/bodies/{group}"), &json!({"time_zone": "America/New_York"})).await;
    assert_eq!(res.status(), 200);
    app.clock.set(Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).single().expect("instant"));
    let chair = app.login(BOTSWANA, PASSWORD).await;
    assert_eq!(chair.post(&format!("/api/drafts/{draft}/call-for-objections"), &json!({})).await.status(), 200);
    let res = chair.post(&format!("/api/drafts/{draft}/adopt"), &json!({})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.expect("json")["number"], "AD 2025/01");
}

on_both_backends!(
    the_year_of_a_decision_is_its_bodys,
    final_reading_is_the_chairs_and_rooms_hear_each_step,
    authorship_survives_compaction,
    consensus_objections_and_adoption,
    the_first_committed_of_objection_and_adoption_wins,
    written_procedure_breaks_or_passes_in_silence,
    silence_adopts_once_even_if_the_server_was_down,
    decisions_are_published_as_html_and_pdf,
    reports_export_as_pdf_and_observers_never_see_closed_sessions,
);
