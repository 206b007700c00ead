//! The stocktaking as of a date, its CSV and the recommendations export, and the digest before
//! meetings — end to end through the API, on both backends.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use diesel::prelude::*;
use serde_json::{Value, json};

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("valid instant")
}

/// The fixture: a working group in Brussels (UTC+1 in winter) with three recommendations
/// issued on 15 January 2027 to Botswana and India:
/// - WGT-01 (due 31 March, transparency), with a title that needs CSV quoting;
/// - WGT-02 (no due date, statistics, restricted);
/// - WGT-03 (due 28 February, transparency).
///
/// And a meeting of the group convened for 20 February.
struct Fixture {
    admin: Session,
    botswana: Session,
    body: i64,
    bw: i64,
    india: i64,
    recs: [i64; 3],
    meeting: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    app.seed_demo().await;
    app.clock.set(at(2027, 1, 15, 9, 0));
    let admin = app.login(ADMIN, PASSWORD).await;
    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let bodies = admin.json("/api/bodies").await;
    let plenary = bodies
        .as_array()
        .and_then(|b| b.iter().find(|b| b["short_name"] == "KP"))
        .and_then(|b| b["id"].as_i64())
        .expect("the plenary");
    let res = admin
        .post(
            "/api/bodies",
            &json!({"name": "Working group on tests", "short_name": "WGT", "kind": "working_group",
                "parent_id": plenary, "mandate": "To take stock.", "created_on": "2020-01-01",
                "time_zone": "Europe/Brussels"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let (bw, india) = (app.organisation_id(&admin, "BW").await, app.organisation_id(&admin, "IN").await);
    let mut recs = [0; 3];
    let specs = [
        ("WGT-01", "Publish \"statistics\", quarterly", Some("2027-03-31"), "transparency", false),
        ("WGT-02", "Share valuation methods", None, "statistics", true),
        ("WGT-03", "Name the authorities", Some("2027-02-28"), "transparency", false),
    ];
    for (i, (code, title, due, theme, restricted)) in specs.into_iter().enumerate() {
        let res = admin
            .post(
                "/api/recommendations",
                &json!({"code": code, "title": title, "text": "Text.", "body_id": body, "issued_on": "2027-01-15",
                    "due_on": due, "source": {"kind": "report", "body_id": body, "title": "First report"},
                    "addressed_to": "participants", "organisation_ids": [bw, india], "themes": [theme],
                    "restricted": restricted}),
            )
            .await;
        assert_eq!(res.status(), 201, "create {code}");
        recs[i] = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    }
    let res = admin
        .post(
            "/api/meetings",
            &json!({"body_id": body, "kind": "working_group", "title": "WGT February meeting", "time_zone": "Europe/Brussels",
                "starts_at": "2027-02-20T08:00:00Z", "ends_at": "2027-02-20T16:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let meeting = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/convene"), &json!({})).await.status(), 200);
    Fixture { admin, botswana, body, bw, india, recs, meeting }
}

impl Fixture {
    /// Signs in again after the clock moved (sessions idle out after a day of clock time).
    async fn relogin(&mut self, app: &TestApp) {
        self.admin = app.login(ADMIN, PASSWORD).await;
        self.botswana = app.login(BOTSWANA, PASSWORD).await;
    }
}

async fn record(who: &Session, rec: i64, org: i64, body: Value) -> Value {
    let res = who.post(&format!("/api/recommendations/{rec}/implementations/{org}"), &body).await;
    assert_eq!(res.status(), 201, "record on {rec} for {org}: {body}");
    res.json().await.expect("json")
}

fn count(s: &Value, key: &str) -> u64 {
    s["by_status"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["key"] == key))
        .and_then(|c| c["count"].as_u64())
        .unwrap_or(0)
}

fn participant(s: &Value, org: i64) -> &Value {
    s["by_participant"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["organisation"]["id"] == org))
        .unwrap_or_else(|| panic!("no participant {org} in {s}"))
}

/// The history of the fixture: progress on 1 February, the stocktaking of 10 February, then
/// later progress (one entry late on the 10th in UTC, already the 11th in Brussels) and a
/// correction.
async fn history(app: &TestApp, f: &mut Fixture) -> Value {
    let [r1, _, r3] = f.recs;
    app.clock.set(at(2027, 2, 1, 10, 0));
    f.relogin(app).await;
    record(&f.botswana, r1, f.bw, json!({"status": "in_progress", "note": "Drafting the regulation."})).await;
    record(&f.admin, r3, f.india, json!({"status": "partially_implemented", "note": "Two of three named."})).await;
    app.clock.set(at(2027, 2, 10, 12, 0));
    f.relogin(app).await;
    let path = format!("/api/stocktaking?body_id={}&as_of=2027-02-10", f.body);
    let then = f.admin.json(&path).await;
    app.clock.set(at(2027, 2, 10, 23, 30));
    let wrong = record(&f.botswana, r1, f.bw, json!({"status": "implemented", "note": "Published."})).await;
    app.clock.set(at(2027, 3, 5, 10, 0));
    f.relogin(app).await;
    record(
        &f.botswana,
        r1,
        f.bw,
        json!({"status": "in_progress", "note": "Correction: not yet in force.", "corrects_id": wrong["id"]}),
    )
    .await;
    record(&f.admin, r3, f.bw, json!({"status": "implemented", "note": "All named."})).await;
    app.clock.set(at(2027, 3, 10, 9, 0));
    f.relogin(app).await;
    then
}

async fn stocktaking_as_of_a_past_date_reproduces_exactly_the_counts_that_were_true_then(app: TestApp) {
    let mut f = fixture(&app).await;
    let then = history(&app, &mut f).await;
    assert_eq!((then["recommendations"].as_u64(), then["records"].as_u64()), (Some(3), Some(6)), "{then}");
    assert_eq!(
        (count(&then, "in_progress"), count(&then, "partially_implemented"), count(&then, "not_started")),
        (1, 1, 4)
    );
    assert_eq!(then["progress"], json!(16.7), "(40 + 60) / 6");
    assert_eq!(then["overdue"], 0);
    assert_eq!(then["previous_meeting"], Value::Null, "the meeting is on the 20th");
    assert_eq!(then["since_previous_meeting"], Value::Null);
    assert_eq!(then["body"]["short_name"], "WGT");
    let percent: f64 = then["by_status"].as_array().expect("list").iter().filter_map(|c| c["percent"].as_f64()).sum();
    assert!((percent - 100.0).abs() < 1e-9, "{percent}");

    // A month later, with more progress and a correction recorded since: the same day gives
    // the same answer, whole.
    let path = format!("/api/stocktaking?body_id={}&as_of=2027-02-10", f.body);
    assert_eq!(f.admin.json(&path).await, then);

    // The late entry was recorded on the 11th in Brussels.
    let next = f.admin.json(&format!("/api/stocktaking?body_id={}&as_of=2027-02-11", f.body)).await;
    assert_eq!(count(&next, "implemented"), 1, "{next}");
    assert_eq!(participant(&next, f.bw)["progress"], json!(33.3), "(100 + 0 + 0) / 3");

    // Today: the correction holds, WGT-03 is implemented by Botswana and overdue for India.
    let now = f.admin.json(&format!("/api/stocktaking?body_id={}", f.body)).await;
    assert_eq!(now["as_of"], "2027-03-10");
    assert_eq!(
        (count(&now, "in_progress"), count(&now, "implemented"), count(&now, "partially_implemented")),
        (1, 1, 1)
    );
    assert_eq!(now["overdue"], 1);
    let overdue = &now["overdue_list"][0];
    assert_eq!(
        (overdue["recommendation"]["code"].as_str(), overdue["addressee"]["organisation"]["id"].as_i64()),
        (Some("WGT-03"), Some(f.india))
    );
    assert_eq!(
        (overdue["due_on"].as_str(), overdue["status"]["key"].as_str()),
        (Some("2027-02-28"), Some("partially_implemented"))
    );
    let theme =
        now["by_theme"].as_array().and_then(|t| t.iter().find(|t| t["theme"] == "transparency")).expect("theme");
    assert_eq!((theme["records"].as_u64(), theme["overdue"].as_u64()), (Some(4), Some(1)));
    assert_eq!(now["by_source"][0]["title"], "First report");
    assert_eq!(now["by_source"][0]["records"], 6);

    // Since the meeting of 20 February: the correction and Botswana's WGT-03, oldest first.
    assert_eq!(now["previous_meeting"]["id"], f.meeting);
    assert_eq!(now["previous_meeting"]["starts_at"], "2027-02-20T08:00:00Z");
    let since = &now["since_previous_meeting"];
    let changes: Vec<(Value, Value, Value)> = since["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["recommendation"]["code"].clone(), c["from"].clone(), c["to"].clone()))
        .collect();
    assert_eq!(
        changes,
        [
            (json!("WGT-01"), json!("implemented"), json!("in_progress")),
            (json!("WGT-03"), Value::Null, json!("implemented")),
        ]
    );
    let delta = |key: &str| {
        since["by_status_delta"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["key"] == key))
            .and_then(|d| d["delta"].as_i64())
            .unwrap_or(99)
    };
    assert_eq!((delta("implemented"), delta("in_progress"), delta("not_started")), (0, 1, -1), "{since}");
}

async fn overdue_counts_around_the_due_date(app: TestApp) {
    let mut f = fixture(&app).await;
    history(&app, &mut f).await;
    let overdue = |day: &'static str| {
        let (admin, body) = (f.admin.clone(), f.body);
        async move { admin.json(&format!("/api/stocktaking?body_id={body}&as_of={day}")).await["overdue"].as_u64() }
    };
    // WGT-03 is due on 28 February: not overdue that day; both records the next; Botswana's
    // implemented on 5 March.
    assert_eq!(overdue("2027-02-28").await, Some(0));
    assert_eq!(overdue("2027-03-01").await, Some(2));
    assert_eq!(overdue("2027-03-04").await, Some(2));
    assert_eq!(overdue("2027-03-05").await, Some(1));
}

