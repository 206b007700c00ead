//! Accounts end to end: sign-in, sessions, throttling, CSRF, organisations and users, invitations
//! and resets (in-memory mail here; real SMTP in tests/mail.rs), the audit log, and bad input.

mod common;

use common::*;
use serde_json::json;

async fn sign_in_me_and_sign_out(app: TestApp) {
    app.seed_demo().await;
    // Cookie flow, as the browser does it.
    let res =
        app.post_json("/api/auth/login", &json!({"email": "Kabo.Molefe@BW.kp.example", "password": PASSWORD})).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["user"]["organisation"]["short_code"], "BW");
    assert_eq!(body["token"].as_str().map(str::len), Some(43));
    let me: serde_json::Value = app.get("/api/me").await.json().await.expect("json");
    assert_eq!(me["email"], BOTSWANA);
    // Logout with the cookie needs the page's Origin (CSRF check).
    let res = app.client.post(app.url("/api/auth/logout")).header("origin", &app.base).send().await.expect("sent");
    assert_eq!(res.status(), 204);
    problem(app.get("/api/me").await, 401).await;

    // Bearer flow, as scripts do it.
    let s = app.login(BOTSWANA, PASSWORD).await;
    assert_eq!(s.json("/api/me").await["display_name"], "Kabo Molefe");
    let res = reqwest::Client::new().get(app.url("/api/me")).bearer_auth("not-a-token").send().await.expect("sent");
    problem(res, 401).await;
}

async fn wrong_credentials_and_bad_input(app: TestApp) {
    app.seed_demo().await;
    let before = app.audit_count().await;
    let body = problem(
        app.post_json("/api/auth/login", &json!({"email": BOTSWANA, "password": "wrong password!"})).await,
        401,
    )
    .await;
    assert_eq!(body["detail"], "wrong email or password");
    problem(
        app.post_json("/api/auth/login", &json!({"email": "nobody@example.org", "password": "wrong password!"})).await,
        401,
    )
    .await;
    let body =
        problem(app.post_json("/api/auth/login", &json!({"email": "not-an-email", "password": "x"})).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "email");
    let body =
        problem(app.post_json("/api/auth/login", &json!({"email": BOTSWANA, "password": "x".repeat(1025)})).await, 422)
            .await;
    assert_eq!(body["errors"][0]["field"], "password");
    let body = problem(
        app.post_json("/api/auth/login", &json!({"email": BOTSWANA, "password": PASSWORD, "admin": true})).await,
        422,
    )
    .await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("unknown field"), "{body}");
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("sent");
    let body = problem(res, 400).await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("line 1"), "{body}");
    let huge = json!({"email": BOTSWANA, "password": "p".repeat(100 * 1024)});
    problem(app.post_json("/api/auth/login", &huge).await, 413).await;
    let res = app.client.post(app.url("/api/auth/login")).body("email=x").send().await.expect("sent");
    problem(res, 415).await;
    assert_eq!(app.audit_count().await, before, "rejected requests write no audit row");
}

async fn throttling_blocks_then_forgets(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.accounts.login_max_failures = 3;
        c.accounts.login_window_secs = 900;
    })
    .await;
    app.seed_demo().await;
    for _ in 0..3 {
        problem(app.post_json("/api/auth/login", &json!({"email": INDIA, "password": "wrong password!"})).await, 401)
            .await;
    }
    let res = app.post_json("/api/auth/login", &json!({"email": INDIA, "password": PASSWORD})).await;
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((899..=900).contains(&retry), "{retry}");
    problem(res, 429).await;
    // Other accounts are not affected.
    app.login(BOTSWANA, PASSWORD).await;
    // The owner is never kept out longer than the window (the clock is moved, not waited for).
    app.clock.advance(chrono::Duration::seconds(899));
    problem(app.post_json("/api/auth/login", &json!({"email": INDIA, "password": PASSWORD})).await, 429).await;
    app.clock.advance(chrono::Duration::seconds(2));
    app.login(INDIA, PASSWORD).await;
}

