//! Recommendations and their implementation end to end over HTTP, on both backends: issuing
//! (addressees materialised at issue), the list with its filters and search, recording progress
//! with a link and an uploaded file, the append-only history and its corrections, overdue as
//! the clock passes the due date, who may write and who may read, every bad input refused with
//! nothing stored, review visits and the recommendations of their reports, the roll-up of a
//! parent's progress, and the demo's Gaborone recommendations.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn body_id(s: &Session, short: &str) -> i64 {
    let list = s.json("/api/bodies").await;
    list.as_array()
        .and_then(|b| b.iter().find(|b| b["short_name"] == short))
        .and_then(|b| b["id"].as_i64())
        .unwrap_or_else(|| panic!("no body {short}"))
}

async fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    use diesel::prelude::*;
    use plenum::db::schema::{implementation_entries, recommendations, review_visits, uploads};
    let audit = app.audit_count().await;
    let db = app.state.db.clone();
    let (entries, recs, other) = db
        .read(|c| {
            let e = implementation_entries::table.count().get_result::<i64>(c)?;
            let r = recommendations::table.count().get_result::<i64>(c)?;
            let o = review_visits::table.count().get_result::<i64>(c)? + uploads::table.count().get_result::<i64>(c)?;
            Ok((e, r, o))
        })
        .await
        .expect("counts");
    (audit, entries, recs, other)
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    body
}

async fn upload(s: &Session, name: &str, content_type: &str, bytes: Vec<u8>) -> reqwest::Response {
    s.request(Method::POST, &format!("/api/evidence?filename={name}"))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("sent")
}

fn at(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().expect("instant")
}

/// A recommendation of the Plenary to every participant, from a report of the Plenary.
async fn issue(admin: &Session, kp: i64, code: &str, extra: Value) -> Value {
    let mut body = json!({
        "code": code, "title": format!("Recommendation {code}"), "text": "Publish the **annual report**.",
        "body_id": kp, "issued_on": "2027-01-10", "due_on": "2027-06-30",
        "source": {"kind": "report", "body_id": kp, "title": "Chair's report 2026"},
        "addressed_to": "all_participants", "themes": [" Transparency ", "statistics"],
    });
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    created(admin.post("/api/recommendations", &body).await).await
}

fn addressee(rec: &Value, org: i64) -> &Value {
    rec["addressees"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["organisation"]["id"] == org))
        .unwrap_or_else(|| panic!("{org} is not an addressee of {rec}"))
}

fn codes(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|r| r["code"].as_str().unwrap_or("").to_string()).collect()
}

/// Signs in again (after the clock jumped further than a session's idle time).
async fn sessions(app: &TestApp) -> (Session, Session, Session, Session) {
    (
        app.login(ADMIN, PASSWORD).await,
        app.login(BOTSWANA, PASSWORD).await,
        app.login(INDIA, PASSWORD).await,
        app.login(OBSERVER, PASSWORD).await,
    )
}

