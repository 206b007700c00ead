//! The authorization matrix: every operation of the OpenAPI document, called by each kind of
//! actor, answers the status this table expects. A new endpoint is covered by adding one row;
//! an operation without a row fails the test, and so does a policy rule that is removed.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The actors, in the order of each row's expectations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Guest,
    Observer,
    OtherParticipant,
    Participant,
    Admin,
}

const ACTORS: [Who; 6] =
    [Who::Anonymous, Who::Guest, Who::Observer, Who::OtherParticipant, Who::Participant, Who::Admin];

/// `(method, path as in the OpenAPI document, [anonymous, guest, observer, other participant, participant, admin])`.
/// "Participant" is the Botswana delegate whose user record the `{id}` rows target.
const MATRIX: &[(&str, &str, [u16; 6])] = &[
    ("GET", "/healthz", [200, 200, 200, 200, 200, 200]),
    ("GET", "/readyz", [200, 200, 200, 200, 200, 200]),
    ("GET", "/api/openapi.json", [200, 200, 200, 200, 200, 200]),
    // Served on --metrics-bind or to --metrics-token only (tests/hardening.rs): never to sessions.
    ("GET", "/metrics", [404, 404, 404, 404, 404, 404]),
    ("POST", "/api/auth/login", [200, 200, 200, 200, 200, 200]),
    ("POST", "/api/auth/logout", [401, 204, 204, 204, 204, 204]),
    ("POST", "/api/auth/password-reset", [202, 202, 202, 202, 202, 202]),
    ("POST", "/api/auth/password-reset/confirm", [400, 400, 400, 400, 400, 400]),
    ("POST", "/api/invitations", [401, 403, 403, 403, 403, 201]),
    ("POST", "/api/invitations/accept", [400, 400, 400, 400, 400, 400]),
    ("GET", "/api/me", [401, 200, 200, 200, 200, 200]),
    ("GET", "/api/me/sessions", [401, 200, 200, 200, 200, 200]),
    ("DELETE", "/api/me/sessions", [401, 204, 204, 204, 204, 204]),
    ("DELETE", "/api/me/sessions/{id}", [401, 204, 204, 204, 204, 204]),
    ("GET", "/api/organisations", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/organisations", [401, 403, 403, 403, 403, 201]),
    ("GET", "/api/organisations/{id}", [401, 403, 200, 200, 200, 200]),
    ("PATCH", "/api/organisations/{id}", [401, 403, 403, 403, 403, 200]),
    ("GET", "/api/users", [401, 403, 200, 200, 200, 200]),
    ("GET", "/api/users/{id}", [401, 403, 200, 200, 200, 200]),
    ("PATCH", "/api/users/{id}", [401, 403, 403, 403, 200, 200]),
    ("GET", "/api/audit", [401, 403, 403, 403, 403, 200]),
    ("GET", "/api/drafts", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/drafts", [401, 403, 403, 201, 201, 201]),
    ("GET", "/api/drafts/{id}", [401, 403, 200, 200, 200, 200]),
    ("PATCH", "/api/drafts/{id}", [401, 403, 403, 403, 403, 200]),
    // A plain GET is not a websocket upgrade (400) once authorised: the checks come first.
    ("GET", "/api/drafts/{id}/ws", [401, 403, 400, 400, 400, 400]),
    // Bodies: in the demo (2026) nobody holds a chair, so only the secretariat manages them; the
    // chair, vice-chair and acting chair rows are in tests/bodies.rs.
    ("GET", "/api/bodies", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/bodies", [401, 403, 403, 403, 403, 201]),
    ("GET", "/api/bodies/{id}", [401, 403, 200, 200, 200, 200]),
    ("PATCH", "/api/bodies/{id}", [401, 403, 403, 403, 403, 200]),
    ("PUT", "/api/bodies/{id}/members/{organisation_id}", [401, 403, 403, 403, 403, 200]),
    ("DELETE", "/api/bodies/{id}/members/{organisation_id}", [401, 403, 403, 403, 403, 204]),
    ("GET", "/api/bodies/{id}/terms", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/bodies/{id}/terms", [401, 403, 403, 403, 403, 201]),
    ("PATCH", "/api/terms/{id}", [401, 403, 403, 403, 403, 200]),
    ("GET", "/api/bodies/{id}/chair", [401, 403, 200, 200, 200, 200]),
    // Authorised, but the plenary has no vice-chair in office in 2026 (409) and nobody acts (404).
    ("POST", "/api/bodies/{id}/acting-chair", [401, 403, 403, 403, 403, 409]),
    ("DELETE", "/api/bodies/{id}/acting-chair", [401, 403, 403, 403, 403, 404]),
    // Meetings: the demo's Brussels Plenary 2007 (convened; the guest is not invited to it, so
    // for the guest it does not exist). Rows run in this order: the admin's call of one row sets
    // up the next (it opens the meeting before the current item is set, closes it last).
    ("GET", "/api/home", [401, 200, 200, 200, 200, 200]),
    ("POST", "/api/me/calendar-feed", [401, 201, 201, 201, 201, 201]),
    ("DELETE", "/api/me/calendar-feed", [401, 204, 204, 204, 204, 204]),
    ("GET", "/api/meetings", [401, 200, 200, 200, 200, 200]),
    ("POST", "/api/meetings", [401, 403, 403, 403, 403, 201]),
    ("GET", "/api/meetings/{id}", [401, 404, 200, 200, 200, 200]),
    ("PATCH", "/api/meetings/{id}", [401, 404, 403, 403, 403, 200]),
    ("POST", "/api/meetings/{id}/convene", [401, 404, 403, 403, 403, 409]),
    // The admin invites the guest; then the guest sees the meeting (403, not 404, on removal).
    ("PUT", "/api/meetings/{id}/guests/{organisation_id}", [401, 404, 403, 403, 403, 204]),
    ("DELETE", "/api/meetings/{id}/guests/{organisation_id}", [401, 403, 403, 403, 403, 204]),
    // Botswana registers its own delegate; then the admin's removal finds nobody registered.
    ("PUT", "/api/meetings/{id}/attendance/{user_id}", [401, 404, 403, 403, 204, 204]),
    ("DELETE", "/api/meetings/{id}/attendance/{user_id}", [401, 404, 403, 403, 204, 404]),
    ("GET", "/api/meetings/{id}/agenda", [401, 404, 200, 200, 200, 200]),
    ("POST", "/api/meetings/{id}/agenda", [401, 404, 403, 403, 403, 201]),
    ("POST", "/api/meetings/{id}/agenda/adopt", [401, 404, 403, 403, 403, 200]),
    ("POST", "/api/meetings/{id}/agenda/order", [401, 404, 403, 403, 403, 200]),
    ("POST", "/api/meetings/{id}/open", [401, 404, 403, 403, 403, 200]),
    ("POST", "/api/meetings/{id}/current-item", [401, 404, 403, 403, 403, 200]),
    ("PATCH", "/api/agenda-items/{id}", [401, 404, 403, 403, 403, 200]),
    ("DELETE", "/api/agenda-items/{id}", [401, 404, 403, 403, 403, 204]),
    ("POST", "/api/agenda-items/{id}/documents", [401, 404, 403, 403, 403, 201]),
    ("GET", "/api/documents/{id}", [401, 404, 200, 200, 200, 200]),
    ("DELETE", "/api/documents/{id}", [401, 404, 403, 403, 403, 204]),
    ("PUT", "/api/agenda-items/{id}/drafts/{draft_id}", [401, 404, 403, 403, 403, 204]),
    ("DELETE", "/api/agenda-items/{id}/drafts/{draft_id}", [401, 404, 403, 403, 403, 204]),
    ("GET", "/api/meetings/{id}/calendar.ics", [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/bodies/{id}/calendar.ics", [401, 403, 200, 200, 200, 200]),
    // A plain GET is not a websocket upgrade (400) once authorised.
    ("GET", "/api/meetings/{id}/live", [401, 404, 400, 400, 400, 400]),
    ("GET", "/api/meetings/{id}/report.md", [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/meetings/{id}/report.html", [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/meetings/{id}/report.pdf", [401, 404, 200, 200, 200, 200]),
    ("POST", "/api/meetings/{id}/report", [401, 404, 403, 403, 403, 201]),
    ("POST", "/api/meetings/{id}/close", [401, 404, 403, 403, 403, 200]),
    ("POST", "/api/meetings/{id}/cancel", [401, 404, 403, 403, 403, 409]),
    // Decisions: the demo draft belongs to the plenary, which nobody chairs in 2026, and the
    // secretariat decides nothing: every step is refused. Objecting is a participant's, and
    // there is nothing to object to yet (409).
    ("POST", "/api/drafts/{id}/final-reading", [401, 403, 403, 403, 403, 403]),
    ("POST", "/api/drafts/{id}/reopen", [401, 403, 403, 403, 403, 403]),
    ("POST", "/api/drafts/{id}/call-for-objections", [401, 403, 403, 403, 403, 403]),
    ("POST", "/api/drafts/{id}/objections", [401, 403, 403, 409, 409, 403]),
    ("GET", "/api/drafts/{id}/objections", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/drafts/{id}/adopt", [401, 403, 403, 403, 403, 403]),
    ("POST", "/api/drafts/{id}/written-procedure", [401, 403, 403, 403, 403, 403]),
    ("POST", "/api/drafts/{id}/withdraw", [401, 403, 403, 403, 403, 403]),
    ("POST", "/api/drafts/{id}/relations", [401, 403, 403, 403, 403, 403]),
    ("POST", "/api/drafts/{id}/versions", [401, 403, 403, 201, 201, 201]),
    ("GET", "/api/drafts/{id}/versions", [401, 403, 200, 200, 200, 200]),
    ("GET", "/api/drafts/{id}/versions/{n}", [401, 403, 200, 200, 200, 200]),
    ("GET", "/api/drafts/{id}/diff", [401, 403, 200, 200, 200, 200]),
    ("GET", "/api/drafts/{id}/authorship", [401, 403, 200, 200, 200, 200]),
    ("GET", "/api/decisions", [401, 403, 200, 200, 200, 200]),
    // No decision is adopted in the demo yet.
    ("GET", "/api/decisions/{id}", [401, 403, 404, 404, 404, 404]),
    ("GET", "/api/decisions/{id}.md", [401, 403, 404, 404, 404, 404]),
    ("GET", "/api/decisions/{id}.html", [401, 403, 404, 404, 404, 404]),
    ("GET", "/api/decisions/{id}.pdf", [401, 403, 404, 404, 404, 404]),
    // Recommendations: the demo's GAB-2006/01 (to every participant of 2006, Botswana among
    // them), one the fixture issues to the WGM (a body nobody chairs: only the secretariat
    // records for it), evidence Botswana attached, and the demo's review visit to Ghana.
    ("GET", "/api/vocabularies", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/vocabularies", [401, 403, 403, 403, 403, 201]),
    ("GET", "/api/recommendations", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/recommendations", [401, 403, 403, 403, 403, 201]),
    ("GET", "/api/recommendations/{id}", [401, 403, 200, 200, 200, 200]),
    ("PATCH", "/api/recommendations/{id}", [401, 403, 403, 403, 403, 200]),
    ("GET", "/api/recommendations/{id}/implementations", [401, 403, 200, 200, 200, 200]),
    // Botswana's own record: India may not write it, observers never write.
    ("POST", "/api/recommendations/{id}/implementations/{organisation_id}", [401, 403, 403, 403, 201, 201]),
    ("POST", "/api/recommendations/{id}/implementations/bodies/{body_id}", [401, 403, 403, 403, 403, 201]),
    ("POST", "/api/evidence", [401, 403, 403, 201, 201, 201]),
    // Attached to a recommendation everyone but guests reads (for a guest it does not exist).
    ("GET", "/api/evidence/{id}", [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/review-visits", [401, 403, 200, 200, 200, 200]),
    ("POST", "/api/review-visits", [401, 403, 403, 403, 403, 201]),
    ("GET", "/api/review-visits/{id}", [401, 403, 200, 200, 200, 200]),
    ("PATCH", "/api/review-visits/{id}", [401, 403, 403, 403, 403, 200]),
    // Stocktaking and exports (of the WGM): everyone but guests; observers without the
    // restricted recommendations (tests/stocktaking.rs).
    ("GET", "/api/stocktaking", [401, 403, 200, 200, 200, 200]),
    ("GET", "/api/stocktaking.csv", [401, 403, 200, 200, 200, 200]),
    ("GET", "/api/recommendations/export.csv", [401, 403, 200, 200, 200, 200]),
];

struct Fixture {
    draft: i64,
    /// The Working Group on Monitoring (Botswana is a member) and the WGDE's term of the WDC.
    body: i64,
    term: i64,
    /// The demo's Brussels Plenary 2007, its first item, an item to delete, a document, a guest.
    meeting: i64,
    item: i64,
    spare_item: i64,
    document: i64,
    guest_org: i64,
    participant_user: i64,
    participant_org: i64,
    guest_email: String,
    /// GAB-2006/01, a recommendation to the WGM, an attached upload, the visit to Ghana.
    recommendation: i64,
    body_recommendation: i64,
    evidence: i64,
    visit: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    // A guest: an applicant invited to one meeting.
    let res = admin
        .post("/api/organisations", &json!({"kind": "guest", "name": "Applicant State", "short_code": "APP"}))
        .await;
    assert_eq!(res.status(), 201);
    let guest_org = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let res = admin
        .post(
            "/api/invitations",
            &json!({"email": "guest@applicant.example", "name": "Gil Guest", "organisation_id": guest_org}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let token = eventually("the invitation mail", std::time::Duration::from_secs(10), || async {
        app.state
            .mailer
            .sent()
            .first()
            .map(|mail| token_from_link(&mail.text, "/invitation?token="))
            .ok_or("no mail yet")
    })
    .await;
    let res = app.post_json("/api/invitations/accept", &json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(res.status(), 200);
    let participant = app.login(BOTSWANA, PASSWORD).await;
    let draft = admin.json("/api/drafts").await["items"][0]["id"].as_i64().expect("the demo draft");
    let bodies = admin.json("/api/bodies").await;
    let body_id = |short: &str| {
        bodies.as_array().and_then(|b| b.iter().find(|b| b["short_name"] == short)).and_then(|b| b["id"].as_i64())
    };
    let body = body_id("WGM").expect("WGM");
    let wgde = body_id("WGDE").expect("WGDE");
    let term = admin.json(&format!("/api/bodies/{wgde}/terms")).await[0]["id"].as_i64().expect("the WGDE's term");
    let meetings = admin.json("/api/meetings").await;
    let meeting = meetings
        .as_array()
        .and_then(|m| m.iter().find(|m| m["title"] == "Brussels Plenary 2007"))
        .and_then(|m| m["id"].as_i64())
        .expect("the demo plenary");
    let item = admin.json(&format!("/api/meetings/{meeting}/agenda")).await["items"][0]["id"].as_i64().expect("item");
    let res = admin.post(&format!("/api/meetings/{meeting}/agenda"), &json!({"title": "To be deleted"})).await;
    let spare_item = res.json::<Value>().await.expect("json")["id"].as_i64().expect("spare item");
    let res = admin
        .request(Method::POST, &format!("/api/agenda-items/{item}/documents?filename=notes.txt"))
        .header("content-type", "text/plain")
        .body("Notes")
        .send()
        .await
        .expect("sent");
    let document = res.json::<Value>().await.expect("json")["id"].as_i64().expect("document");
    let recommendation = admin.json("/api/recommendations?q=GAB-2006/01").await["items"][0]["id"]
        .as_i64()
        .expect("the demo's GAB-2006/01");
    let plenary = body_id("KP").expect("KP");
    let res = admin
        .post(
            "/api/recommendations",
            &json!({"code": "M-WGM", "title": "For the WGM", "body_id": plenary, "issued_on": "2026-01-15",
                "source": {"kind": "report", "body_id": plenary, "title": "Chair's report"},
                "addressed_to": "body", "addressee_body_id": body}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body_recommendation = res.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let res = participant
        .request(Method::POST, "/api/evidence?filename=evidence.txt")
        .header("content-type", "text/plain")
        .body("Evidence")
        .send()
        .await
        .expect("sent");
    let evidence = res.json::<Value>().await.expect("json")["id"].as_i64().expect("evidence");
    let org = participant.user["organisation"]["id"].as_i64().expect("org");
    let res = participant
        .post(
            &format!("/api/recommendations/{recommendation}/implementations/{org}"),
            &json!({"status": "in_progress", "upload_ids": [evidence]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let visit = admin
        .json("/api/review-visits")
        .await
        .as_array()
        .and_then(|v| v.first().and_then(|v| v["id"].as_i64()))
        .expect("a visit");
    Fixture {
        draft,
        body,
        term,
        meeting,
        item,
        spare_item,
        document,
        guest_org,
        participant_user: participant.user_id(),
        participant_org: participant.user["organisation"]["id"].as_i64().expect("org"),
        guest_email: "guest@applicant.example".into(),
        recommendation,
        body_recommendation,
        evidence,
        visit,
    }
}

fn email_of(who: Who, f: &Fixture) -> Option<String> {
    match who {
        Who::Anonymous => None,
        Who::Guest => Some(f.guest_email.clone()),
        Who::Observer => Some(OBSERVER.into()),
        Who::OtherParticipant => Some(INDIA.into()),
        Who::Participant => Some(BOTSWANA.into()),
        Who::Admin => Some(ADMIN.into()),
    }
}

/// The concrete path and body used to call an operation.
fn request_for(method: &str, path: &str, f: &Fixture, session: Option<&Session>, n: usize) -> (String, Option<Value>) {
    let session_id = session.map(|s| s.user["session_id"].as_i64().unwrap_or(0)).unwrap_or(0);
    match (method, path) {
        ("POST", "/api/auth/login") => (path.into(), Some(json!({"email": INDIA, "password": PASSWORD}))),
        ("POST", "/api/auth/password-reset") => (path.into(), Some(json!({"email": INDIA}))),
        ("POST", "/api/auth/password-reset/confirm" | "/api/invitations/accept") => {
            (path.into(), Some(json!({"token": "not-a-real-token", "password": "a long enough password"})))
        }
        ("POST", "/api/invitations") => (
            path.into(),
            Some(
                json!({"email": format!("invitee{n}@bw.example.org"), "name": "New Delegate", "organisation_id": f.participant_org}),
            ),
        ),
        ("DELETE", "/api/me/sessions/{id}") => (format!("/api/me/sessions/{session_id}"), None),
        ("POST", "/api/organisations") => (
            path.into(),
            Some(json!({"kind": "participant", "name": format!("State {n}"), "short_code": format!("S{n}")})),
        ),
        ("GET", "/api/organisations/{id}") => (format!("/api/organisations/{}", f.participant_org), None),
        ("PATCH", "/api/organisations/{id}") => {
            (format!("/api/organisations/{}", f.participant_org), Some(json!({"countries": []})))
        }
        ("POST", "/api/drafts") => (path.into(), Some(json!({"title": format!("Draft {n}")}))),
        ("GET", "/api/drafts/{id}" | "/api/drafts/{id}/ws") => (path.replace("{id}", &f.draft.to_string()), None),
        ("PATCH", "/api/drafts/{id}") => (format!("/api/drafts/{}", f.draft), Some(json!({"state": "drafting"}))),
        ("GET", "/api/users/{id}") => (format!("/api/users/{}", f.participant_user), None),
        ("POST", "/api/bodies") => (
            path.into(),
            Some(json!({"name": format!("Ad hoc group {n}"), "short_name": format!("AH{n}"), "kind": "ad_hoc",
                "parent_id": f.body, "ends_on": "2030-12-31"})),
        ),
        (
            "GET",
            "/api/bodies/{id}" | "/api/bodies/{id}/terms" | "/api/bodies/{id}/chair" | "/api/bodies/{id}/acting-chair",
        ) => (path.replace("{id}", &f.body.to_string()), None),
        ("DELETE", "/api/bodies/{id}/acting-chair") => (path.replace("{id}", &f.body.to_string()), None),
        ("POST", "/api/bodies/{id}/acting-chair") => {
            (path.replace("{id}", &f.body.to_string()), Some(json!({"reason": "The chair is away."})))
        }
        ("PATCH", "/api/bodies/{id}") => {
            (format!("/api/bodies/{}", f.body), Some(json!({"mandate": format!("Mandate {n}")})))
        }
        ("PUT" | "DELETE", "/api/bodies/{id}/members/{organisation_id}") => (
            format!("/api/bodies/{}/members/{}", f.body, f.participant_org),
            (method == "PUT").then(|| json!({"provisional": false})),
        ),
        ("POST", "/api/bodies/{id}/terms") => (
            format!("/api/bodies/{}/terms", f.body),
            Some(
                json!({"office": "chair", "organisation_id": f.participant_org, "starts_on": format!("{}-01-01", 2100 + n)}),
            ),
        ),
        ("PATCH", "/api/terms/{id}") => {
            (format!("/api/terms/{}", f.term), Some(json!({"reason": "Corrected dates", "note": format!("Note {n}")})))
        }
        ("PATCH", "/api/users/{id}") => {
            (format!("/api/users/{}", f.participant_user), Some(json!({"display_name": "Kabo Molefe"})))
        }
        ("POST", "/api/meetings") => (
            path.into(),
            Some(
                json!({"body_id": f.body, "kind": "working_group", "title": format!("Meeting {n}"), "time_zone": "UTC",
                "starts_at": "2027-03-01T09:00:00Z", "ends_at": "2027-03-01T17:00:00Z"}),
            ),
        ),
        ("PATCH", "/api/meetings/{id}") => {
            (format!("/api/meetings/{}", f.meeting), Some(json!({"title": "Brussels Plenary 2007"})))
        }
        ("PUT" | "DELETE", "/api/meetings/{id}/guests/{organisation_id}") => {
            (format!("/api/meetings/{}/guests/{}", f.meeting, f.guest_org), None)
        }
        ("PUT" | "DELETE", "/api/meetings/{id}/attendance/{user_id}") => {
            (format!("/api/meetings/{}/attendance/{}", f.meeting, f.participant_user), None)
        }
        ("POST", "/api/meetings/{id}/agenda") => {
            (format!("/api/meetings/{}/agenda", f.meeting), Some(json!({"title": format!("Item {n}")})))
        }
        ("POST", "/api/meetings/{id}/agenda/order") => (
            format!("/api/meetings/{}/agenda/order", f.meeting),
            Some(json!({"item_id": f.item, "parent_id": null, "position": 0})),
        ),
        ("POST", "/api/meetings/{id}/current-item") => {
            (format!("/api/meetings/{}/current-item", f.meeting), Some(json!({"item_id": f.item})))
        }
        ("POST", p) if p.starts_with("/api/meetings/{id}/") => {
            (p.replace("{id}", &f.meeting.to_string()), Some(json!({})))
        }
        ("GET", p) if p.starts_with("/api/meetings/{id}") => (p.replace("{id}", &f.meeting.to_string()), None),
        ("PATCH", "/api/agenda-items/{id}") => {
            (format!("/api/agenda-items/{}", f.item), Some(json!({"description": format!("Note {n}")})))
        }
        ("DELETE", "/api/agenda-items/{id}") => (format!("/api/agenda-items/{}", f.spare_item), None),
        ("PUT" | "DELETE", "/api/agenda-items/{id}/drafts/{draft_id}") => {
            (format!("/api/agenda-items/{}/drafts/{}", f.item, f.draft), None)
        }
        ("POST", "/api/agenda-items/{id}/documents") => (format!("/api/agenda-items/{}/documents", f.item), None),
        ("GET" | "DELETE", "/api/documents/{id}") => (format!("/api/documents/{}", f.document), None),
        ("POST", "/api/drafts/{id}/call-for-objections") => {
            (format!("/api/drafts/{}/call-for-objections", f.draft), Some(json!({"minutes": 10})))
        }
        ("POST", "/api/drafts/{id}/objections") => {
            (format!("/api/drafts/{}/objections", f.draft), Some(json!({"reason": "Not yet."})))
        }
        ("POST", "/api/drafts/{id}/written-procedure") => {
            (format!("/api/drafts/{}/written-procedure", f.draft), Some(json!({"deadline": "2099-01-01T00:00:00Z"})))
        }
        ("POST", "/api/drafts/{id}/relations") => {
            (format!("/api/drafts/{}/relations", f.draft), Some(json!({"kind": "amends", "decision_id": 1})))
        }
        ("POST", "/api/drafts/{id}/versions") => {
            (format!("/api/drafts/{}/versions", f.draft), Some(json!({"label": format!("Version {n}")})))
        }
        ("POST", p) if p.starts_with("/api/drafts/{id}/") => (p.replace("{id}", &f.draft.to_string()), Some(json!({}))),
        ("GET", "/api/drafts/{id}/versions/{n}") => (format!("/api/drafts/{}/versions/1", f.draft), None),
        ("GET", "/api/drafts/{id}/diff") => (format!("/api/drafts/{}/diff?from=1", f.draft), None),
        ("GET", p) if p.starts_with("/api/drafts/{id}/") => (p.replace("{id}", &f.draft.to_string()), None),
        ("GET", p) if p.starts_with("/api/decisions/{id}") => (p.replace("{id}", "999999"), None),
        ("GET", "/api/bodies/{id}/calendar.ics") => (format!("/api/bodies/{}/calendar.ics", f.body), None),
        ("POST", "/api/vocabularies") => (
            path.into(),
            Some(json!({"key": format!("v{n}"), "name": format!("Vocabulary {n}"),
                "statuses": [{"key": "open", "label": "Open", "weight": 0, "final": false},
                    {"key": "closed", "label": "Closed", "weight": 100, "final": true}]})),
        ),
        ("POST", "/api/recommendations") => (
            path.into(),
            Some(json!({"code": format!("M-{n}"), "title": "Matrix", "body_id": f.body, "issued_on": "2026-01-15",
                "source": {"kind": "report", "body_id": f.body, "title": "WGM report"},
                "addressed_to": "participants", "organisation_ids": [f.participant_org]})),
        ),
        ("GET", "/api/recommendations/{id}" | "/api/recommendations/{id}/implementations") => {
            (path.replace("{id}", &f.recommendation.to_string()), None)
        }
        ("PATCH", "/api/recommendations/{id}") => {
            (format!("/api/recommendations/{}", f.recommendation), Some(json!({"priority": "high"})))
        }
        ("POST", "/api/recommendations/{id}/implementations/{organisation_id}") => (
            format!("/api/recommendations/{}/implementations/{}", f.recommendation, f.participant_org),
            Some(json!({"status": "in_progress", "note": format!("Step {n}")})),
        ),
        ("POST", "/api/recommendations/{id}/implementations/bodies/{body_id}") => (
            format!("/api/recommendations/{}/implementations/bodies/{}", f.body_recommendation, f.body),
            Some(json!({"status": "in_progress"})),
        ),
        ("GET", "/api/evidence/{id}") => (format!("/api/evidence/{}", f.evidence), None),
        ("POST", "/api/review-visits") => {
            (path.into(), Some(json!({"participant_id": f.participant_org, "body_id": f.body, "origin": "requested"})))
        }
        ("GET", "/api/review-visits/{id}") => (format!("/api/review-visits/{}", f.visit), None),
        ("PATCH", "/api/review-visits/{id}") => {
            (format!("/api/review-visits/{}", f.visit), Some(json!({"notes": format!("Note {n}")})))
        }
        ("GET", "/api/stocktaking" | "/api/stocktaking.csv") => (format!("{path}?body_id={}", f.body), None),
        (_, p) if p.contains('{') => panic!("no request for {method} {path}: add it to request_for"),
        _ => (path.into(), None),
    }
}

async fn every_operation_by_every_actor(app: TestApp) {
    let f = fixture(&app).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.expect("openapi");
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    for (method, path) in &operations {
        assert!(
            MATRIX.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} is in the OpenAPI document but has no row in the authorization matrix"
        );
    }
    assert_eq!(operations.len(), MATRIX.len(), "the matrix has rows for operations the API does not document");

    let mut failures = Vec::new();
    let mut n = 0;
    for (method, path, expected) in MATRIX {
        for (who, want) in ACTORS.iter().zip(expected) {
            n += 1;
            // A fresh session per call: some operations end the session they are called with.
            let session = match email_of(*who, &f) {
                Some(email) => {
                    let s = app.login(&email, PASSWORD).await;
                    let current = s.json("/api/me/sessions").await["items"]
                        .as_array()
                        .and_then(|items| items.iter().find(|i| i["current"] == true).and_then(|i| i["id"].as_i64()));
                    let mut s = s;
                    s.user["session_id"] = json!(current);
                    Some(s)
                }
                None => None,
            };
            let (url, body) = request_for(method, path, &f, session.as_ref(), n);
            let m = Method::from_bytes(method.as_bytes()).expect("method");
            let mut req = match &session {
                Some(s) => s.request(m, &url),
                None => reqwest::Client::new().request(m, app.url(&url)),
            };
            if path == &"/api/evidence" {
                let url = format!("/api/evidence?filename=evidence-{n}.txt");
                req = match &session {
                    Some(s) => s.request(Method::POST, &url).header("content-type", "text/plain").body("Evidence"),
                    None => reqwest::Client::new().request(Method::POST, app.url(&url)),
                };
            } else if path == &"/api/agenda-items/{id}/documents" {
                let url = format!("/api/agenda-items/{}/documents?filename=minutes-{n}.pdf", f.item);
                req = match &session {
                    Some(s) => {
                        s.request(Method::POST, &url).header("content-type", "application/pdf").body("%PDF-1.7 minutes")
                    }
                    None => reqwest::Client::new().request(Method::POST, app.url(&url)),
                };
            } else if let Some(body) = body {
                req = req.json(&body);
            }
            let status = req.send().await.expect("sent").status().as_u16();
            if status != *want {
                failures.push(format!("{method} {path} as {who:?}: expected {want}, got {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix mismatches:\n{}", failures.join("\n"));
}

on_both_backends!(every_operation_by_every_actor);