#[actix_web::test]
async fn throttling_blocks_then_forgets_sqlite() {
    throttling_blocks_then_forgets(Backend::Sqlite).await;
}

#[actix_web::test]
async fn throttling_blocks_then_forgets_postgres() {
    throttling_blocks_then_forgets(Backend::Postgres).await;
}

async fn csrf_is_checked_for_cookie_sessions(app: TestApp) {
    app.seed_demo().await;
    let res = app.post_json("/api/auth/login", &json!({"email": ADMIN, "password": PASSWORD})).await;
    assert_eq!(res.status(), 200);
    let new_org = json!({"kind": "participant", "name": "Lebanon", "short_code": "LB"});
    let res = app.client.post(app.url("/api/organisations")).json(&new_org).send().await.expect("sent");
    let body = problem(res, 403).await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("cross-site"), "{body}");
    let res = app
        .client
        .post(app.url("/api/organisations"))
        .header("origin", "https://evil.example")
        .json(&new_org)
        .send()
        .await
        .expect("sent");
    problem(res, 403).await;
    let res = app
        .client
        .post(app.url("/api/organisations"))
        .header("origin", &app.base)
        .json(&new_org)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 201);
    // Safe methods need no Origin.
    assert_eq!(app.get("/api/organisations").await.status(), 200);
}

async fn sessions_are_listed_and_revoked(app: TestApp) {
    app.seed_demo().await;
    let a = app.login(INDIA, PASSWORD).await;
    let b = app.login(INDIA, PASSWORD).await;
    let list = a.json("/api/me/sessions").await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let other = items.iter().find(|s| s["current"] == false).and_then(|s| s["id"].as_i64()).expect("other session");
    assert_eq!(a.delete(&format!("/api/me/sessions/{other}")).await.status(), 204);
    problem(b.get("/api/me").await, 401).await;
    problem(a.delete(&format!("/api/me/sessions/{other}")).await, 404).await;
    // Nobody revokes another person's session.
    let c = app.login(BOTSWANA, PASSWORD).await;
    let mine = a.json("/api/me/sessions").await["items"][0]["id"].as_i64().expect("id");
    problem(c.delete(&format!("/api/me/sessions/{mine}")).await, 404).await;
    assert_eq!(a.delete("/api/me/sessions").await.status(), 204);
    problem(a.get("/api/me").await, 401).await;
    assert_eq!(c.get("/api/me").await.status(), 200);
}

