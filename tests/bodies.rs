//! Bodies and the rotating chairmanship, end to end over HTTP on both backends: bodies, members
//! and terms with their validation; the chair's history; powers that change hands at midnight
//! in the body's time zone with nothing written; the acting-chair switch; the rotation rules and
//! the scheduler's notices, sent exactly once.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use diesel::prelude::*;
use serde_json::{Value, json};

const NAMIBIA: &str = "ndapewa.shikongo@na.kp.example";

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).single().expect("valid instant")
}

async fn plenary_id(admin: &Session) -> i64 {
    let list = admin.json("/api/bodies").await;
    list.as_array().expect("list").iter().find(|b| b["short_name"] == "KP").and_then(|b| b["id"].as_i64()).expect("KP")
}

/// Creates a working group below the plenary; returns its id.
async fn working_group(admin: &Session, short: &str, extra: Value) -> i64 {
    let plenary = plenary_id(admin).await;
    let mut body = json!({"name": format!("Working group {short}"), "short_name": short, "kind": "working_group",
        "parent_id": plenary, "mandate": "To test.", "created_on": "2020-01-01"});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let res = admin.post("/api/bodies", &body).await;
    assert_eq!(res.status(), 201, "create {short}");
    res.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
}

async fn add_term(admin: &Session, body: i64, term: Value) -> Value {
    let res = admin.post(&format!("/api/bodies/{body}/terms"), &term).await;
    assert_eq!(res.status(), 201, "term {term}");
    res.json().await.expect("json")
}

async fn count_rows(app: &TestApp, table: &'static str) -> i64 {
    use plenum::db::schema::{acting_chairs, chair_notices, chair_terms, mail_outbox};
    let db = app.state.db.clone();
    db.read(move |c| {
        Ok(match table {
            "chair_terms" => chair_terms::table.count().get_result::<i64>(c)?,
            "chair_notices" => chair_notices::table.count().get_result::<i64>(c)?,
            "acting_chairs" => acting_chairs::table.count().get_result::<i64>(c)?,
            "mail_outbox" => mail_outbox::table.count().get_result::<i64>(c)?,
            other => panic!("no table {other}"),
        })
    })
    .await
    .expect("count")
}

/// The recipients of the queued mails of one template about one body (named in the subject).
async fn mails(app: &TestApp, template: &'static str, body: &'static str) -> Vec<String> {
    use plenum::db::schema::mail_outbox;
    let db = app.state.db.clone();
    let mut out: Vec<String> = db
        .read(move |c| {
            Ok(mail_outbox::table
                .filter(mail_outbox::template.eq(template))
                .filter(mail_outbox::subject.like(format!("%{body}%")))
                .select(mail_outbox::recipient)
                .load(c)?)
        })
        .await
        .expect("mails");
    out.sort();
    out
}