async fn issue_filter_record_correct_and_overdue(app: TestApp) {
    app.seed_demo().await;
    app.clock.set(at(2027, 1, 10));
    let (admin, botswana, _, _) = sessions(&app).await;
    let kp = body_id(&admin, "KP").await;
    let (bw, ind, lr, ci) = (
        app.organisation_id(&admin, "BW").await,
        app.organisation_id(&admin, "IN").await,
        app.organisation_id(&admin, "LR").await,
        app.organisation_id(&admin, "CI").await,
    );

    // Issued to all participants active on the issue date: Liberia (admitted 2007) is one now,
    // Côte d'Ivoire (suspended) still is; observers and the secretariat are not.
    let rec = issue(&admin, kp, "T-2027/01", json!({})).await;
    let id = rec["id"].as_i64().expect("id");
    assert_eq!(rec["themes"], json!(["statistics", "transparency"]));
    assert_eq!(rec["vocabulary"]["key"], "simple");
    assert_eq!(rec["source"]["title"], "Chair's report 2026");
    assert_eq!(rec["addressees"].as_array().map(Vec::len), Some(19), "{rec}");
    addressee(&rec, lr);
    addressee(&rec, ci);
    assert_eq!(addressee(&rec, bw)["status"]["key"], "not_started");
    assert_eq!(rec["progress"], 0);
    assert_eq!(rec["can_manage"], true);
    let seen = botswana.json(&format!("/api/recommendations/{id}")).await;
    assert_eq!(seen["can_manage"], false);
    assert_eq!(addressee(&seen, bw)["can_record"], true);
    assert_eq!(addressee(&seen, ind)["can_record"], false);
    let earlier = issue(&admin, kp, "T-2006/09", json!({"issued_on": "2006-12-01", "due_on": null})).await;
    assert!(earlier["addressees"].as_array().expect("list").iter().all(|a| a["organisation"]["id"] != lr));

    // The list: filters and search.
    let page = botswana.json("/api/recommendations?theme=TRANSPARENCY&source_kind=report").await;
    assert_eq!(codes(&page), ["T-2027/01", "T-2006/09"]);
    let page = botswana.json("/api/recommendations?q=t-2027%20annual").await;
    assert_eq!(codes(&page), ["T-2027/01"]);
    let page = botswana.json(&format!("/api/recommendations?body_id={kp}&q=Recommendation&limit=1")).await;
    assert_eq!(codes(&page).len(), 1);
    let next = page["next_cursor"].as_str().expect("a next page").to_string();
    let page2 =
        botswana.json(&format!("/api/recommendations?body_id={kp}&q=Recommendation&limit=1&cursor={next}")).await;
    assert_ne!(codes(&page2), codes(&page));
    let page = botswana.json(&format!("/api/recommendations?organisation_id={lr}&q=T-")).await;
    assert_eq!(codes(&page), ["T-2027/01"]);
    for (query, field) in [
        ("body_id=x", "body_id"),
        ("status=bogus", "status"),
        ("overdue=maybe", "overdue"),
        ("source_kind=rumour", "source_kind"),
        ("organisation_id=1.5", "organisation_id"),
    ] {
        let p = problem(botswana.get(&format!("/api/recommendations?{query}")).await, 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{query}: {p}");
    }

    // Botswana records progress with a link and an uploaded file.
    let file = created(upload(&botswana, "gazette.pdf", "application/pdf", b"%PDF-1.7 gazette".to_vec()).await).await;
    assert_eq!(file["filename"], "gazette.pdf");
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["sha256"].as_str().map(str::len), Some(64));
    app.clock.set(at(2027, 3, 1));
    let (_, botswana, _, observer) = sessions(&app).await;
    let entry = created(
        botswana
            .post(
                &format!("/api/recommendations/{id}/implementations/{bw}"),
                &json!({"status": "implemented", "note": "Published in the *Gazette*.",
                    "links": [{"url": "https://example.org/gazette", "label": "Gazette"}], "upload_ids": [file["id"]]}),
            )
            .await,
    )
    .await;
    assert_eq!(entry["status"]["key"], "implemented");
    assert_eq!(entry["recorded_by"]["display_name"], "Kabo Molefe");
    assert_eq!(entry["recorded_for"]["id"], bw);
    assert_eq!(entry["recorded_at"], "2027-03-01T12:00:00Z");
    let evidence = entry["evidence"].as_array().expect("evidence");
    assert_eq!(evidence.len(), 2);
    assert_eq!(evidence[0]["url"], "https://example.org/gazette");
    assert_eq!(evidence[1]["upload"]["id"], file["id"]);
    // Observers read the evidence; an attached file is not attached twice.
    let res = observer.get(&format!("/api/evidence/{}", file["id"])).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap_or("").starts_with("attachment"));
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), b"%PDF-1.7 gazette");
    let p = problem(
        botswana
            .post(
                &format!("/api/recommendations/{id}/implementations/{bw}"),
                &json!({"status": "implemented", "upload_ids": [file["id"]]}),
            )
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "upload_ids[0]");
    let page = botswana.json(&format!("/api/recommendations?organisation_id={bw}&status=implemented&q=T-")).await;
    assert_eq!(codes(&page), ["T-2027/01"]);

    // A correction is a new entry; the history keeps both, oldest first.
    app.clock.set(at(2027, 3, 2));
    let (_, botswana, _, observer) = sessions(&app).await;
    let correction = created(
        botswana
            .post(
                &format!("/api/recommendations/{id}/implementations/{bw}"),
                &json!({"status": "in_progress", "note": "Correction: only the first part is published.", "corrects_id": entry["id"]}),
            )
            .await,
    )
    .await;
    assert_eq!(correction["corrects_id"], entry["id"]);
    let records = observer.json(&format!("/api/recommendations/{id}/implementations")).await;
    let record = records
        .as_array()
        .and_then(|r| r.iter().find(|r| r["addressee"]["organisation"]["id"] == bw))
        .expect("Botswana's record");
    let history = record["entries"].as_array().expect("entries");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0], entry, "an entry never changes");
    assert_eq!(history[1]["id"], correction["id"]);
    assert_eq!(record["addressee"]["status"]["key"], "in_progress");
    assert_eq!(record["addressee"]["updated_at"], "2027-03-02T12:00:00Z");
    assert_eq!(record["addressee"]["can_record"], false, "observers never write");

    // Overdue once the due date has passed in the Plenary's zone (Brussels), unless final.
    let rec = botswana.json(&format!("/api/recommendations/{id}")).await;
    assert_eq!(rec["overdue_count"], 0);
    app.clock.set(Utc.with_ymd_and_hms(2027, 6, 30, 21, 59, 0).single().expect("instant"));
    let (admin, botswana, india, _) = sessions(&app).await;
    let rec = botswana.json(&format!("/api/recommendations/{id}")).await;
    assert_eq!(rec["overdue_count"], 0, "still 30 June in Brussels");
    app.clock.set(Utc.with_ymd_and_hms(2027, 6, 30, 22, 0, 0).single().expect("instant"));
    let rec = botswana.json(&format!("/api/recommendations/{id}")).await;
    assert_eq!(addressee(&rec, bw)["overdue"], true);
    assert_eq!(rec["overdue_count"], 19);
    let before = counts(&app).await;
    created(
        india
            .post(&format!("/api/recommendations/{id}/implementations/{ind}"), &json!({"status": "implemented"}))
            .await,
    )
    .await;
    assert_eq!(counts(&app).await.1, before.1 + 1);
    let rec = botswana.json(&format!("/api/recommendations/{id}")).await;
    assert_eq!(addressee(&rec, ind)["overdue"], false);
    assert_eq!(rec["overdue_count"], 18);
    // Progress: India 100, Botswana 40, the 17 others 0 → 140 / 19 ≈ 7.
    assert_eq!(rec["progress"], 7);
    let page = botswana.json(&format!("/api/recommendations?overdue=true&organisation_id={ind}&q=T-")).await;
    assert!(codes(&page).is_empty(), "India's is implemented; T-2006/09 has no due date");
    let page = botswana.json(&format!("/api/recommendations?overdue=true&organisation_id={bw}&q=T-")).await;
    assert_eq!(codes(&page), ["T-2027/01"]);

    // The change was audited with before and after.
    let audit = admin.json("/api/audit?limit=200").await;
    assert!(
        audit["items"].as_array().expect("items").iter().any(|e| e["action"] == "implementation.record"),
        "{audit}"
    );
}