async fn organisations_are_managed_by_the_secretariat(app: TestApp) {
    app.seed_demo().await;
    // The organisation is dated by the server's clock, not the machine's.
    app.clock.advance(chrono::Duration::days(3650));
    let admin = app.login(ADMIN, PASSWORD).await;
    let res = admin
        .post(
            "/api/organisations",
            &json!({"kind": "participant", "name": "Cameroon", "short_code": "cm", "admitted_on": "2012-08-01"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let org: serde_json::Value = res.json().await.expect("json");
    assert_eq!(org["short_code"], "CM");
    assert_eq!(org["status"], "active");
    let created: chrono::DateTime<chrono::Utc> =
        org["created_at"].as_str().expect("created_at").parse().expect("a timestamp");
    assert!((created - (chrono::Utc::now() + chrono::Duration::days(3650))).num_minutes().abs() < 60, "{created}");
    let id = org["id"].as_i64().expect("id");
    problem(
        admin
            .post("/api/organisations", &json!({"kind": "participant", "name": "Cameroon", "short_code": "CMR"}))
            .await,
        409,
    )
    .await;
    problem(
        admin.post("/api/organisations", &json!({"kind": "participant", "name": "Other", "short_code": "CM"})).await,
        409,
    )
    .await;
    let body = problem(
        admin.post("/api/organisations", &json!({"kind": "emperor", "name": "X", "short_code": "XX"})).await,
        422,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap_or_default().contains("kind")
            || body["detail"].as_str().unwrap_or_default().contains("variant"),
        "{body}"
    );
    let body = problem(
        admin.post("/api/organisations", &json!({"kind": "observer", "name": " ", "short_code": "!"})).await,
        422,
    )
    .await;
    let fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["name", "short_code"]);

    let ec = app.organisation_id(&admin, "EC").await;
    let eu = admin.json(&format!("/api/organisations/{ec}")).await;
    assert_eq!(eu["countries"].as_array().map(Vec::len), Some(27));
    let liberia = admin.json(&format!("/api/organisations/{}", app.organisation_id(&admin, "LR").await)).await;
    assert_eq!(liberia["admitted_on"], "2007-05-04");

    let res = admin
        .patch(&format!("/api/organisations/{id}"), &json!({"admitted_on": null, "countries": ["Cameroon"]}))
        .await;
    assert_eq!(res.status(), 200);
    let changed: serde_json::Value = res.json().await.expect("json");
    assert_eq!(changed["admitted_on"], serde_json::Value::Null);
    problem(admin.patch("/api/organisations/999999", &json!({"name": "Nowhere"})).await, 404).await;
    problem(admin.get("/api/organisations/not-a-number").await, 422).await;

    // Paging.
    let first = admin.json("/api/organisations?limit=5").await;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(5));
    let cursor = first["next_cursor"].as_str().expect("cursor").to_string();
    let second = admin.json(&format!("/api/organisations?limit=5&cursor={cursor}")).await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    problem(admin.get("/api/organisations?limit=1000").await, 422).await;

    // The audit log has the before and after.
    let audit = admin.json("/api/audit?limit=10").await;
    let entry = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "organisation.update")
        .expect("update entry")
        .clone();
    let changes = &entry["changes"];
    assert_eq!(changes["admitted_on"]["before"], "2012-08-01");
    assert_eq!(changes["admitted_on"]["after"], serde_json::Value::Null);
    assert_eq!(entry["actor_user_id"], admin.user["id"]);
    assert!(entry["request_id"].is_string());
}

async fn suspension_makes_delegates_read_only(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let delegate = app.login(BOTSWANA, PASSWORD).await;
    let bw = app.organisation_id(&admin, "BW").await;
    let res = admin.patch(&format!("/api/organisations/{bw}"), &json!({"status": "suspended"})).await;
    assert_eq!(res.status(), 200);
    problem(delegate.get("/api/me").await, 401).await;
    // They may sign in again and read, but not write.
    let delegate = app.login(BOTSWANA, PASSWORD).await;
    assert_eq!(delegate.get("/api/organisations").await.status(), 200);
    let body = problem(
        delegate.patch(&format!("/api/users/{}", delegate.user_id()), &json!({"display_name": "K. Molefe"})).await,
        403,
    )
    .await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("suspended"), "{body}");
    // Côte d'Ivoire is suspended in the demo.
    let ci = app.login(SUSPENDED, PASSWORD).await;
    assert_eq!(ci.user["organisation"]["status"], "suspended");
}