async fn bodies_members_and_history(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let plenary = plenary_id(&admin).await;
    // The KP's chairs as history, by date.
    for (date, code) in [("2003-06-01", "ZA"), ("2007-11-05", "EC"), ("2021-03-01", "RU"), ("2024-12-31", "AE")] {
        let office = admin.json(&format!("/api/bodies/{plenary}/chair?at={date}")).await;
        assert_eq!(office["chairs"][0]["organisation"]["short_code"], code, "{date}: {office}");
    }
    let office = admin.json(&format!("/api/bodies/{plenary}/chair?at=2019-06-01")).await;
    assert_eq!(office["vice_chair"]["organisation"]["short_code"], "RU", "the 2019 vice-chair chaired in 2020");
    let terms = admin.json(&format!("/api/bodies/{plenary}/terms")).await;
    assert!(terms.as_array().expect("terms").len() >= 21, "KP chairs 2003–2024 and their vice-chairs");
    let wgde = admin.json("/api/bodies").await;
    let wgde = wgde.as_array().expect("list").iter().find(|b| b["short_name"] == "WGDE").cloned().expect("WGDE");
    assert_eq!(wgde["parent_id"], plenary);
    let wgde_terms = admin.json(&format!("/api/bodies/{}/terms", wgde["id"])).await;
    assert_eq!(wgde_terms[0]["organisation"]["short_code"], "WDC", "the WGDE is chaired by an observer");

    let group = working_group(&admin, "WGT", json!({})).await;
    let bw = app.organisation_id(&admin, "BW").await;
    let india = app.organisation_id(&admin, "IN").await;
    let wdc = app.organisation_id(&admin, "WDC").await;
    let put = |org: i64, body: Value| {
        let admin = admin.clone();
        async move {
            admin
                .request(reqwest::Method::PUT, &format!("/api/bodies/{group}/members/{org}"))
                .json(&body)
                .send()
                .await
                .expect("sent")
        }
    };
    assert_eq!(put(bw, json!({"since": "2020-01-01"})).await.status(), 201);
    assert_eq!(put(india, json!({"since": "2024-01-01", "provisional": true})).await.status(), 201);
    assert_eq!(put(wdc, json!({})).await.status(), 201, "observers may join by default");
    assert_eq!(put(india, json!({"provisional": false})).await.status(), 200);
    let p = problem(put(bw, json!({"since": "2020-01-01", "until": "2019-01-01"})).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "until");
    add_term(&admin, group, json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"})).await;
    let body = admin.json(&format!("/api/bodies/{group}")).await;
    assert_eq!(body["members"].as_array().expect("members").len(), 3);
    let chair = admin.json(&format!("/api/bodies/{group}/chair?at=2025-12-31")).await;
    assert_eq!(chair["chairs"][0]["organisation"]["short_code"], "BW");
    assert_eq!(chair["chairs"][0]["ends_on"], "2025-12-31", "a term is a calendar year by default");
    let none = admin.json(&format!("/api/bodies/{group}/chair?at=2026-01-01")).await;
    assert_eq!(none["chairs"], json!([]));
    assert_eq!(admin.delete(&format!("/api/bodies/{group}/members/{wdc}")).await.status(), 204);
    assert_eq!(admin.delete(&format!("/api/bodies/{group}/members/{wdc}")).await.status(), 404);
    // Observers follow; guests see nothing of bodies.
    let observer = app.login(OBSERVER, PASSWORD).await;
    assert_eq!(observer.json(&format!("/api/bodies/{group}")).await["can_manage"], false);
}

async fn bad_input_is_refused_and_changes_nothing(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let group = working_group(&admin, "WGB", json!({})).await;
    let bw = app.organisation_id(&admin, "BW").await;
    let india = app.organisation_id(&admin, "IN").await;
    let suspended = app.organisation_id(&admin, "CI").await;
    let wdc = app.organisation_id(&admin, "WDC").await;
    add_term(&admin, group, json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"})).await;
    let (audit, terms) = (app.audit_count().await, count_rows(&app, "chair_terms").await);
    let cases = [
        (json!({"office": "chair", "organisation_id": india, "starts_on": "2025-07-01"}), "starts_on", "overlaps"),
        (
            json!({"office": "chair", "organisation_id": suspended, "starts_on": "2027-01-01"}),
            "organisation_id",
            "suspended",
        ),
        (json!({"office": "chair", "organisation_id": wdc, "starts_on": "2027-01-01"}), "organisation_id", "observer"),
        (
            json!({"office": "vice_chair", "organisation_id": india, "starts_on": "2027-01-01", "ends_on": "2026-12-31"}),
            "ends_on",
            "before",
        ),
        (
            json!({"office": "chair", "organisation_id": 999_999, "starts_on": "2027-01-01"}),
            "organisation_id",
            "no such",
        ),
        (
            json!({"office": "chair", "organisation_id": india, "starts_on": "2027-01-01", "origin": "succession"}),
            "origin",
            "automatic",
        ),
    ];
    for (term, field, words) in cases {
        let p = problem(admin.post(&format!("/api/bodies/{group}/terms"), &term).await, 422).await;
        let errors = p["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["field"] == field && e["message"].as_str().unwrap_or("").contains(words)),
            "{term}: expected {field} ({words}) in {p}"
        );
    }
    let p = problem(
        admin
            .post(
                "/api/bodies/424242/terms",
                &json!({"office": "chair", "organisation_id": bw, "starts_on": "2027-01-01"}),
            )
            .await,
        404,
    )
    .await;
    assert!(p["detail"].as_str().unwrap_or("").contains("424242"), "{p}");
    let p = problem(admin.get("/api/bodies/424242").await, 404).await;
    assert_eq!(p["code"], "not-found");
    let p = problem(
        admin
            .post("/api/bodies", &json!({"name": "X", "short_name": "WGB", "kind": "working_group", "parent_id": 1}))
            .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap_or("").contains("WGB"), "{p}");
    let p = problem(
        admin
            .post("/api/bodies", &json!({"name": "Y", "short_name": "Y1", "kind": "ad_hoc", "time_zone": "Mars/Base"}))
            .await,
        422,
    )
    .await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    for f in ["time_zone", "parent_id", "ends_on"] {
        assert!(fields.contains(&f), "{f} in {p}");
    }
    // A change to a term needs a reason.
    let term_id = admin.json(&format!("/api/bodies/{group}/terms")).await[0]["id"].as_i64().expect("term");
    let p = problem(
        admin.patch(&format!("/api/terms/{term_id}"), &json!({"reason": " ", "ends_on": "2026-12-31"})).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    assert_eq!(app.audit_count().await, audit, "nothing audited: nothing changed");
    assert_eq!(count_rows(&app, "chair_terms").await, terms, "no term stored");
}

async fn powers_change_hands_at_midnight_in_the_body_s_time_zone(app: TestApp) {
    app.seed_demo().await;
    // Gaborone is UTC+2: its midnight of 1 January 2026 is 22:00 UTC on 31 December.
    let midnight = at(2025, 12, 31, 22, 0, 0);
    app.clock.set(midnight - chrono::Duration::hours(1));
    let admin = app.login(ADMIN, PASSWORD).await;
    let group = working_group(
        &admin,
        "WGH",
        json!({"time_zone": "Africa/Gaborone", "rotation": {"rule": "vice_chair_succeeds"}}),
    )
    .await;
    let bw = app.organisation_id(&admin, "BW").await;
    let india = app.organisation_id(&admin, "IN").await;
    add_term(&admin, group, json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"})).await;
    add_term(&admin, group, json!({"office": "vice_chair", "organisation_id": india, "starts_on": "2025-01-01"})).await;
    // The vice-chair's successor term exists at once: the handover needs no write when it comes.
    let terms = admin.json(&format!("/api/bodies/{group}/terms")).await;
    let successor =
        terms.as_array().expect("terms").iter().find(|t| t["origin"] == "succession").cloned().expect("successor");
    assert_eq!(
        (successor["organisation"]["id"].as_i64(), successor["starts_on"].as_str()),
        (Some(india), Some("2026-01-01"))
    );
    let body = admin.json(&format!("/api/bodies/{group}")).await;
    assert_eq!(body["next_handover"]["on"], "2026-01-01");
    assert_eq!(body["next_handover"]["at"], "2025-12-31T22:00:00Z");
    let res = admin.post("/api/drafts", &json!({"title": "WGH draft", "body_id": group})).await;
    assert_eq!(res.status(), 201);
    let draft = res.json::<Value>().await.expect("json")["id"].as_i64().expect("draft");

    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let india_s = app.login(INDIA, PASSWORD).await;
    let manages = |s: &Session| {
        let s = s.clone();
        async move { s.json(&format!("/api/bodies/{group}")).await["can_manage"].as_bool().expect("can_manage") }
    };
    app.clock.set(midnight - chrono::Duration::seconds(1));
    assert!(manages(&botswana).await, "one second before midnight Botswana chairs");
    assert!(!manages(&india_s).await, "one second before midnight India is only vice-chair");
    let before = (app.audit_count().await, admin.json(&format!("/api/bodies/{group}/terms")).await);
    let notices = (count_rows(&app, "chair_notices").await, count_rows(&app, "acting_chairs").await);

    app.clock.set(midnight);
    assert!(!manages(&botswana).await, "at midnight Botswana's term is over");
    assert!(manages(&india_s).await, "at midnight India chairs");
    app.clock.set(midnight + chrono::Duration::seconds(1));
    assert!(!manages(&botswana).await && manages(&india_s).await, "one second after midnight");
    // Nothing was written for the handover: the same terms, notices and audit log.
    assert_eq!(before, (app.audit_count().await, admin.json(&format!("/api/bodies/{group}/terms")).await));
    assert_eq!(notices, (count_rows(&app, "chair_notices").await, count_rows(&app, "acting_chairs").await));
    // And the powers are enforced, not only shown: running the body's draft.
    assert_eq!(botswana.patch(&format!("/api/drafts/{draft}"), &json!({"state": "locked"})).await.status(), 403);
    assert_eq!(india_s.patch(&format!("/api/drafts/{draft}"), &json!({"state": "locked"})).await.status(), 200);
    app.clock.set(midnight - chrono::Duration::seconds(1));
    assert_eq!(india_s.patch(&format!("/api/drafts/{draft}"), &json!({"state": "drafting"})).await.status(), 403);
    assert_eq!(botswana.patch(&format!("/api/drafts/{draft}"), &json!({"state": "drafting"})).await.status(), 200);
}

/// The chair's powers against an ordinary participant, an observer, the vice-chair, and the
/// vice-chair switched on as acting chair.
async fn chair_vice_chair_and_acting_chair_matrix(app: TestApp) {
    app.seed_demo().await;
    app.clock.set(at(2025, 6, 1, 12, 0, 0));
    let admin = app.login(ADMIN, PASSWORD).await;
    let group = working_group(&admin, "WGX", json!({})).await;
    let (bw, india) = (app.organisation_id(&admin, "BW").await, app.organisation_id(&admin, "IN").await);
    let na = app.organisation_id(&admin, "NA").await;
    add_term(&admin, group, json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"})).await;
    add_term(&admin, group, json!({"office": "vice_chair", "organisation_id": india, "starts_on": "2025-01-01"})).await;
    let res = admin.post("/api/drafts", &json!({"title": "WGX draft", "body_id": group})).await;
    let draft = res.json::<Value>().await.expect("json")["id"].as_i64().expect("draft");
    let (chair, vice) = (app.login(BOTSWANA, PASSWORD).await, app.login(INDIA, PASSWORD).await);
    let (participant, observer) = (app.login(NAMIBIA, PASSWORD).await, app.login(OBSERVER, PASSWORD).await);

    async fn attempts(s: &Session, group: i64, draft: i64, org: i64, n: usize) -> [u16; 4] {
        let patch =
            s.patch(&format!("/api/bodies/{group}"), &json!({"mandate": format!("Mandate {n}")})).await.status();
        let member = s
            .request(reqwest::Method::PUT, &format!("/api/bodies/{group}/members/{org}"))
            .json(&json!({"since": "2025-01-01"}))
            .send()
            .await
            .expect("sent")
            .status();
        let term = s
            .post(
                &format!("/api/bodies/{group}/terms"),
                &json!({"office": "chair", "organisation_id": org, "starts_on": format!("{}-01-01", 2030 + n)}),
            )
            .await
            .status();
        let draft =
            s.patch(&format!("/api/drafts/{draft}"), &json!({"title": format!("WGX draft {n}")})).await.status();
        [patch.as_u16(), member.as_u16(), term.as_u16(), draft.as_u16()]
    }
    // [PATCH body, PUT member, POST term, PATCH draft]
    let rows: [(&str, &Session, [u16; 4]); 4] = [
        ("chair", &chair, [200, 201, 201, 200]),
        ("vice-chair, not acting", &vice, [403, 403, 403, 403]),
        ("ordinary participant", &participant, [403, 403, 403, 403]),
        ("observer", &observer, [403, 403, 403, 403]),
    ];
    for (n, (who, session, want)) in rows.into_iter().enumerate() {
        assert_eq!(attempts(session, group, draft, na, n).await, want, "{who}");
    }
    // Only the chair (or the secretariat) switches the vice-chair on.
    let on = json!({"reason": "The chair is absent from the intersessional."});
    assert_eq!(vice.post(&format!("/api/bodies/{group}/acting-chair"), &on).await.status(), 403);
    assert_eq!(participant.post(&format!("/api/bodies/{group}/acting-chair"), &on).await.status(), 403);
    let res = chair.post(&format!("/api/bodies/{group}/acting-chair"), &on).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.expect("json")["term"]["organisation"]["short_code"], "IN");
    assert_eq!(chair.post(&format!("/api/bodies/{group}/acting-chair"), &on).await.status(), 409);
    assert_eq!(attempts(&vice, group, draft, na, 5).await, [200, 200, 201, 200], "acting chair");
    assert_eq!(
        attempts(&participant, group, draft, na, 6).await,
        [403, 403, 403, 403],
        "still an ordinary participant"
    );
    assert_eq!(attempts(&chair, group, draft, na, 7).await, [200, 200, 201, 200], "the chair keeps its powers");
    let body = admin.json(&format!("/api/bodies/{group}")).await;
    assert_eq!(body["in_office"]["acting_chair"]["reason"], on["reason"]);
    let audit = admin.json("/api/audit?limit=200").await;
    assert!(audit["items"].as_array().expect("items").iter().any(|e| e["action"] == "body.acting_chair.start"));
    // The vice-chair steps back; its powers go with the switch.
    assert_eq!(vice.delete(&format!("/api/bodies/{group}/acting-chair")).await.status(), 204);
    assert_eq!(vice.delete(&format!("/api/bodies/{group}/acting-chair")).await.status(), 404);
    assert_eq!(attempts(&vice, group, draft, na, 8).await, [403, 403, 403, 403], "no longer acting");
}

async fn the_scheduler_warns_and_announces_once(app: TestApp) {
    app.seed_demo().await;
    app.clock.set(at(2025, 11, 15, 9, 0, 0));
    let admin = app.login(ADMIN, PASSWORD).await;
    let group =
        working_group(&admin, "WGN", json!({"rotation": {"rule": "vice_chair_succeeds", "lead_days": 60}})).await;
    let (bw, india) = (app.organisation_id(&admin, "BW").await, app.organisation_id(&admin, "IN").await);
    add_term(&admin, group, json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"})).await;
    let body = admin.json(&format!("/api/bodies/{group}")).await;
    assert_eq!(body["warnings"][0]["code"], "missing_successor", "{body}");
    assert_eq!(body["warnings"][0]["handover_on"], "2026-01-01");
    let participant = app.login(NAMIBIA, PASSWORD).await;
    assert_eq!(participant.json(&format!("/api/bodies/{group}")).await["warnings"], json!([]), "not theirs to see");

    // Two instances run the scheduler at the same time; the warning goes out once, to the
    // chair's delegate and the secretariat's administrators.
    let second = app.spawn_second().await;
    second.clock.set(at(2025, 11, 15, 9, 0, 0));
    let (ctx, ctx2) = (app.state.decision_context(), second.state.decision_context());
    let both = || async {
        let (a, b) = tokio::join!(
            plenum::scheduler::run_once(&app.state, &ctx),
            plenum::scheduler::run_once(&second.state, &ctx2)
        );
        a.expect("first instance's run");
        b.expect("second instance's run");
    };
    both().await;
    assert_eq!(
        mails(&app, "chair_missing_successor", "Working group WGN").await,
        vec![ADMIN.to_string(), BOTSWANA.to_string()]
    );
    // India is selected vice-chair: India's chair term for 2026 is created at once, and the
    // handover is announced to both chairs' delegates, once.
    add_term(&admin, group, json!({"office": "vice_chair", "organisation_id": india, "starts_on": "2025-01-01"})).await;
    for _ in 0..3 {
        both().await;
    }
    assert_eq!(
        mails(&app, "chair_handover", "Working group WGN").await,
        vec![BOTSWANA.to_string(), INDIA.to_string()],
        "announced once"
    );
    // Two warnings, each once: the missing successor, then (India being vice-chair and chair to
    // be) the missing vice-chair.
    assert_eq!(
        mails(&app, "chair_missing_successor", "Working group WGN").await,
        vec![ADMIN.to_string(), ADMIN.to_string(), BOTSWANA.to_string(), BOTSWANA.to_string()],
        "each warning once"
    );
    let sent = eventually("the outbox to deliver the notices", Duration::from_secs(10), || async {
        let subjects: Vec<String> =
            app.state.mailer.sent().into_iter().chain(second.state.mailer.sent()).map(|m| m.subject).collect();
        let ours: Vec<String> = subjects.into_iter().filter(|s| s.contains("Working group WGN")).collect();
        if ours.len() >= 6 { Ok(ours) } else { Err(ours) }
    })
    .await;
    assert!(sent.iter().any(|s| s.contains("changes hands on 2026-01-01")), "{sent:?}");
    let body = admin.json(&format!("/api/bodies/{group}")).await;
    let codes: Vec<&str> = body["warnings"].as_array().expect("w").iter().filter_map(|w| w["code"].as_str()).collect();
    assert_eq!(codes, vec!["missing_vice_chair"], "the body must select a new vice-chair");
    assert_eq!(body["next_handover"]["incoming"][0]["organisation"]["short_code"], "IN");
}

async fn rotations_and_exceptions(app: TestApp) {
    app.seed_demo().await;
    app.clock.set(at(2025, 6, 10, 9, 0, 0));
    let admin = app.login(ADMIN, PASSWORD).await;
    let (bw, india, na) = (
        app.organisation_id(&admin, "BW").await,
        app.organisation_id(&admin, "IN").await,
        app.organisation_id(&admin, "NA").await,
    );
    // Six-month presidencies along a fixed order.
    let group = working_group(
        &admin,
        "WGP",
        json!({"rotation": {"rule": "fixed_rotation", "order": [bw, india, na], "term_months": 6, "lead_days": 30}}),
    )
    .await;
    add_term(&admin, group, json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"})).await;
    let chair = admin.json(&format!("/api/bodies/{group}/chair?at=2025-08-01")).await;
    assert_eq!(chair["chairs"][0]["organisation"]["short_code"], "IN", "{chair}");
    assert_eq!(chair["chairs"][0]["origin"], "rotation");
    assert_eq!(chair["chairs"][0]["ends_on"], "2025-12-31");
    // Later, the scheduler keeps the next presidency known.
    app.clock.set(at(2025, 12, 10, 9, 0, 0));
    // Six months on, the old session has long expired.
    let admin = app.login(ADMIN, PASSWORD).await;
    let ctx = app.state.decision_context();
    plenum::scheduler::run_once(&app.state, &ctx).await.expect("run");
    let chair = admin.json(&format!("/api/bodies/{group}/chair?at=2026-02-01")).await;
    assert_eq!(chair["chairs"][0]["organisation"]["short_code"], "NA");

    // A postponement: the chair's term is extended by decision, with its reason audited.
    let elected = working_group(&admin, "WGE", json!({})).await;
    let term =
        add_term(&admin, elected, json!({"office": "chair", "organisation_id": bw, "starts_on": "2025-01-01"})).await;
    let id = term["id"].as_i64().expect("id");
    let reason = "Extended to 2026 by written procedure: the plenary was postponed";
    let res = admin
        .patch(&format!("/api/terms/{id}"), &json!({"reason": reason, "ends_on": "2026-12-31", "note": reason}))
        .await;
    assert_eq!(res.status(), 200);
    let chair = admin.json(&format!("/api/bodies/{elected}/chair?at=2026-06-01")).await;
    assert_eq!(chair["chairs"][0]["organisation"]["short_code"], "BW");
    let audit = admin.json("/api/audit?limit=200").await;
    let entry = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "term.update")
        .cloned()
        .expect("audited");
    assert!(entry.to_string().contains("postponed"), "{entry}");
    // A withdrawal: cancelled terms stay in the history and confer nothing.
    let res = admin
        .patch(&format!("/api/terms/{id}"), &json!({"reason": "Botswana withdrew from the chair", "cancelled": true}))
        .await;
    assert_eq!(res.status(), 200);
    let chair = admin.json(&format!("/api/bodies/{elected}/chair?at=2025-06-01")).await;
    assert_eq!(chair["chairs"], json!([]));
    let terms = admin.json(&format!("/api/bodies/{elected}/terms")).await;
    assert_eq!(terms[0]["cancelled"], true);
    // An interim chair fills the gap.
    let interim = add_term(
        &admin,
        elected,
        json!({"office": "chair", "organisation_id": india, "starts_on": "2025-06-11", "ends_on": "2025-12-31", "origin": "interim"}),
    )
    .await;
    assert_eq!(interim["origin"], "interim");
}

on_both_backends!(
    bodies_members_and_history,
    bad_input_is_refused_and_changes_nothing,
    powers_change_hands_at_midnight_in_the_body_s_time_zone,
    chair_vice_chair_and_acting_chair_matrix,
    the_scheduler_warns_and_announces_once,
    rotations_and_exceptions,
);
