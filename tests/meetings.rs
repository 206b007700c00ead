//! Meetings and agendas end to end over HTTP and the live websocket, on both backends: states
//! and who may move them, the numbered agenda and its amendments, documents, mail with the
//! calendar event, and closed sessions that never reach an observer — not in lists, documents,
//! calendars or live events, not even after a reconnect.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const CLOSED_TITLE: &str = "Compliance of a participant under review";

async fn plenary_id(s: &Session) -> i64 {
    let list = s.json("/api/bodies").await;
    list.as_array().expect("list").iter().find(|b| b["short_name"] == "KP").and_then(|b| b["id"].as_i64()).expect("KP")
}

async fn new_meeting(admin: &Session, title: &str) -> i64 {
    let body = plenary_id(admin).await;
    let res = admin
        .post(
            "/api/meetings",
            &json!({"body_id": body, "kind": "intersessional", "title": title, "venue": "Antwerp",
                "time_zone": "Europe/Brussels", "starts_at": "2027-06-14T07:00:00Z", "ends_at": "2027-06-16T16:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201, "create meeting");
    res.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
}

async fn add_item(admin: &Session, meeting: i64, item: Value) -> i64 {
    let res = admin.post(&format!("/api/meetings/{meeting}/agenda"), &item).await;
    assert_eq!(res.status(), 201, "add {item}");
    res.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
}

fn numbers(agenda: &Value) -> Vec<(String, String)> {
    agenda["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["number"].as_str().unwrap_or("").to_string(), i["title"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// A follower of a meeting's live feed.
struct Follower {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    /// Every text frame received, in order.
    frames: Vec<String>,
}

impl Follower {
    async fn connect(app: &TestApp, meeting: i64, token: &str, since: Option<i64>) -> Self {
        let base = app.base.replace("http://", "ws://");
        let since = since.map(|s| format!("&since={s}")).unwrap_or_default();
        let url = format!("{base}/api/meetings/{meeting}/live?token={token}{since}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
        Self { ws, frames: Vec::new() }
    }

    /// Reads frames until one satisfies `done`, or fails after 10 s.
    async fn until(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            match next {
                Ok(Some(Ok(Message::Text(text)))) => {
                    self.frames.push(text.to_string());
                    let frame: Value = serde_json::from_str(&text).expect("JSON frame");
                    if done(&frame) {
                        return frame;
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("waiting for {what}: the feed ended or timed out ({other:?}); got {:?}", self.frames),
            }
        }
    }

    fn seen(&self, text: &str) -> bool {
        self.frames.iter().any(|f| f.contains(text))
    }
}

fn current_is(id: i64) -> impl Fn(&Value) -> bool {
    move |f| f["kind"] == "current_item" && f["data"]["item_id"] == id
}

async fn meetings_agendas_and_their_states(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let body = plenary_id(&admin).await;
    // Bad input: nothing stored.
    let audit = app.audit_count().await;
    let p = problem(
        admin
            .post(
                "/api/meetings",
                &json!({"body_id": body, "kind": "plenary", "title": "X", "time_zone": "Europe/Atlantis",
                    "starts_at": "2027-06-14T07:00:00Z", "ends_at": "2027-06-13T07:00:00Z"}),
            )
            .await,
        422,
    )
    .await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(fields.contains(&"time_zone") && fields.contains(&"ends_at"), "{p}");
    assert_eq!(app.audit_count().await, audit);
    // In 2026 nobody chairs the KP: an ordinary participant may not create its meetings.
    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let res = botswana
        .post(
            "/api/meetings",
            &json!({"body_id": body, "kind": "plenary", "title": "X", "time_zone": "UTC",
                "starts_at": "2027-06-14T07:00:00Z", "ends_at": "2027-06-15T07:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 403);

    let meeting = new_meeting(&admin, "Antwerp Intersessional 2027").await;
    // A draft meeting is the chair's and the secretariat's only.
    assert_eq!(botswana.get(&format!("/api/meetings/{meeting}")).await.status(), 404);
    let opening = add_item(&admin, meeting, json!({"title": "Opening", "purpose": "for_information"})).await;
    let reports = add_item(&admin, meeting, json!({"title": "Reports", "duration_minutes": 90})).await;
    let wgm = add_item(&admin, meeting, json!({"title": "WGM report", "parent_id": reports})).await;
    let closing = add_item(&admin, meeting, json!({"title": "Closing"})).await;
    let agenda = admin.json(&format!("/api/meetings/{meeting}/agenda")).await;
    assert_eq!(
        numbers(&agenda),
        vec![
            ("1".into(), "Opening".into()),
            ("2".into(), "Reports".into()),
            ("2.1".into(), "WGM report".into()),
            ("3".into(), "Closing".into())
        ]
    );
    // An item cannot move under itself; bad numbers are refused; nothing changes.
    let p = problem(
        admin
            .post(
                &format!("/api/meetings/{meeting}/agenda/order"),
                &json!({"item_id": reports, "parent_id": wgm, "position": 0}),
            )
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "parent_id");
    let p = problem(
        admin.post(&format!("/api/meetings/{meeting}/agenda"), &json!({"title": " ", "duration_minutes": 0})).await,
        422,
    )
    .await;
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(2), "{p}");
    assert_eq!(numbers(&admin.json(&format!("/api/meetings/{meeting}/agenda")).await), numbers(&agenda));
    // Closing moves first, the WGM report to the top level: everything renumbers.
    let moved = admin
        .post(
            &format!("/api/meetings/{meeting}/agenda/order"),
            &json!({"item_id": closing, "parent_id": null, "position": 0}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    let moved = admin
        .post(
            &format!("/api/meetings/{meeting}/agenda/order"),
            &json!({"item_id": wgm, "parent_id": null, "position": 99}),
        )
        .await;
    assert_eq!(
        numbers(&moved.json::<Value>().await.expect("json")),
        vec![
            ("1".into(), "Closing".into()),
            ("2".into(), "Opening".into()),
            ("3".into(), "Reports".into()),
            ("4".into(), "WGM report".into())
        ]
    );
    // Items are taken up in session only.
    assert_eq!(
        admin.post(&format!("/api/meetings/{meeting}/current-item"), &json!({"item_id": opening})).await.status(),
        409
    );
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/open"), &json!({})).await.status(), 409, "convene first");
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/convene"), &json!({})).await.status(), 200);
    // Every invited delegation is mailed the agenda and the calendar event.
    let mails = eventually("the convocation mails", Duration::from_secs(10), || async {
        let sent: Vec<_> = app.state.mailer.sent().into_iter().filter(|m| m.subject.contains("is convened")).collect();
        let both = sent.iter().any(|m| m.to == BOTSWANA) && sent.iter().any(|m| m.to == OBSERVER);
        if both { Ok(sent) } else { Err(sent.len()) }
    })
    .await;
    let to_botswana = mails.iter().find(|m| m.to == BOTSWANA).expect("Botswana's delegate is mailed");
    assert!(to_botswana.text.contains("WGM report"), "{}", to_botswana.text);
    let ics = &to_botswana.attachments.first().expect("the .ics").content;
    assert!(
        ics.contains("BEGIN:VEVENT") && ics.contains(&format!("UID:meeting-{meeting}@")) && ics.contains("SEQUENCE:0"),
        "{ics}"
    );
    assert!(ics.contains("DTSTART:20270614T070000Z"), "{ics}");
    assert!(mails.iter().any(|m| m.to == OBSERVER), "observers are invited too");
    assert_eq!(botswana.get(&format!("/api/meetings/{meeting}")).await.status(), 200);
    // A new date: an update of the same event, one SEQUENCE higher.
    let res = admin.patch(&format!("/api/meetings/{meeting}"), &json!({"starts_at": "2027-06-15T07:00:00Z"})).await;
    assert_eq!(res.status(), 200);
    let update = eventually("the update mail", Duration::from_secs(10), || async {
        app.state.mailer.sent().into_iter().find(|m| m.to == BOTSWANA && m.subject.contains("has changed")).ok_or(())
    })
    .await;
    let ics = &update.attachments[0].content;
    assert!(ics.contains(&format!("UID:meeting-{meeting}@")) && ics.contains("SEQUENCE:1"), "{ics}");

    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/open"), &json!({})).await.status(), 200);
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/agenda/adopt"), &json!({})).await.status(), 200);
    let res = admin.post(&format!("/api/meetings/{meeting}/current-item"), &json!({"item_id": opening})).await;
    assert_eq!(res.status(), 200);
    let list = botswana.json("/api/meetings?when=in_session").await;
    let found = list.as_array().expect("list").iter().find(|m| m["id"] == meeting).cloned().expect("in session");
    assert_eq!(found["current_item"]["title"], "Opening");
    assert_eq!(botswana.json("/api/home").await["in_session"][0]["id"], meeting);
    // After adoption, changes are amendments: who, when, what.
    add_item(&admin, meeting, json!({"title": "Any other business"})).await;
    let agenda = botswana.json(&format!("/api/meetings/{meeting}/agenda")).await;
    let amendment = &agenda["amendments"][0];
    assert_eq!(
        (amendment["action"].as_str(), amendment["title"].as_str()),
        (Some("added"), Some("Any other business"))
    );
    assert_eq!(amendment["by"], "Sam Okafor");
    // Registration: a delegation registers its own delegates.
    let me = botswana.user_id();
    let india = app.login(INDIA, PASSWORD).await;
    assert_eq!(
        india
            .request(reqwest::Method::PUT, &format!("/api/meetings/{meeting}/attendance/{me}"))
            .send()
            .await
            .expect("sent")
            .status(),
        403
    );
    assert_eq!(
        botswana
            .request(reqwest::Method::PUT, &format!("/api/meetings/{meeting}/attendance/{me}"))
            .send()
            .await
            .expect("sent")
            .status(),
        204
    );
    assert_eq!(botswana.json(&format!("/api/meetings/{meeting}")).await["attendance"][0]["user"]["id"], me);
    // Closed: the agenda no longer changes.
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/close"), &json!({})).await.status(), 200);
    let audit = app.audit_count().await;
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/agenda"), &json!({"title": "Late"})).await.status(), 409);
    assert_eq!(admin.patch(&format!("/api/agenda-items/{opening}"), &json!({"title": "Late"})).await.status(), 409);
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/open"), &json!({})).await.status(), 409);
    assert_eq!(app.audit_count().await, audit);
}

async fn closed_sessions_never_reach_observers(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let meeting = new_meeting(&admin, "Closed-session test").await;
    let open_item = add_item(&admin, meeting, json!({"title": "Open item"})).await;
    let closed_item = add_item(&admin, meeting, json!({"title": CLOSED_TITLE, "closed_session": true})).await;
    let sub_of_closed =
        add_item(&admin, meeting, json!({"title": "Sub-item of the closed item", "parent_id": closed_item})).await;
    for step in ["convene", "open"] {
        assert_eq!(admin.post(&format!("/api/meetings/{meeting}/{step}"), &json!({})).await.status(), 200);
    }
    let pdf = b"%PDF-1.7 confidential".to_vec();
    let res = admin
        .request(reqwest::Method::POST, &format!("/api/agenda-items/{closed_item}/documents?filename=secret.pdf"))
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 201);
    let secret_doc = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");

    let observer = app.login(OBSERVER, PASSWORD).await;
    let participant = app.login(INDIA, PASSWORD).await;
    let mut watching = Follower::connect(&app, meeting, &observer.token, None).await;
    let mut delegate = Follower::connect(&app, meeting, &participant.token, None).await;
    let snapshot = watching.until("the observer's snapshot", |f| f["type"] == "snapshot").await;
    let last_seq = snapshot["seq"].as_i64().expect("seq");
    delegate.until("the participant's snapshot", |f| f["type"] == "snapshot").await;

    // The chair takes up the open item, then the closed one, renames it and its sub-item.
    for item in [open_item, closed_item] {
        let res = admin.post(&format!("/api/meetings/{meeting}/current-item"), &json!({"item_id": item})).await;
        assert_eq!(res.status(), 200);
    }
    let renamed = format!("{CLOSED_TITLE} (revised)");
    assert_eq!(
        admin.patch(&format!("/api/agenda-items/{closed_item}"), &json!({"title": renamed})).await.status(),
        200
    );
    delegate.until("the participant sees the closed item on the floor", current_is(closed_item)).await;
    delegate.until("the participant sees the new title", |f| f.to_string().contains("(revised)")).await;
    let floor = watching
        .until("the observer learns a closed session is on the floor", |f| {
            f["kind"] == "current_item" && f["data"]["closed_session"] == true
        })
        .await;
    assert_eq!(floor["data"]["item_id"], Value::Null);
    // The last agenda event tells the observer nothing of the rename.
    watching
        .until("the observer's last agenda", |f| f["kind"] == "agenda" && f["seq"].as_i64() > Some(last_seq + 4))
        .await;
    for text in [CLOSED_TITLE, "Sub-item of the closed item", "secret.pdf"] {
        assert!(!watching.seen(text), "the observer's feed leaked {text:?}: {:?}", watching.frames);
    }
    for id in [closed_item, sub_of_closed] {
        for key in ["\"id\":", "\"item_id\":"] {
            assert!(
                !watching.seen(&format!("{key}{id},")) && !watching.seen(&format!("{key}{id}}}")),
                "the observer's feed names item {id}"
            );
        }
    }
    assert!(delegate.seen(CLOSED_TITLE), "participants do see it");

    // After a reconnect, the replay is filtered the same way.
    let mut again = Follower::connect(&app, meeting, &observer.token, Some(last_seq)).await;
    again
        .until("the replay up to the closed item on the floor", |f| {
            f["kind"] == "current_item" && f["data"]["closed_session"] == true
        })
        .await;
    assert!(
        !again.frames.is_empty() && again.frames.iter().all(|f| !f.contains(CLOSED_TITLE) && !f.contains("Sub-item")),
        "{:?}",
        again.frames
    );
    let mut fresh = Follower::connect(&app, meeting, &observer.token, Some(0)).await;
    let first = fresh.until("a first frame", |_| true).await;
    assert!(!first.to_string().contains(CLOSED_TITLE));

    // Nor anywhere else: the agenda, the meeting, the calendar, the document, the item.
    for path in [
        format!("/api/meetings/{meeting}/agenda"),
        format!("/api/meetings/{meeting}"),
        "/api/home".to_string(),
        format!("/api/meetings?body_id={}", plenary_id(&observer).await),
    ] {
        let text = observer.get(&path).await.text().await.expect("text");
        assert!(!text.contains(CLOSED_TITLE) && !text.contains("Sub-item"), "{path} leaked: {text}");
    }
    let ics = observer.get(&format!("/api/meetings/{meeting}/calendar.ics")).await.text().await.expect("ics");
    assert!(ics.contains("Open item") && !ics.contains(CLOSED_TITLE), "{ics}");
    let body = plenary_id(&observer).await;
    let feed = observer.get(&format!("/api/bodies/{body}/calendar.ics")).await.text().await.expect("ics");
    assert!(feed.contains("Closed-session test") && !feed.contains(CLOSED_TITLE), "{feed}");
    // A calendar application subscribes with the observer's feed link: the same filtered feed,
    // and the link opens nothing but calendars.
    let res = observer.post("/api/me/calendar-feed", &json!({})).await;
    assert_eq!(res.status(), 201);
    let feed_token = res.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_string();
    let anonymous = reqwest::Client::new();
    let subscribed = anonymous
        .get(app.url(&format!("/api/bodies/{body}/calendar.ics?feed={feed_token}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(subscribed.status(), 200);
    let subscribed = subscribed.text().await.expect("ics");
    assert!(subscribed.contains("Closed-session test") && !subscribed.contains(CLOSED_TITLE), "{subscribed}");
    let elsewhere = anonymous
        .get(app.url(&format!("/api/meetings/{meeting}/agenda?feed={feed_token}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(elsewhere.status(), 401, "a feed link opens calendars only");
    assert_eq!(observer.delete("/api/me/calendar-feed").await.status(), 204);
    let revoked = anonymous
        .get(app.url(&format!("/api/bodies/{body}/calendar.ics?feed={feed_token}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(revoked.status(), 401);
    assert_eq!(observer.get(&format!("/api/documents/{secret_doc}")).await.status(), 404);
    assert_eq!(participant.get(&format!("/api/documents/{secret_doc}")).await.status(), 200);
    assert_eq!(
        observer.patch(&format!("/api/agenda-items/{sub_of_closed}"), &json!({"title": "x"})).await.status(),
        404
    );
}

async fn documents_are_checked(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let meeting = new_meeting(&admin, "Documents test").await;
    let item = add_item(&admin, meeting, json!({"title": "Reports"})).await;
    let upload = |name: &str, ct: &str, body: Vec<u8>| {
        admin
            .request(reqwest::Method::POST, &format!("/api/agenda-items/{item}/documents?filename={name}"))
            .header("content-type", ct.to_string())
            .body(body)
            .send()
    };
    let res = upload("WGM report 2027.pdf", "application/pdf", b"%PDF-1.7\nreport".to_vec()).await.expect("sent");
    assert_eq!(res.status(), 201);
    let doc = res.json::<Value>().await.expect("json");
    let audit = app.audit_count().await;
    let p = problem(upload("big.txt", "text/plain", vec![b'a'; 1024 * 1024 + 10]).await.expect("sent"), 413).await;
    assert!(p["detail"].is_string());
    let p = problem(upload("tool.exe", "application/octet-stream", b"MZ\x90".to_vec()).await.expect("sent"), 415).await;
    assert!(p["detail"].as_str().unwrap_or("").contains("not accepted"), "{p}");
    problem(upload("fake.pdf", "application/pdf", b"<html>".to_vec()).await.expect("sent"), 415).await;
    assert_eq!(app.audit_count().await, audit, "nothing stored");
    let res = admin.get(&format!("/api/documents/{}", doc["id"])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let disposition = res.headers()["content-disposition"].to_str().unwrap_or("").to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("WGM report 2027.pdf")
            || disposition.contains("WGM%20report"),
        "{disposition}"
    );
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), b"%PDF-1.7\nreport");
    let agenda = admin.json(&format!("/api/meetings/{meeting}/agenda")).await;
    assert_eq!(agenda["items"][0]["documents"][0]["filename"], "WGM report 2027.pdf");
}

async fn guests_follow_their_meeting_and_its_drafts(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let res = admin
        .post("/api/organisations", &json!({"kind": "guest", "name": "Applicant State", "short_code": "APP"}))
        .await;
    let guest_org = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let res = admin
        .post(
            "/api/invitations",
            &json!({"email": "gil@applicant.example", "name": "Gil Guest", "organisation_id": guest_org}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let token = eventually("the invitation", Duration::from_secs(10), || async {
        app.state
            .mailer
            .sent()
            .iter()
            .find(|m| m.to == "gil@applicant.example")
            .map(|m| token_from_link(&m.text, "/invitation?token="))
            .ok_or(())
    })
    .await;
    assert_eq!(
        app.post_json("/api/invitations/accept", &json!({"token": token, "password": PASSWORD})).await.status(),
        200
    );
    let guest = app.login("gil@applicant.example", PASSWORD).await;
    let meeting = new_meeting(&admin, "Guests test").await;
    let item = add_item(&admin, meeting, json!({"title": "Peer review"})).await;
    let draft = admin.json("/api/drafts").await["items"][0]["id"].as_i64().expect("draft");
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/convene"), &json!({})).await.status(), 200);
    assert_eq!(guest.get(&format!("/api/meetings/{meeting}")).await.status(), 404, "not invited yet");
    let participant_org = app.organisation_id(&admin, "BW").await;
    let p = problem(
        admin
            .request(reqwest::Method::PUT, &format!("/api/meetings/{meeting}/guests/{participant_org}"))
            .send()
            .await
            .expect("sent"),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "organisation_id");
    assert_eq!(
        admin
            .request(reqwest::Method::PUT, &format!("/api/meetings/{meeting}/guests/{guest_org}"))
            .send()
            .await
            .expect("sent")
            .status(),
        204
    );
    assert_eq!(guest.get(&format!("/api/meetings/{meeting}")).await.status(), 200);
    assert_eq!(guest.get(&format!("/api/drafts/{draft}")).await.status(), 403, "not linked yet");
    assert_eq!(
        admin
            .request(reqwest::Method::PUT, &format!("/api/agenda-items/{item}/drafts/{draft}"))
            .send()
            .await
            .expect("sent")
            .status(),
        204
    );
    assert_eq!(guest.get(&format!("/api/drafts/{draft}")).await.status(), 200, "linked to the guest's meeting");
    let view = guest.json(&format!("/api/drafts/{draft}")).await;
    assert_eq!(view["can_edit"], false, "guests read, never write");
    assert_eq!(guest.get("/api/drafts").await.status(), 403);
    assert_eq!(guest.get("/api/meetings/1").await.status(), 404, "other meetings do not exist for a guest");
}

async fn powers_over_meetings_follow_the_chair(app: TestApp) {
    app.seed_demo().await;
    let midnight = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).single().expect("instant"); // Brussels midnight
    app.clock.set(midnight - chrono::Duration::minutes(5));
    let admin = app.login(ADMIN, PASSWORD).await;
    let body = plenary_id(&admin).await;
    let (bw, india) = (app.organisation_id(&admin, "BW").await, app.organisation_id(&admin, "IN").await);
    for (office, org) in [("chair", bw), ("vice_chair", india)] {
        let res = admin
            .post(
                &format!("/api/bodies/{body}/terms"),
                &json!({"office": office, "organisation_id": org, "starts_on": "2026-01-01"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let botswana = app.login(BOTSWANA, PASSWORD).await;
    let india_s = app.login(INDIA, PASSWORD).await;
    let new = |s: Session, n: u32| async move {
        s.post(
            "/api/meetings",
            &json!({"body_id": body, "kind": "plenary", "title": format!("Plenary {n}"), "time_zone": "Europe/Brussels",
                "starts_at": "2027-11-01T08:00:00Z", "ends_at": "2027-11-04T17:00:00Z"}),
        )
        .await
        .status()
    };
    assert_eq!(new(botswana.clone(), 1).await, 201, "the 2026 chair convenes");
    assert_eq!(new(india_s.clone(), 2).await, 403, "the vice-chair does not");
    app.clock.set(midnight + chrono::Duration::seconds(1));
    assert_eq!(new(botswana.clone(), 3).await, 403, "the old chair no longer");
    assert_eq!(new(india_s.clone(), 4).await, 201, "India succeeded at midnight in Brussels");
}

/// The id of the draft in a list of drafts, as the list shows it.
fn listed(list: &Value, id: i64) -> Value {
    list["items"].as_array().expect("items").iter().find(|d| d["id"] == id).cloned().unwrap_or(Value::Null)
}

/// The ids of the drafts an agenda lists under an item.
fn drafts_under(agenda: &Value, item: i64) -> Vec<i64> {
    agenda["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["id"] == item)
        .flat_map(|i| i["drafts"].as_array().cloned().unwrap_or_default())
        .filter_map(|d| d["id"].as_i64())
        .collect()
}

/// A draft belongs to a meeting of its body and an item of that meeting's agenda: the draft
/// shows both, the item lists the draft (in the agenda and on the live feed); a meeting of another
/// body, an item of another meeting or one the caller may not see is a 422 naming the field, and
/// nothing is stored; the chair moves and clears the links with PATCH.
async fn drafts_belong_to_a_meeting_and_an_item(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let meeting = new_meeting(&admin, "Where drafts belong").await;
    let item = add_item(&admin, meeting, json!({"title": "Peer review"})).await;
    let sub = add_item(&admin, meeting, json!({"title": "Visit reports", "parent_id": item})).await;
    let closed = add_item(&admin, meeting, json!({"title": CLOSED_TITLE, "closed_session": true})).await;
    let other = new_meeting(&admin, "Another meeting").await;
    let other_item = add_item(&admin, other, json!({"title": "Elsewhere"})).await;
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/convene"), &json!({})).await.status(), 200);

    // With a meeting and an item: the draft shows them, the agenda and its live feed list it.
    let mut follower = Follower::connect(&app, meeting, &admin.token, None).await;
    follower.until("the snapshot", |f| f["type"] == "snapshot").await;
    let res = admin
        .post(
            "/api/drafts",
            &json!({"title": "Decision on visit reports", "meeting_id": meeting, "agenda_item_id": sub}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let draft: Value = res.json().await.expect("json");
    let id = draft["id"].as_i64().expect("id");
    assert_eq!(draft["meeting"], json!({"id": meeting, "title": "Where drafts belong"}));
    assert_eq!(draft["agenda_item"], json!({"id": sub, "number": "1.1", "title": "Visit reports"}));
    assert_eq!(drafts_under(&admin.json(&format!("/api/meetings/{meeting}/agenda")).await, sub), vec![id]);
    follower
        .until("the agenda listing the draft", |f| f["kind"] == "agenda" && drafts_under(&f["data"], sub) == vec![id])
        .await;
    let in_list = listed(&admin.json("/api/drafts").await, id);
    assert_eq!((&in_list["meeting"]["id"], &in_list["agenda_item"]["number"]), (&json!(meeting), &json!("1.1")));
    // Given only the item, the draft takes its meeting.
    let res = admin.post("/api/drafts", &json!({"title": "Item only", "agenda_item_id": item})).await;
    assert_eq!(res.status(), 201);
    let item_only: Value = res.json().await.expect("json");
    assert_eq!(item_only["meeting"]["id"], meeting);
    assert_eq!(item_only["agenda_item"]["number"], "1");

    // Wrong places: 422 naming the field, and nothing stored.
    let bodies = admin.json("/api/bodies").await;
    let group =
        bodies.as_array().expect("bodies").iter().find(|b| b["short_name"] != "KP").expect("a group")["id"].clone();
    let res = admin
        .post(
            "/api/meetings",
            &json!({"body_id": group, "kind": "working_group", "title": "A group's meeting", "time_zone": "UTC",
                "starts_at": "2027-03-01T09:00:00Z", "ends_at": "2027-03-01T12:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let group_meeting = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let group_item = add_item(&admin, group_meeting, json!({"title": "The group's item"})).await;
    let (drafts_before, audit_before) =
        (admin.json("/api/drafts?limit=100").await["items"].as_array().map(Vec::len), app.audit_count().await);
    for (body, field) in [
        (json!({"title": "Another body's meeting", "meeting_id": group_meeting}), "meeting_id"),
        (json!({"title": "Another body's item", "agenda_item_id": group_item}), "agenda_item_id"),
        (
            json!({"title": "Another meeting's item", "meeting_id": meeting, "agenda_item_id": other_item}),
            "agenda_item_id",
        ),
        (json!({"title": "No such meeting", "meeting_id": 999_999}), "meeting_id"),
        (json!({"title": "No such item", "agenda_item_id": 999_999}), "agenda_item_id"),
    ] {
        let p = problem(admin.post("/api/drafts", &body).await, 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    assert_eq!(
        admin.json("/api/drafts?limit=100").await["items"].as_array().map(Vec::len),
        drafts_before,
        "nothing stored"
    );
    assert_eq!(app.audit_count().await, audit_before, "nothing audited");

    // A delegate who does not chair the meeting may say which meeting, not put it on the agenda.
    let kabo = app.login(BOTSWANA, PASSWORD).await;
    let res = kabo.post("/api/drafts", &json!({"title": "A delegate's draft", "meeting_id": meeting})).await;
    assert_eq!(res.status(), 201);
    let delegates = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    assert_eq!(
        kabo.post("/api/drafts", &json!({"title": "On the agenda", "agenda_item_id": item})).await.status(),
        403
    );
    assert_eq!(
        admin.json("/api/drafts?limit=100").await["items"].as_array().map(Vec::len),
        drafts_before.map(|n| n + 1)
    );
    // Changing the links is the chair's, like renaming.
    assert_eq!(kabo.patch(&format!("/api/drafts/{delegates}"), &json!({"agenda_item_id": item})).await.status(), 403);

    // An observer reads the draft with its meeting, but never a closed-session item.
    let res = admin.post("/api/drafts", &json!({"title": "Closed business", "agenda_item_id": closed})).await;
    assert_eq!(res.status(), 201);
    let secret = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let observer = app.login(OBSERVER, PASSWORD).await;
    let seen = observer.json(&format!("/api/drafts/{secret}")).await;
    assert_eq!(seen["meeting"]["id"], meeting);
    assert_eq!(seen["agenda_item"], Value::Null);
    assert!(!seen.to_string().contains(CLOSED_TITLE), "{seen}");
    assert!(!observer.json("/api/drafts").await.to_string().contains(CLOSED_TITLE));

    // PATCH: clear the item (the meeting stays), then the meeting, then set an item (its meeting
    // comes with it), then another meeting (the item goes).
    let patch = |body: Value| {
        let admin = &admin;
        async move {
            let res = admin.patch(&format!("/api/drafts/{id}"), &body).await;
            assert_eq!(res.status(), 200, "PATCH {body}");
            res.json::<Value>().await.expect("json")
        }
    };
    let after = patch(json!({"agenda_item_id": null})).await;
    assert_eq!((&after["meeting"]["id"], &after["agenda_item"]), (&json!(meeting), &Value::Null));
    let after = patch(json!({"meeting_id": null})).await;
    assert_eq!((&after["meeting"], &after["agenda_item"]), (&Value::Null, &Value::Null));
    let after = patch(json!({"agenda_item_id": other_item})).await;
    assert_eq!((&after["meeting"]["id"], &after["agenda_item"]["id"]), (&json!(other), &json!(other_item)));
    assert_eq!(drafts_under(&admin.json(&format!("/api/meetings/{other}/agenda")).await, other_item), vec![id]);
    let after = patch(json!({"title": "Renamed"})).await;
    assert_eq!(after["agenda_item"]["id"], other_item, "a rename leaves the links alone");
    let after = patch(json!({"meeting_id": meeting})).await;
    assert_eq!((&after["meeting"]["id"], &after["agenda_item"]), (&json!(meeting), &Value::Null));
    let p = problem(admin.patch(&format!("/api/drafts/{id}"), &json!({"meeting_id": group_meeting})).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "meeting_id");
    let p = problem(
        admin.patch(&format!("/api/drafts/{id}"), &json!({"agenda_item_id": other_item, "meeting_id": meeting})).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "agenda_item_id");
    assert_eq!(
        admin.json(&format!("/api/drafts/{id}")).await["meeting"]["id"],
        meeting,
        "a refused change stores nothing"
    );
    // The audit log keeps the links, not a reference.
    let audit = admin.json("/api/audit?limit=100").await.to_string();
    assert!(audit.contains("agenda_item_id") && !audit.contains("\"reference\""), "{audit}");

    // Unlinking the draft from its item, or deleting the item, leaves it with its meeting only.
    let after = patch(json!({"agenda_item_id": sub})).await;
    assert_eq!(after["agenda_item"]["id"], sub);
    let unlink = admin.delete(&format!("/api/agenda-items/{sub}/drafts/{id}")).await;
    assert_eq!(unlink.status(), 204);
    let after = admin.json(&format!("/api/drafts/{id}")).await;
    assert_eq!((&after["meeting"]["id"], &after["agenda_item"]), (&json!(meeting), &Value::Null));
    assert_eq!(admin.delete(&format!("/api/agenda-items/{sub}")).await.status(), 204);
    let first = item_only["id"].as_i64().expect("id");
    assert_eq!(admin.delete(&format!("/api/agenda-items/{item}")).await.status(), 204);
    let after = admin.json(&format!("/api/drafts/{first}")).await;
    assert_eq!((&after["meeting"]["id"], &after["agenda_item"]), (&json!(meeting), &Value::Null));
}

/// How many agenda reads this instance answered from memory and from the database.
fn agenda_reads(app: &TestApp) -> (u64, u64) {
    let reads = &app.state.metrics.agenda_reads;
    (reads[0].load(std::sync::atomic::Ordering::Relaxed), reads[1].load(std::sync::atomic::Ordering::Relaxed))
}

/// Titles of the agenda's items, and of every draft it links.
fn titles(agenda: &Value) -> Vec<String> {
    let items = agenda["items"].as_array().expect("items");
    let drafts = items.iter().flat_map(|i| i["drafts"].as_array().expect("drafts").iter());
    items.iter().chain(drafts).map(|v| v["title"].as_str().unwrap_or("").to_string()).collect()
}

/// An instance that keeps rendered agendas for an hour: only the announcements of changes can
/// make it read one again.
fn agendas_kept_an_hour(config: &mut plenum::config::ServerConfig) {
    config.agenda_cache_ms = 3_600_000;
}

/// Agendas are answered from this instance's memory once read, and every change anyone could
/// see in one (an item added or renamed, a closed session, a linked draft renamed, the meeting's
/// state) shows on the very next read, in each reader's own version; memory never lets anyone
/// read what the database would refuse them.
async fn agendas_from_memory_show_every_change_at_once(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let participant = app.login(INDIA, PASSWORD).await;
    let observer = app.login(OBSERVER, PASSWORD).await;
    let meeting = new_meeting(&admin, "Agendas from memory").await;
    let item = add_item(&admin, meeting, json!({"title": "Opening"})).await;
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/convene"), &json!({})).await.status(), 200);
    let path = format!("/api/meetings/{meeting}/agenda");

    let first = participant.json(&path).await;
    // On PostgreSQL this instance also hears its own changes' notifications, a little later, and
    // forgets the meeting once more: wait until they are all in, then reads come from memory.
    eventually("five reads in a row from memory", Duration::from_secs(10), || async {
        let before = agenda_reads(&app);
        for _ in 0..5 {
            assert_eq!(participant.json(&path).await, first);
        }
        let after = agenda_reads(&app);
        let reads = (after.0 - before.0, after.1 - before.1);
        if reads == (5, 0) { Ok(()) } else { Err(reads) }
    })
    .await;

    add_item(&admin, meeting, json!({"title": "Second item"})).await;
    assert_eq!(titles(&participant.json(&path).await), ["Opening", "Second item"]);
    let res = admin.patch(&format!("/api/agenda-items/{item}"), &json!({"title": "Opening of the meeting"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(titles(&participant.json(&path).await), ["Opening of the meeting", "Second item"]);

    // A closed session: participants see it at once, observers never, whoever read first.
    assert_eq!(titles(&observer.json(&path).await), ["Opening of the meeting", "Second item"]);
    add_item(&admin, meeting, json!({"title": CLOSED_TITLE, "closed_session": true})).await;
    assert_eq!(titles(&participant.json(&path).await), ["Opening of the meeting", "Second item", CLOSED_TITLE]);
    for _ in 0..2 {
        let seen = observer.get(&path).await.text().await.expect("text");
        assert!(!seen.contains(CLOSED_TITLE) && seen.contains("Second item"), "{seen}");
    }

    // A linked draft renamed: its new title is on the agenda (and in the live feed's event).
    let res = admin.post("/api/drafts", &json!({"title": "Draft decision", "agenda_item_id": item})).await;
    assert_eq!(res.status(), 201);
    let draft = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    assert!(titles(&participant.json(&path).await).contains(&"Draft decision".to_string()));
    let mut follower = Follower::connect(&app, meeting, &participant.token, None).await;
    follower.until("the snapshot", |f| f["type"] == "snapshot").await;
    let res = admin.patch(&format!("/api/drafts/{draft}"), &json!({"title": "Draft decision on compliance"})).await;
    assert_eq!(res.status(), 200);
    assert!(titles(&participant.json(&path).await).contains(&"Draft decision on compliance".to_string()));
    follower
        .until("the agenda event with the new title", |f| {
            f["kind"] == "agenda" && titles(&f["data"]).contains(&"Draft decision on compliance".to_string())
        })
        .await;

    // The meeting's state: cancelled, it still reads; a meeting in preparation is the chair's and
    // the secretariat's, even once the secretariat's read is in memory.
    let prepared = new_meeting(&admin, "In preparation").await;
    add_item(&admin, prepared, json!({"title": "Not yet public"})).await;
    let prepared_path = format!("/api/meetings/{prepared}/agenda");
    for _ in 0..2 {
        assert_eq!(titles(&admin.json(&prepared_path).await), ["Not yet public"]);
        assert_eq!(participant.get(&prepared_path).await.status(), 404);
        assert_eq!(observer.get(&prepared_path).await.status(), 404);
    }
    assert_eq!(admin.post(&format!("/api/meetings/{prepared}/convene"), &json!({})).await.status(), 200);
    assert_eq!(titles(&participant.json(&prepared_path).await), ["Not yet public"]);
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/cancel"), &json!({})).await.status(), 200);
    assert_eq!(participant.json(&path).await["items"].as_array().map(Vec::len), Some(3));
}

async fn agendas_from_memory(backend: Backend) {
    agendas_from_memory_show_every_change_at_once(TestApp::spawn_with(backend, agendas_kept_an_hour).await).await;
}

#[actix_web::test]
async fn agendas_from_memory_show_every_change_at_once_sqlite() {
    agendas_from_memory(Backend::Sqlite).await;
}

#[actix_web::test]
async fn agendas_from_memory_show_every_change_at_once_postgres() {
    agendas_from_memory(Backend::Postgres).await;
}

/// Two instances on PostgreSQL, each keeping agendas for an hour: a change made on one reaches
/// the agenda read on the other (the notification makes it forget what it had).
#[actix_web::test]
async fn an_agenda_read_on_one_instance_shows_a_change_made_on_another() {
    let app = TestApp::spawn_with(Backend::Postgres, agendas_kept_an_hour).await;
    app.seed_demo().await;
    let second = app.spawn_second_with(agendas_kept_an_hour).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let meeting = new_meeting(&admin, "Two instances, one agenda").await;
    let item = add_item(&admin, meeting, json!({"title": "Only item"})).await;
    assert_eq!(admin.post(&format!("/api/meetings/{meeting}/convene"), &json!({})).await.status(), 200);
    let far = second.login(INDIA, PASSWORD).await;
    let path = format!("/api/meetings/{meeting}/agenda");
    assert_eq!(titles(&far.json(&path).await), ["Only item"]);
    // Once the notifications of the setup are in, the far instance answers from memory.
    eventually("a read from the far instance's memory", Duration::from_secs(10), || async {
        let before = agenda_reads(&second).0;
        assert_eq!(titles(&far.json(&path).await), ["Only item"]);
        if agenda_reads(&second).0 > before { Ok(()) } else { Err(before) }
    })
    .await;

    let res = admin.patch(&format!("/api/agenda-items/{item}"), &json!({"title": "Only item, renamed"})).await;
    assert_eq!(res.status(), 200);
    eventually("the far instance's agenda shows the new title", Duration::from_secs(10), || async {
        let seen = titles(&far.json(&path).await);
        if seen == ["Only item, renamed"] { Ok(()) } else { Err(seen) }
    })
    .await;
}

on_both_backends!(
    drafts_belong_to_a_meeting_and_an_item,
    meetings_agendas_and_their_states,
    closed_sessions_never_reach_observers,
    documents_are_checked,
    guests_follow_their_meeting_and_its_drafts,
    powers_over_meetings_follow_the_chair,
);

/// Two instances on PostgreSQL: a follower on one sees the chair's change made on the other.
#[actix_web::test]
async fn a_change_on_one_instance_reaches_followers_of_another() {
    let app = TestApp::spawn(Backend::Postgres).await;
    app.seed_demo().await;
    let second = app.spawn_second().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let meeting = new_meeting(&admin, "Two instances").await;
    let item = add_item(&admin, meeting, json!({"title": "Only item"})).await;
    for step in ["convene", "open"] {
        assert_eq!(admin.post(&format!("/api/meetings/{meeting}/{step}"), &json!({})).await.status(), 200);
    }
    let observer = second.login(OBSERVER, PASSWORD).await;
    let mut far = Follower::connect(&second, meeting, &observer.token, None).await;
    far.until("the snapshot", |f| f["type"] == "snapshot").await;
    assert_eq!(
        admin.post(&format!("/api/meetings/{meeting}/current-item"), &json!({"item_id": item})).await.status(),
        200
    );
    let frame = far.until("the current item from the other instance", current_is(item)).await;
    assert_eq!(frame["data"]["title"], "Only item");
}