async fn users_are_managed(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let india = app.login(INDIA, PASSWORD).await;
    let me = india.user_id();
    let res = india.patch(&format!("/api/users/{me}"), &json!({"display_name": "Dr Priya Raman"})).await;
    assert_eq!(res.status(), 200);
    problem(india.patch(&format!("/api/users/{me}"), &json!({"is_admin": true})).await, 403).await;
    problem(india.patch(&format!("/api/users/{}", admin.user_id()), &json!({"display_name": "x"})).await, 403).await;
    problem(admin.patch(&format!("/api/users/{me}"), &json!({"is_admin": true})).await, 422).await;
    problem(admin.patch(&format!("/api/users/{}", admin.user_id()), &json!({"disabled": true})).await, 422).await;
    // Disabling ends the sessions and blocks sign-in.
    assert_eq!(admin.patch(&format!("/api/users/{me}"), &json!({"disabled": true})).await.status(), 200);
    problem(india.get("/api/me").await, 401).await;
    problem(app.post_json("/api/auth/login", &json!({"email": INDIA, "password": PASSWORD})).await, 403).await;
    let bw = app.organisation_id(&admin, "BW").await;
    let list = admin.json(&format!("/api/users?organisation_id={bw}")).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

async fn invitation_and_reset_flows(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let gh = app.organisation_id(&admin, "GH").await;
    let res = admin
        .post(
            "/api/invitations",
            &json!({"email": "Ama.Owusu@gh.example.org", "name": "Ama Owusu", "organisation_id": gh}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let inv: serde_json::Value = res.json().await.expect("json");
    assert_eq!(inv["user"]["pending"], true);
    problem(
        admin
            .post(
                "/api/invitations",
                &json!({"email": "ama.owusu@GH.example.org", "name": "Again", "organisation_id": gh}),
            )
            .await,
        409,
    )
    .await;
    let body = problem(
        admin.post("/api/invitations", &json!({"email": "x@y.org", "name": "X", "organisation_id": 99999})).await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "organisation_id");
    // A pending account cannot sign in.
    problem(
        app.post_json("/api/auth/login", &json!({"email": "ama.owusu@gh.example.org", "password": "anything at all"}))
            .await,
        401,
    )
    .await;

    let mail = wait_for_memory_mail(&app, 1).await;
    assert_eq!(mail[0].to, "Ama.Owusu@gh.example.org");
    assert!(mail[0].subject.contains("Ghana"), "{}", mail[0].subject);
    let token = token_from_link(&mail[0].text, "/invitation?token=");
    let short =
        problem(app.post_json("/api/invitations/accept", &json!({"token": token, "password": "short"})).await, 422)
            .await;
    assert_eq!(short["errors"][0]["field"], "password");
    problem(
        app.post_json("/api/invitations/accept", &json!({"token": "bogus", "password": "a good long password"})).await,
        400,
    )
    .await;
    let res =
        app.post_json("/api/invitations/accept", &json!({"token": token, "password": "a good long password"})).await;
    assert_eq!(res.status(), 200);
    let signed: serde_json::Value = res.json().await.expect("json");
    assert_eq!(signed["user"]["pending"], false);
    problem(
        app.post_json("/api/invitations/accept", &json!({"token": token, "password": "a good long password"})).await,
        410,
    )
    .await;
    let ama = app.login("ama.owusu@gh.example.org", "a good long password").await;

    // Reset: 202 whether or not the account exists; only a real account gets mail.
    assert_eq!(app.post_json("/api/auth/password-reset", &json!({"email": "nobody@nowhere.org"})).await.status(), 202);
    assert_eq!(
        app.post_json("/api/auth/password-reset", &json!({"email": "AMA.owusu@gh.example.org"})).await.status(),
        202
    );
    let mail = wait_for_memory_mail(&app, 2).await;
    assert_eq!(mail.len(), 2);
    let token = token_from_link(&mail[1].text, "/reset-password?token=");
    let res = app
        .post_json("/api/auth/password-reset/confirm", &json!({"token": token, "password": "another long password"}))
        .await;
    assert_eq!(res.status(), 200);
    problem(ama.get("/api/me").await, 401).await;
    problem(
        app.post_json(
            "/api/auth/login",
            &json!({"email": "ama.owusu@gh.example.org", "password": "a good long password"}),
        )
        .await,
        401,
    )
    .await;
    app.login("ama.owusu@gh.example.org", "another long password").await;

    // An expired link answers 410.
    assert_eq!(app.post_json("/api/auth/password-reset", &json!({"email": INDIA})).await.status(), 202);
    let mail = wait_for_memory_mail(&app, 3).await;
    let token = token_from_link(&mail[2].text, "/reset-password?token=");
    expire_all_tokens(&app).await;
    let body = problem(
        app.post_json(
            "/api/auth/password-reset/confirm",
            &json!({"token": token, "password": "another long password"}),
        )
        .await,
        410,
    )
    .await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("expired"), "{body}");
    app.login(INDIA, PASSWORD).await;
}

async fn wait_for_memory_mail(app: &TestApp, n: usize) -> Vec<plenum::mail::SentMail> {
    for _ in 0..100 {
        let sent = app.state.mailer.sent();
        if sent.len() >= n {
            return sent;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected {n} mail(s), got {}", app.state.mailer.sent().len());
}

async fn expire_all_tokens(app: &TestApp) {
    use diesel::prelude::*;
    use plenum::db::schema::account_tokens;
    app.state
        .db
        .write(|c| {
            diesel::update(account_tokens::table)
                .set(account_tokens::expires_at.eq(plenum::db::now() - chrono::Duration::minutes(1)))
                .execute(c)?;
            Ok(())
        })
        .await
        .expect("expire");
}

on_both_backends!(
    sign_in_me_and_sign_out,
    wrong_credentials_and_bad_input,
    csrf_is_checked_for_cookie_sessions,
    sessions_are_listed_and_revoked,
    organisations_are_managed_by_the_secretariat,
    suspension_makes_delegates_read_only,
    users_are_managed,
    invitation_and_reset_flows,
);

// ---- revocation with the session cache ---------------------------------------------------
// Each instance keeps the sessions it confirmed for a moment (`sessions::SessionCache`), so that
// a client sending many requests costs no session query each. Every way of ending a session or
// changing what it may do must still hold at once on the instance that made the change, and on
// the others within PostgreSQL's notification latency.

/// Signs in and makes one request, so that this instance holds the session in memory.
async fn cached(app: &TestApp, email: &str) -> Session {
    let s = app.login(email, PASSWORD).await;
    assert_eq!(s.get("/api/me").await.status(), 200);
    assert!(app.state.sessions.holds(&s.token), "the session of {email} is not held in memory");
    s
}

/// After `change`, the session is gone from this instance's memory and refused at once.
async fn refused_at_once(app: &TestApp, s: &Session, change: &str) {
    assert!(!app.state.sessions.holds(&s.token), "{change}: the session is still held in memory");
    problem(s.get("/api/me").await, 401).await;
}

async fn cached_sessions_end_at_once(app: TestApp) {
    app.seed_demo().await;
    let admin = app.login(ADMIN, PASSWORD).await;
    // Many requests on one session are answered from memory, and stay answered.
    let s = cached(&app, INDIA).await;
    for _ in 0..20 {
        assert_eq!(s.get("/api/me").await.status(), 200);
    }
    // Sign-out.
    assert_eq!(s.post("/api/auth/logout", &json!({})).await.status(), 204);
    refused_at_once(&app, &s, "sign-out").await;
    // One session ended from another.
    let (a, b) = (cached(&app, INDIA).await, cached(&app, INDIA).await);
    let other = a.json("/api/me/sessions").await["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["current"] == false).and_then(|s| s["id"].as_i64()))
        .expect("the other session");
    assert_eq!(a.delete(&format!("/api/me/sessions/{other}")).await.status(), 204);
    refused_at_once(&app, &b, "a session ended from another").await;
    assert_eq!(a.get("/api/me").await.status(), 200);
    // Sign out everywhere.
    let c = cached(&app, INDIA).await;
    assert_eq!(a.delete("/api/me/sessions").await.status(), 204);
    refused_at_once(&app, &a, "sign out everywhere").await;
    refused_at_once(&app, &c, "sign out everywhere (another session)").await;
    // A user disabled.
    let s = cached(&app, INDIA).await;
    assert_eq!(admin.patch(&format!("/api/users/{}", s.user_id()), &json!({"disabled": true})).await.status(), 200);
    refused_at_once(&app, &s, "user disabled").await;
    // An organisation suspended.
    let s = cached(&app, BOTSWANA).await;
    let bw = app.organisation_id(&admin, "BW").await;
    assert_eq!(admin.patch(&format!("/api/organisations/{bw}"), &json!({"status": "suspended"})).await.status(), 200);
    refused_at_once(&app, &s, "organisation suspended").await;
}

async fn cached_sessions_lose_admin_rights_at_once(app: TestApp) {
    app.seed_demo().await;
    let db = app.state.db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        plenum::accounts::admin::create_admin(
            &db,
            "second.admin@secretariat.kp.example",
            "Second Admin",
            "Kimberley Process Secretariat",
            PASSWORD,
        )
    })
    .await
    .expect("join")
    .expect("second administrator");
    let admin = app.login(ADMIN, PASSWORD).await;
    let second = cached(&app, "second.admin@secretariat.kp.example").await;
    assert_eq!(second.get("/api/audit").await.status(), 200);
    let res = admin.patch(&format!("/api/users/{}", second.user_id()), &json!({"is_admin": false})).await;
    assert_eq!(res.status(), 200);
    assert!(!app.state.sessions.holds(&second.token), "the former administrator's session is still in memory");
    problem(second.get("/api/audit").await, 403).await;
    assert_eq!(second.get("/api/me").await.status(), 200);
}

/// `GET /api/me` on `app` with `token`.
async fn me_on(app: &TestApp, token: &str) -> u16 {
    reqwest::Client::new().get(app.url("/api/me")).bearer_auth(token).send().await.expect("sent").status().as_u16()
}

/// Signs in on `b` and uses the session on `a` until `a` holds it in memory.
async fn held_on(a: &TestApp, b: &TestApp, email: &str) -> Session {
    let s = b.login(email, PASSWORD).await;
    assert_eq!(me_on(a, &s.token).await, 200);
    assert!(a.state.sessions.holds(&s.token), "the first instance does not hold the session of {email}");
    s
}

/// Waits until `a` forgot the session and refuses it (the other instance's change is announced
/// by `NOTIFY`; the deadline is far above its latency, and a lapse of the cache's time limit
/// alone would not remove the session from memory).
async fn gone_from(a: &TestApp, s: &Session, change: &str) {
    eventually(change, std::time::Duration::from_secs(5), || async move {
        if a.state.sessions.holds(&s.token) {
            return Err("still held in memory".to_string());
        }
        match me_on(a, &s.token).await {
            401 => Ok(()),
            other => Err(format!("answered {other}")),
        }
    })
    .await
}

/// A session held in memory by one instance ends there as soon as another instance's change
/// is announced (PostgreSQL `NOTIFY`): sign-out, a user disabled, an organisation suspended.
async fn cached_sessions_end_on_every_instance(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    a.seed_demo().await;
    let b = a.spawn_second().await;
    let admin = b.login(ADMIN, PASSWORD).await;
    let s = held_on(&a, &b, INDIA).await;
    assert_eq!(s.post("/api/auth/logout", &json!({})).await.status(), 204);
    gone_from(&a, &s, "a sign-out on the second instance refused on the first").await;
    let s = held_on(&a, &b, INDIA).await;
    assert_eq!(admin.patch(&format!("/api/users/{}", s.user_id()), &json!({"disabled": true})).await.status(), 200);
    gone_from(&a, &s, "a user disabled on the second instance refused on the first").await;
    let s = held_on(&a, &b, BOTSWANA).await;
    let bw = b.organisation_id(&admin, "BW").await;
    assert_eq!(admin.patch(&format!("/api/organisations/{bw}"), &json!({"status": "suspended"})).await.status(), 200);
    gone_from(&a, &s, "an organisation suspended on the second instance refused on the first").await;
}

#[actix_web::test]
async fn cached_sessions_end_on_every_instance_postgres() {
    cached_sessions_end_on_every_instance(Backend::Postgres).await;
}

on_both_backends!(cached_sessions_end_at_once, cached_sessions_lose_admin_rights_at_once);