async fn every_bad_input_is_refused_and_nothing_is_stored(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    let observer = app.login(OBSERVER, PASSWORD).await;
    let kp = body_id(&admin, "KP").await;
    let wgm = body_id(&admin, "WGM").await;
    let (bw, ind, wdc) = (
        app.organisation_id(&admin, "BW").await,
        app.organisation_id(&admin, "IN").await,
        app.organisation_id(&admin, "WDC").await,
    );
    let rec = issue(&admin, kp, "B-1", json!({})).await;
    let id = rec["id"].as_i64().expect("id");
    let other = issue(&admin, kp, "B-2", json!({"addressed_to": "participants", "organisation_ids": [ind]})).await;
    let first = created(
        botswana
            .post(&format!("/api/recommendations/{id}/implementations/{bw}"), &json!({"status": "in_progress"}))
            .await,
    )
    .await;
    let india_entry = created(
        india
            .post(&format!("/api/recommendations/{id}/implementations/{ind}"), &json!({"status": "in_progress"}))
            .await,
    )
    .await;
    let india_file = created(upload(&india, "notes.txt", "text/plain", b"India's notes".to_vec()).await).await;

    let record = |org: i64| format!("/api/recommendations/{id}/implementations/{org}");
    let entries: Vec<(Session, String, Value, u16, Option<&str>)> = vec![
        (botswana.clone(), record(bw), json!({"status": "compliant"}), 422, Some("status")),
        (botswana.clone(), record(wdc), json!({"status": "in_progress"}), 422, Some("organisation_id")),
        (
            botswana.clone(),
            format!("/api/recommendations/{}/implementations/{bw}", other["id"]),
            json!({"status": "in_progress"}),
            422,
            Some("organisation_id"),
        ),
        (observer.clone(), record(bw), json!({"status": "in_progress"}), 403, None),
        (india.clone(), record(bw), json!({"status": "in_progress"}), 403, None),
        (
            botswana.clone(),
            record(bw),
            json!({"status": "in_progress", "upload_ids": [india_file["id"]]}),
            422,
            Some("upload_ids[0]"),
        ),
        (
            botswana.clone(),
            record(bw),
            json!({"status": "in_progress", "upload_ids": [999_999]}),
            422,
            Some("upload_ids[0]"),
        ),
        (
            botswana.clone(),
            record(bw),
            json!({"status": "in_progress", "corrects_id": india_entry["id"]}),
            422,
            Some("corrects_id"),
        ),
        (
            botswana.clone(),
            record(bw),
            json!({"status": "in_progress", "links": [{"url": "ftp://example.org/x"}]}),
            422,
            Some("links[0].url"),
        ),
        (botswana.clone(), record(bw), json!({"status": "in_progress", "note": "x".repeat(10_001)}), 422, Some("note")),
        (
            botswana.clone(),
            format!("/api/recommendations/{id}/implementations/bodies/{wgm}"),
            json!({"status": "in_progress"}),
            422,
            Some("body_id"),
        ),
        (
            observer.clone(),
            "/api/recommendations/999999/implementations/1".into(),
            json!({"status": "in_progress"}),
            404,
            None,
        ),
    ];
    for (who, path, body, status, field) in entries {
        let before = counts(&app).await;
        let p = problem(who.post(&path, &body).await, status).await;
        if let Some(field) = field {
            assert_eq!(p["errors"][0]["field"], field, "{path} {body}: {p}");
        }
        assert_eq!(counts(&app).await, before, "{path} {body} stored something");
    }
    assert!(first["id"].is_i64());

    // Uploads: too large (a second instance with a small limit), of a kind not accepted, or by
    // an observer.
    let small = app.spawn_second_with(|c| c.upload_limit = 64).await;
    let small_botswana = small.login(BOTSWANA, PASSWORD).await;
    for (who, name, ct, bytes, status) in [
        (&small_botswana, "big.txt", "text/plain", vec![b'a'; 65], 413),
        (&botswana, "tool.exe", "application/octet-stream", b"MZ\x90\x00".to_vec(), 415),
        (&botswana, "fake.pdf", "application/pdf", b"not a pdf".to_vec(), 415),
        (&observer, "notes.txt", "text/plain", b"notes".to_vec(), 403),
    ] {
        let before = counts(&app).await;
        problem(upload(who, name, ct, bytes).await, status).await;
        assert_eq!(counts(&app).await, before, "{name} stored something");
    }
    // Nobody else downloads an unattached upload.
    assert_eq!(botswana.get(&format!("/api/evidence/{}", india_file["id"])).await.status(), 404);
    assert_eq!(india.get(&format!("/api/evidence/{}", india_file["id"])).await.status(), 200);

    // Issuing and changing.
    let meeting_src = json!({"kind": "meeting", "meeting_id": 999_999});
    let creations = [
        (json!({"due_on": "2027-01-09"}), 422, "due_on"),
        (json!({"source": meeting_src}), 422, "source.meeting_id"),
        (json!({"source": {"kind": "decision", "decision_id": 999_999}}), 422, "source.decision_id"),
        (json!({"source": {"kind": "review_visit", "visit_id": 999_999}}), 422, "source.visit_id"),
        (json!({"source": {"kind": "report", "body_id": kp}}), 422, "source.title"),
        (json!({"source": {"kind": "meeting"}}), 422, "source.meeting_id"),
        (json!({"addressed_to": "participants", "organisation_ids": [bw, wdc]}), 422, "organisation_ids[1]"),
        (json!({"addressed_to": "participants"}), 422, "organisation_ids"),
        (json!({"addressed_to": "body"}), 422, "addressee_body_id"),
        (json!({"parent_id": 999_999}), 422, "parent_id"),
        (json!({"vocabulary_id": 999_999}), 422, "vocabulary_id"),
        (json!({"themes": [""]}), 422, "themes[0]"),
        (json!({"code": ""}), 422, "code"),
        (json!({"code": "B-1"}), 409, "code"),
        (json!({"body_id": 999_999}), 422, "body_id"),
    ];
    for (extra, status, field) in creations {
        let mut body = json!({
            "code": "B-new", "title": "New", "body_id": kp, "issued_on": "2027-01-10",
            "source": {"kind": "report", "body_id": kp, "title": "A report"}, "addressed_to": "all_participants",
        });
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        let before = counts(&app).await;
        let p = problem(admin.post("/api/recommendations", &body).await, status).await;
        assert_eq!(p["errors"][0]["field"], field, "{extra}: {p}");
        assert_eq!(counts(&app).await, before, "{extra} stored something");
    }
    let wgm_rec = created(
        admin
            .post(
                "/api/recommendations",
                &json!({"code": "W-1", "title": "Of the WGM", "body_id": wgm, "issued_on": "2027-01-10",
                    "source": {"kind": "report", "body_id": wgm, "title": "WGM report"},
                    "addressed_to": "body", "addressee_body_id": kp}),
            )
            .await,
    )
    .await;
    let child = issue(&admin, kp, "B-3", json!({"parent_id": id})).await;
    let patches = [
        (json!({"due_on": "2020-01-01"}), 422, Some("due_on")),
        (json!({"parent_id": id}), 422, Some("parent_id")),
        (json!({"parent_id": child["id"]}), 422, Some("parent_id")),
        (json!({"parent_id": wgm_rec["id"]}), 422, Some("parent_id")),
        (json!({"organisation_ids": [bw]}), 409, None),
        (json!({"addressed_to": "body"}), 409, None),
        (json!({"vocabulary_id": 2}), 409, None),
        (json!({"title": ""}), 422, Some("title")),
        (json!({"unknown": 1}), 422, Some("body")),
    ];
    for (patch, status, field) in patches {
        let before = counts(&app).await;
        let p = problem(admin.patch(&format!("/api/recommendations/{id}"), &patch).await, status).await;
        if let Some(field) = field {
            assert_eq!(p["errors"][0]["field"], field, "{patch}: {p}");
        }
        assert_eq!(counts(&app).await, before, "{patch} stored something");
    }
    for who in [&botswana, &observer] {
        problem(who.patch(&format!("/api/recommendations/{id}"), &json!({"title": "Mine"})).await, 403).await;
        problem(who.post("/api/vocabularies", &json!({"key": "k", "name": "K", "statuses": []})).await, 403).await;
    }

    // Vocabularies.
    let status = |key: &str, weight: i64, fin: bool| json!({"key": key, "label": key, "weight": weight, "final": fin});
    let vocabularies = [
        (json!([status("a", 0, true)]), "statuses"),
        (json!([status("a", 0, false), status("b", 101, true)]), "statuses[1].weight"),
        (json!([status("a", 0, false), status("a", 100, true)]), "statuses[1].key"),
        (json!([status("a", 0, false), status("b", 100, false)]), "statuses"),
        (json!([status("A b", 0, false), status("b", 100, true)]), "statuses[0].key"),
    ];
    for (statuses, field) in vocabularies {
        let before = counts(&app).await;
        let p = problem(
            admin.post("/api/vocabularies", &json!({"key": "mine", "name": "Mine", "statuses": statuses})).await,
            422,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{statuses}: {p}");
        assert_eq!(counts(&app).await, before);
    }
    let mine = created(
        admin
            .post(
                "/api/vocabularies",
                &json!({"key": "wgm_ratings", "name": "WGM ratings", "body_id": wgm,
                    "statuses": [status("open", 0, false), status("closed", 100, true)]}),
            )
            .await,
    )
    .await;
    assert_eq!(mine["statuses"][1]["final"], true);
    problem(
        admin
            .post(
                "/api/vocabularies",
                &json!({"key": "simple", "name": "Again", "statuses": [status("a", 0, false), status("b", 100, true)]}),
            )
            .await,
        409,
    )
    .await;
    let list = botswana.json("/api/vocabularies").await;
    let keys: Vec<&str> = list.as_array().expect("list").iter().filter_map(|v| v["key"].as_str()).collect();
    assert_eq!(keys, ["simple", "upr", "fatf", "wgm_ratings"]);
    assert_eq!(list[1]["statuses"].as_array().map(Vec::len), Some(6), "the UPR pair");
    // The WGM's recommendations now default to its own vocabulary.
    let rec = created(
        admin
            .post(
                "/api/recommendations",
                &json!({"code": "W-2", "title": "Of the WGM", "body_id": wgm, "issued_on": "2027-01-10",
                    "source": {"kind": "report", "body_id": wgm, "title": "WGM report"},
                    "addressed_to": "participants", "organisation_ids": [bw]}),
            )
            .await,
    )
    .await;
    assert_eq!(rec["vocabulary"]["key"], "wgm_ratings");
    assert_eq!(addressee(&rec, bw)["status"]["key"], "open");
}

async fn observers_read_but_never_write_nor_see_restricted_ones(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let observer = app.login(OBSERVER, PASSWORD).await;
    let kp = body_id(&admin, "KP").await;
    let bw = app.organisation_id(&admin, "BW").await;
    let open = issue(&admin, kp, "R-1", json!({})).await;
    let closed = issue(&admin, kp, "R-2", json!({"restricted": true})).await;
    let page = observer.json("/api/recommendations?q=R-").await;
    assert_eq!(codes(&page), ["R-1"]);
    let page = botswana.json("/api/recommendations?q=R-").await;
    assert_eq!(codes(&page), ["R-1", "R-2"]);
    problem(observer.get(&format!("/api/recommendations/{}", closed["id"])).await, 404).await;
    problem(observer.get(&format!("/api/recommendations/{}/implementations", closed["id"])).await, 404).await;
    let rec = observer.json(&format!("/api/recommendations/{}", open["id"])).await;
    assert!(rec["addressees"].as_array().expect("list").iter().all(|a| a["can_record"] == false));
    assert_eq!(rec["can_manage"], false);
    let before = counts(&app).await;
    problem(
        observer
            .post(
                &format!("/api/recommendations/{}/implementations/{bw}", open["id"]),
                &json!({"status": "implemented"}),
            )
            .await,
        403,
    )
    .await;
    problem(
        observer
            .post(
                &format!("/api/recommendations/{}/implementations/{bw}", closed["id"]),
                &json!({"status": "implemented"}),
            )
            .await,
        404,
    )
    .await;
    assert_eq!(counts(&app).await, before);
    // A restricted one's evidence is not for observers either.
    let file = created(upload(&botswana, "minutes.md", "text/markdown", b"# Minutes".to_vec()).await).await;
    created(
        botswana
            .post(
                &format!("/api/recommendations/{}/implementations/{bw}", closed["id"]),
                &json!({"status": "in_progress", "upload_ids": [file["id"]]}),
            )
            .await,
    )
    .await;
    assert_eq!(observer.get(&format!("/api/evidence/{}", file["id"])).await.status(), 404);
    assert_eq!(admin.get(&format!("/api/evidence/{}", file["id"])).await.status(), 200);
    // Changing `restricted` hides it at once.
    admin.patch(&format!("/api/recommendations/{}", open["id"]), &json!({"restricted": true})).await;
    assert_eq!(codes(&observer.json("/api/recommendations?q=R-").await).len(), 0);
    // The demo's restricted Côte d'Ivoire recommendation too.
    let page = observer.json("/api/recommendations?q=CIV-2007").await;
    assert_eq!(codes(&page), ["CIV-2007/01", "CIV-2007/02"]);
}

async fn review_visit_lifecycle_with_its_recommendations(app: TestApp) {
    app.seed_demo().await;
    app.clock.set(at(2027, 2, 1));
    let admin = app.login(ADMIN, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    let observer = app.login(OBSERVER, PASSWORD).await;
    let wgm = body_id(&admin, "WGM").await;
    let (ind, ec, wdc, kps) = (
        app.organisation_id(&admin, "IN").await,
        app.organisation_id(&admin, "EC").await,
        app.organisation_id(&admin, "WDC").await,
        app.organisation_id(&admin, "KPS").await,
    );
    let fatf = admin
        .json("/api/vocabularies")
        .await
        .as_array()
        .expect("list")
        .iter()
        .find(|v| v["key"] == "fatf")
        .expect("fatf")["id"]
        .clone();
    let new_visit = |team: Value| {
        json!({"participant_id": ind, "body_id": wgm, "origin": "invited", "starts_on": "2027-03-01",
            "ends_on": "2027-03-05", "team": team, "report_title": "Review visit to India", "vocabulary_id": fatf})
    };
    for (team, field) in [
        (json!([{"organisation_id": ind}]), "team[0]"),
        (json!([{"organisation_id": ec}, {"organisation_id": kps}]), "team[1]"),
        (json!([{"organisation_id": ec}, {"organisation_id": ec}]), "team[1]"),
    ] {
        let before = counts(&app).await;
        let p = problem(admin.post("/api/review-visits", &new_visit(team)).await, 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
        assert_eq!(counts(&app).await, before);
    }
    problem(india.post("/api/review-visits", &new_visit(json!([]))).await, 403).await;
    let visit = created(
        admin
            .post(
                "/api/review-visits",
                &new_visit(json!([{"organisation_id": ec, "role": "leader"}, {"organisation_id": wdc}])),
            )
            .await,
    )
    .await;
    let id = visit["id"].as_i64().expect("id");
    assert_eq!(visit["state"], "planned");
    assert_eq!(visit["participant"]["id"], ind);
    assert_eq!(visit["team"][0]["role"], "leader");
    assert_eq!(visit["team"][1]["organisation"]["id"], wdc);
    assert_eq!(visit["vocabulary"]["key"], "fatf");
    let path = format!("/api/review-visits/{id}");

    // Nothing to recommend before the visit took place.
    let from_visit = |code: &str| {
        json!({"code": code, "title": format!("Visit recommendation {code}"), "issued_on": "2027-04-01",
            "due_on": "2027-12-31", "source": {"kind": "review_visit", "visit_id": id}})
    };
    let p = problem(admin.post("/api/recommendations", &from_visit("IN-RV-1")).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "source.visit_id");

    // Forward only, one step at a time; the report must be there to be adopted.
    problem(admin.patch(&path, &json!({"state": "report_adopted"})).await, 409).await;
    problem(observer.patch(&path, &json!({"state": "visited"})).await, 403).await;
    problem(india.patch(&path, &json!({"state": "visited"})).await, 403).await;
    let visited = admin.patch(&path, &json!({"state": "visited"})).await;
    assert_eq!(visited.status(), 200);
    let p = problem(admin.patch(&path, &json!({"state": "report_adopted"})).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "report_upload_id");
    let report = created(upload(&admin, "report.pdf", "application/pdf", b"%PDF-1.7 report".to_vec()).await).await;
    let someone_elses = created(upload(&india, "india.pdf", "application/pdf", b"%PDF-1.7 india".to_vec()).await).await;
    let p = problem(admin.patch(&path, &json!({"report_upload_id": someone_elses["id"]})).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "report_upload_id");
    app.clock.set(Utc.with_ymd_and_hms(2027, 3, 31, 23, 30, 0).single().expect("instant"));
    let (admin, _, india, observer) = sessions(&app).await;
    let res = admin.patch(&path, &json!({"state": "report_adopted", "report_upload_id": report["id"]})).await;
    assert_eq!(res.status(), 200);
    let adopted: Value = res.json().await.expect("json");
    assert_eq!(adopted["state"], "report_adopted");
    assert_eq!(adopted["report"]["id"], report["id"]);
    assert_eq!(adopted["report_adopted_on"], "2027-04-01", "today in Brussels");
    problem(admin.patch(&path, &json!({"state": "visited"})).await, 409).await;
    // Everyone but guests reads the visit and its report.
    assert_eq!(observer.json(&path).await["state"], "report_adopted");
    assert_eq!(observer.get(&format!("/api/evidence/{}", report["id"])).await.status(), 200);
    let list = observer.json(&format!("/api/review-visits?participant_id={ind}")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // Its recommendations: addressed to India, issued by the WGM, tracked with the visit's vocabulary.
    let rec = created(admin.post("/api/recommendations", &from_visit("IN-RV-1")).await).await;
    assert_eq!(rec["body"]["id"], wgm);
    assert_eq!(rec["source"]["kind"], "review_visit");
    assert_eq!(rec["source"]["visit_id"], id);
    assert_eq!(rec["source"]["title"], "Review visit to India, 2027");
    assert_eq!(rec["addressed_to"], "participants");
    assert_eq!(rec["addressees"].as_array().map(Vec::len), Some(1));
    assert_eq!(addressee(&rec, ind)["status"]["key"], "not_rated");
    assert_eq!(rec["vocabulary"]["key"], "fatf");
    let p = problem(
        admin
            .post("/api/recommendations", &{
                let mut b = from_visit("IN-RV-2");
                b["body_id"] = json!(body_id(&admin, "KP").await);
                b
            })
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "body_id");
    let entry = created(
        india
            .post(
                &format!("/api/recommendations/{}/implementations/{ind}", rec["id"]),
                &json!({"status": "largely_compliant"}),
            )
            .await,
    )
    .await;
    assert_eq!(entry["status"]["label"], "Largely compliant");
    let visit = observer.json(&path).await;
    assert_eq!(visit["recommendations"][0]["code"], "IN-RV-1");
    let page = india.json(&format!("/api/recommendations?source_kind=review_visit&organisation_id={ind}")).await;
    assert_eq!(codes(&page), ["IN-RV-1"]);
}

async fn a_parents_progress_rolls_up_from_its_children(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let kp = body_id(&admin, "KP").await;
    let bw = app.organisation_id(&admin, "BW").await;
    let to_botswana = json!({"addressed_to": "participants", "organisation_ids": [bw]});
    let parent = issue(&admin, kp, "P", to_botswana.clone()).await;
    let pid = parent["id"].as_i64().expect("id");
    let mut with_parent = to_botswana.clone();
    with_parent["parent_id"] = json!(pid);
    let a = issue(&admin, kp, "P/a", with_parent.clone()).await;
    let b = issue(&admin, kp, "P/b", with_parent.clone()).await;
    let mut grand = to_botswana.clone();
    grand["parent_id"] = b["id"].clone();
    let b1 = issue(&admin, kp, "P/b/1", grand).await;
    let record = |id: &Value, status: &str| {
        let path = format!("/api/recommendations/{id}/implementations/{bw}");
        let body = json!({"status": status});
        let s = botswana.clone();
        async move { created(s.post(&path, &body).await).await }
    };
    record(&a["id"], "implemented").await;
    record(&b1["id"], "in_progress").await;
    // P = mean(a = 100, b = mean(b1 = 40) = 40) = 70.
    let p = botswana.json(&format!("/api/recommendations/{pid}")).await;
    assert_eq!(p["children"], json!([a["id"], b["id"]]));
    assert_eq!(p["progress"], 70);
    assert_eq!(botswana.json(&format!("/api/recommendations/{}", b["id"])).await["progress"], 40);
    // Never under itself or one of its own.
    let e =
        problem(admin.patch(&format!("/api/recommendations/{pid}"), &json!({"parent_id": b1["id"]})).await, 422).await;
    assert_eq!(e["errors"][0]["field"], "parent_id");
    // Ungrouping a child changes the parent's progress; the vocabulary is fixed once recorded.
    let res = admin.patch(&format!("/api/recommendations/{}", a["id"]), &json!({"parent_id": null})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(botswana.json(&format!("/api/recommendations/{pid}")).await["progress"], 40);
    problem(admin.patch(&format!("/api/recommendations/{}", a["id"]), &json!({"vocabulary_id": 2})).await, 409).await;
    let res = admin
        .patch(&format!("/api/recommendations/{pid}"), &json!({"vocabulary_id": 2, "due_on": null, "themes": ["x"]}))
        .await;
    assert_eq!(res.status(), 200, "no entry on the parent yet");
    let p: Value = res.json().await.expect("json");
    assert_eq!(
        (p["vocabulary"]["key"].clone(), p["due_on"].clone(), p["themes"].clone()),
        (json!("upr"), Value::Null, json!(["x"]))
    );
}

async fn the_demo_holds_gaborone_ghana_and_cote_divoire(app: TestApp) {
    app.seed_demo().await;
    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let lr = app.organisation_id(&admin, "LR").await;
    let page = botswana.json("/api/recommendations?q=GAB-2006").await;
    assert_eq!(codes(&page), ["GAB-2006/01", "GAB-2006/02", "GAB-2006/03"]);
    let mut statuses = std::collections::BTreeMap::new();
    for rec in page["items"].as_array().expect("items") {
        assert_eq!(rec["source"]["title"], "Gaborone Plenary 2006");
        assert_eq!(rec["issued_on"], "2006-11-09");
        assert!(rec["due_on"].as_str().is_some_and(|d| d.starts_with("2007")));
        let list = rec["addressees"].as_array().expect("addressees");
        assert_eq!(list.len(), 18, "every participant of November 2006");
        assert!(list.iter().all(|a| a["organisation"]["id"] != lr), "Liberia was admitted in 2007");
        for a in list {
            *statuses.entry(a["status"]["key"].as_str().unwrap_or("").to_string()).or_insert(0) += 1;
        }
        let records = botswana.json(&format!("/api/recommendations/{}/implementations", rec["id"])).await;
        for r in records.as_array().expect("records") {
            for e in r["entries"].as_array().expect("entries") {
                let at = e["recorded_at"].as_str().unwrap_or("");
                assert!(at.starts_with("2006") || at.starts_with("2007"), "{e}");
            }
        }
    }
    // Some implemented, many in progress, some not started; of the statistics (due June 2007)
    // all but a couple were done in time.
    for (status, at_least) in
        [("implemented", 5), ("in_progress", 15), ("not_started", 3), ("partially_implemented", 3)]
    {
        assert!(statuses.get(status).copied().unwrap_or(0) >= at_least, "{status}: {statuses:?}");
    }
    let statistics = &page["items"][1];
    let open: Vec<&Value> =
        statistics["addressees"].as_array().expect("list").iter().filter(|a| a["status"]["final"] == false).collect();
    assert_eq!(open.len(), 2, "{statistics}");

    let visits = botswana.json("/api/review-visits").await;
    let ghana =
        visits.as_array().and_then(|v| v.iter().find(|v| v["participant"]["short_code"] == "GH")).expect("Ghana");
    assert_eq!(ghana["state"], "report_adopted");
    assert_eq!(ghana["body"]["short_name"], "WGM");
    assert_eq!(ghana["recommendations"].as_array().map(Vec::len), Some(4));
    let plan = botswana.json("/api/recommendations?source_kind=review_visit&q=GHA-RV-2007").await;
    let parent = plan["items"].as_array().and_then(|p| p.iter().find(|r| r["code"] == "GHA-RV-2007")).expect("plan");
    assert_eq!(parent["children"].as_array().map(Vec::len), Some(3));
    assert!(parent["progress"].as_i64().is_some_and(|p| p > 0));

    let civ = botswana.json("/api/recommendations?q=CIV-2007").await;
    assert_eq!(codes(&civ), ["CIV-2007/01", "CIV-2007/02", "CIV-2007/03"]);
    for rec in civ["items"].as_array().expect("items") {
        assert_eq!(rec["body"]["short_name"], "WGM");
        assert_eq!(rec["addressees"][0]["organisation"]["short_code"], "CI");
    }

    // Seeding again changes nothing.
    let before = counts(&app).await;
    app.seed_demo().await;
    assert_eq!(counts(&app).await, before);
}

on_both_backends!(
    issue_filter_record_correct_and_overdue,
    every_bad_input_is_refused_and_nothing_is_stored,
    observers_read_but_never_write_nor_see_restricted_ones,
    review_visit_lifecycle_with_its_recommendations,
    a_parents_progress_rolls_up_from_its_children,
    the_demo_holds_gaborone_ghana_and_cote_divoire,
);