async fn observers_do_not_see_restricted_recommendations(app: TestApp) {
    let mut f = fixture(&app).await;
    history(&app, &mut f).await;
    let observer = app.login(OBSERVER, PASSWORD).await;
    let path = format!("/api/stocktaking?body_id={}", f.body);
    let seen = observer.json(&path).await;
    assert_eq!((seen["recommendations"].as_u64(), seen["records"].as_u64()), (Some(2), Some(4)));
    assert!(seen["by_theme"].as_array().expect("themes").iter().all(|t| t["theme"] != "statistics"));
    let all = f.botswana.json(&path).await;
    assert_eq!((all["recommendations"].as_u64(), all["records"].as_u64()), (Some(3), Some(6)));
    let india = app.login(INDIA, PASSWORD).await;
    assert_eq!(india.json(&path).await, all, "every participant sees the same stocktaking");
    let csv = observer.get(&format!("/api/stocktaking.csv?body_id={}", f.body)).await.text().await.expect("text");
    assert_eq!(csv.lines().count(), 5, "header and four records: {csv}");
    assert!(!csv.contains("WGT-02"));
    let csv = observer.get("/api/recommendations/export.csv").await.text().await.expect("text");
    assert!(!csv.contains("WGT-02"));
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    (header, rows)
}

const HEADER: &str = "code,title,body,issued_on,due_on,priority,themes,source,addressee,status,status_label,progress,overdue,last_update";

async fn csv_exports(app: TestApp) {
    let mut f = fixture(&app).await;
    history(&app, &mut f).await;
    let res = f.admin.get(&format!("/api/stocktaking.csv?body_id={}&as_of=2027-02-10", f.body)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"].to_str().expect("ascii").to_string();
    assert!(disposition.starts_with("attachment;") && disposition.contains(".csv"), "{disposition}");
    let text = res.text().await.expect("text");
    assert_eq!(text.lines().next(), Some(HEADER));
    assert!(text.contains("\"Publish \"\"statistics\"\", quarterly\""), "RFC 4180 quoting: {text}");
    let (header, rows) = parse_csv(&text);
    assert_eq!(header.join(","), HEADER);
    assert_eq!(rows.len(), 6);
    let row = rows.iter().find(|r| r[0] == "WGT-01" && r[8] == "Botswana").expect("Botswana's WGT-01");
    assert_eq!(
        row,
        &[
            "WGT-01",
            "Publish \"statistics\", quarterly",
            "WGT",
            "2027-01-15",
            "2027-03-31",
            "normal",
            "transparency",
            "report: First report",
            "Botswana",
            "in_progress",
            "In progress",
            "40",
            "false",
            "2027-02-01T10:00:00+00:00",
        ]
    );
    // As of 10 February nobody had implemented anything; today one has.
    assert!(rows.iter().all(|r| r[9] != "implemented"));

    let all = export(&f.admin, format!("?body_id={}", f.body)).await;
    assert_eq!(all.len(), 6);
    let bw = export(&f.admin, format!("?body_id={}&organisation_id={}", f.body, f.bw)).await;
    assert_eq!(bw.len(), 3);
    assert!(bw.iter().all(|r| r[8] == "Botswana"));
    let implemented = export(&f.admin, format!("?body_id={}&status=implemented", f.body)).await;
    assert_eq!(
        implemented.iter().map(|r| (r[0].as_str(), r[8].as_str())).collect::<Vec<_>>(),
        [("WGT-03", "Botswana")]
    );
    let overdue = export(&f.admin, format!("?body_id={}&overdue=true", f.body)).await;
    assert_eq!(
        overdue.iter().map(|r| (r[0].as_str(), r[8].as_str(), r[12].as_str())).collect::<Vec<_>>(),
        [("WGT-03", "India", "true")]
    );
    let themed = export(&f.admin, format!("?body_id={}&theme=statistics&q=valuation", f.body)).await;
    assert_eq!(themed.len(), 2);
    assert!(themed.iter().all(|r| r[0] == "WGT-02"));
    let last_update = &bw.iter().find(|r| r[0] == "WGT-01").expect("row")[13];
    assert_eq!(last_update, "2027-03-05T10:00:00+00:00");
    let none = export(&f.admin, format!("?body_id={}&source_kind=meeting", f.body)).await;
    assert!(none.is_empty());
}

async fn export(admin: &Session, query: String) -> Vec<Vec<String>> {
    let res = admin.get(&format!("/api/recommendations/export.csv{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    parse_csv(&res.text().await.expect("text")).1
}

async fn malformed_filters_are_named(app: TestApp) {
    let f = fixture(&app).await;
    let body = f.body;
    let cases: Vec<(String, &str)> = vec![
        ("/api/stocktaking".into(), "body_id"),
        ("/api/stocktaking?body_id=abc".into(), "body_id"),
        ("/api/stocktaking?body_id=999999".into(), "body_id"),
        (format!("/api/stocktaking?body_id={body}&as_of=2027-13-01"), "as_of"),
        (format!("/api/stocktaking?body_id={body}&as_of=15/01/2027"), "as_of"),
        (format!("/api/stocktaking?body_id={body}&as_of=2099-01-01"), "as_of"),
        ("/api/stocktaking.csv?body_id=1x".into(), "body_id"),
        (format!("/api/stocktaking.csv?body_id={body}&as_of=yesterday"), "as_of"),
        ("/api/recommendations/export.csv?body_id=abc".into(), "body_id"),
        ("/api/recommendations/export.csv?body_id=999999".into(), "body_id"),
        ("/api/recommendations/export.csv?organisation_id=x".into(), "organisation_id"),
        ("/api/recommendations/export.csv?organisation_id=999999".into(), "organisation_id"),
        ("/api/recommendations/export.csv?status=Not%20A%20Key".into(), "status"),
        ("/api/recommendations/export.csv?status=no_such_status".into(), "status"),
        ("/api/recommendations/export.csv?overdue=maybe".into(), "overdue"),
        ("/api/recommendations/export.csv?source_kind=speech".into(), "source_kind"),
    ];
    for (path, field) in cases {
        let res = f.admin.get(&path).await;
        let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let problem = problem(res, 422).await;
        assert!(ct.starts_with("application/problem+json"), "{path}");
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
    }
}

async fn digest_rows(app: &TestApp) -> Vec<(String, String, String)> {
    use plenum::db::schema::mail_outbox;
    let db = app.state.db.clone();
    let mut rows: Vec<(String, String, String)> = db
        .read(|c| {
            Ok(mail_outbox::table
                .filter(mail_outbox::template.eq("recommendation_digest"))
                .select((mail_outbox::recipient, mail_outbox::subject, mail_outbox::text_body))
                .load(c)?)
        })
        .await
        .expect("outbox");
    rows.sort();
    rows
}

async fn the_digest_goes_out_once_per_participant_before_a_meeting(app: TestApp) {
    let mut f = fixture(&app).await;
    history(&app, &mut f).await;
    // A meeting on 20 March (within 14 days of the 10th) and one in May (not yet).
    let mut meetings = Vec::new();
    for (title, starts, ends) in [
        ("WGT March meeting", "2027-03-20T09:00:00Z", "2027-03-20T17:00:00Z"),
        ("WGT May meeting", "2027-05-20T08:00:00Z", "2027-05-20T16:00:00Z"),
    ] {
        let res = f
            .admin
            .post(
                "/api/meetings",
                &json!({"body_id": f.body, "kind": "working_group", "title": title, "time_zone": "Europe/Brussels",
                    "starts_at": starts, "ends_at": ends}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let id = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
        assert_eq!(f.admin.post(&format!("/api/meetings/{id}/convene"), &json!({})).await.status(), 200);
        meetings.push(id);
    }
    // Two instances run the scheduler at the same time, three times.
    let second = app.spawn_second().await;
    second.clock.set(at(2027, 3, 10, 9, 0));
    let (ctx, ctx2) = (app.state.decision_context(), second.state.decision_context());
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            plenum::scheduler::run_once(&app.state, &ctx),
            plenum::scheduler::run_once(&second.state, &ctx2)
        );
        a.expect("first instance's run");
        b.expect("second instance's run");
    }
    let rows = digest_rows(&app).await;
    let recipients: Vec<&str> = rows.iter().map(|(to, _, _)| to.as_str()).collect();
    assert_eq!(recipients, [BOTSWANA, INDIA], "one digest per participant's delegate");
    let (_, subject, text) = &rows[0];
    assert!(subject.contains("Botswana") && subject.contains("WGT March meeting"), "{subject}");
    // Botswana: WGT-01 in progress (due 31 March) and WGT-02 not started are open; WGT-03 is
    // implemented and not listed.
    assert!(text.contains("WGT-01") && text.contains("In progress") && text.contains("due 31 March 2027"), "{text}");
    assert!(text.contains("WGT-02") && text.contains("Not started"), "{text}");
    assert!(!text.contains("WGT-03"), "{text}");
    assert!(text.contains(&format!("/recommendations/{}", f.recs[0])), "{text}");
    assert!(text.contains("Overdue (0)") && text.contains("Open (2)"), "{text}");
    // India: WGT-03 partially implemented and overdue since 28 February.
    let (_, _, text) = &rows[1];
    let overdue = text.split("Open (").next().unwrap_or_default();
    assert!(overdue.contains("WGT-03") && overdue.contains("Partially implemented"), "{text}");
    assert!(text.contains("Overdue (1)") && text.contains("Open (2)"), "{text}");

    // A day later it is not sent again; the May meeting is still too far.
    app.clock.set(at(2027, 3, 11, 9, 0));
    plenum::scheduler::run_once(&app.state, &ctx).await.expect("run");
    assert_eq!(digest_rows(&app).await.len(), 2, "not sent again");
    let claimed = {
        use plenum::db::schema::recommendation_digests;
        let db = app.state.db.clone();
        db.read(|c| {
            Ok(recommendation_digests::table
                .select((recommendation_digests::meeting_id, recommendation_digests::organisation_id))
                .order(recommendation_digests::organisation_id.asc())
                .load::<(i64, i64)>(c)?)
        })
        .await
        .expect("claims")
    };
    let mut expected = vec![(meetings[0], f.bw), (meetings[0], f.india)];
    expected.sort_by_key(|(_, o)| *o);
    assert_eq!(claimed, expected);
    // Within the lead time of the May meeting, its digests go out (once).
    app.clock.set(at(2027, 5, 10, 9, 0));
    plenum::scheduler::run_once(&app.state, &ctx).await.expect("run");
    plenum::scheduler::run_once(&app.state, &ctx).await.expect("run");
    assert_eq!(digest_rows(&app).await.len(), 4);
}

on_both_backends!(
    stocktaking_as_of_a_past_date_reproduces_exactly_the_counts_that_were_true_then,
    overdue_counts_around_the_due_date,
    observers_do_not_see_restricted_recommendations,
    csv_exports,
    malformed_filters_are_named,
    the_digest_goes_out_once_per_participant_before_a_meeting,
);
