//! Hardening (issue 9): sign-in throttling that cannot keep the owner out, trusted proxies,
//! rate-limited reset mail, one password per link, `no-store` on private answers, the CSRF check
//! against the public URL only, and `/metrics` off the public address.

mod common;

use common::*;
use plenum::config::{Secret, ServerConfig, TrustedProxies};
use serde_json::json;

/// Registers each `async fn name(backend: Backend)` (tests that configure their own server) as
/// `name::sqlite` and `name::postgres`.
macro_rules! with_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}

async fn spawn(backend: Backend, adjust: impl FnOnce(&mut ServerConfig)) -> TestApp {
    TestApp::spawn_with(backend, adjust).await
}

/// A sign-in from `address` (as forwarded by a proxy on 127.0.0.1).
async fn login_from(app: &TestApp, address: &str, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sent")
}

const ATTACKER: &str = "203.0.113.9";
const OWNER: &str = "198.51.100.7";

async fn an_attacker_cannot_keep_the_owner_out(backend: Backend) {
    let app = spawn(backend, |c| {
        c.trusted_proxies = TrustedProxies::parse("127.0.0.1").expect("proxies");
        c.accounts.login_max_failures = 5;
        c.accounts.login_max_failures_per_address = 30;
    })
    .await;
    app.seed_demo().await;
    let mut throttled = 0;
    for round in 0..4 {
        // The attacker fails continuously, from one address, more often than the limit...
        for _ in 0..6 {
            let res = login_from(&app, &format!("10.9.8.7, {ATTACKER}"), INDIA, "wrong password!").await;
            match res.status().as_u16() {
                401 => {}
                429 => throttled += 1,
                other => panic!("attacker got {other}"),
            }
        }
        // ...and the owner, from another address, signs in every time.
        let res = login_from(&app, OWNER, INDIA, PASSWORD).await;
        assert_eq!(res.status(), 200, "the owner is kept out in round {round}");
        assert_eq!(res.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    }
    assert_eq!(throttled, 24 - 5, "the attacker is throttled after 5 failures");
    // The attacker's address stays blocked for this account, even with the right password.
    let res = login_from(&app, ATTACKER, INDIA, PASSWORD).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 429).await;
    // The session records the client's address, not the proxy's.
    let owner: serde_json::Value = login_from(&app, OWNER, INDIA, PASSWORD).await.json().await.expect("json");
    let token = owner["token"].as_str().expect("token");
    let sessions: serde_json::Value = reqwest::Client::new()
        .get(app.url("/api/me/sessions"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let current = sessions["items"].as_array().expect("items").iter().find(|s| s["current"] == true).expect("current");
    assert_eq!(current["client_ip"], OWNER);

    // Per address: failures on many accounts from one address block that address only.
    let app = spawn(backend, |c| {
        c.trusted_proxies = TrustedProxies::parse("127.0.0.0/8").expect("proxies");
        c.accounts.login_max_failures_per_address = 6;
    })
    .await;
    app.seed_demo().await;
    for email in [INDIA, BOTSWANA, OBSERVER, ADMIN, SUSPENDED, "nobody@example.org"] {
        // Through two trusted hops: the nearest untrusted entry is the client.
        problem(login_from(&app, &format!("{ATTACKER}, 127.0.0.5"), email, "wrong password!").await, 401).await;
    }
    problem(login_from(&app, ATTACKER, BOTSWANA, PASSWORD).await, 429).await;
    assert_eq!(login_from(&app, OWNER, BOTSWANA, PASSWORD).await.status(), 200);
}

async fn forwarded_for_is_ignored_from_untrusted_peers(backend: Backend) {
    // No trusted proxy (the default): X-Forwarded-For is whatever a client claims.
    let app = spawn(backend, |c| c.accounts.login_max_failures = 3).await;
    assert!(app.state.config.trusted_proxies.is_empty());
    app.seed_demo().await;
    for i in 0..3 {
        problem(login_from(&app, &format!("203.0.113.{i}"), INDIA, "wrong password!").await, 401).await;
    }
    // Claiming another address does not escape the throttle: the peer (127.0.0.1) is the client.
    problem(login_from(&app, OWNER, INDIA, PASSWORD).await, 429).await;
    let res = login_from(&app, OWNER, BOTSWANA, PASSWORD).await;
    assert_eq!(res.status(), 200);
    let token = res.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("token").to_string();
    let sessions: serde_json::Value = reqwest::Client::new()
        .get(app.url("/api/me/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(sessions["items"][0]["client_ip"], "127.0.0.1");

    // A trusted proxy elsewhere does not make this peer trusted.
    let app = spawn(backend, |c| {
        c.accounts.login_max_failures = 3;
        c.trusted_proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").expect("proxies");
    })
    .await;
    app.seed_demo().await;
    for i in 0..3 {
        problem(login_from(&app, &format!("203.0.113.{i}"), INDIA, "wrong password!").await, 401).await;
    }
    problem(login_from(&app, OWNER, INDIA, PASSWORD).await, 429).await;
}

async fn outbox_rows(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use plenum::db::schema::mail_outbox;
    app.state.db.read(|c| Ok(mail_outbox::table.count().get_result::<i64>(c)?)).await.expect("count")
}

async fn reset_mail_is_rate_limited(backend: Backend) {
    let app = spawn(backend, |c| {
        c.accounts.reset_mail_max = 3;
        c.accounts.reset_mail_window_minutes = 15;
    })
    .await;
    app.seed_demo().await;
    let before = outbox_rows(&app).await;
    for _ in 0..15 {
        let res = app.post_json("/api/auth/password-reset", &json!({"email": INDIA})).await;
        assert_eq!(res.status(), 202);
    }
    assert_eq!(outbox_rows(&app).await - before, 3, "at most 3 reset mails per address and window");
    // The answer reveals nothing: an unknown address gets the same.
    let unknown = app.post_json("/api/auth/password-reset", &json!({"email": "nobody@nowhere.org"})).await;
    assert_eq!(unknown.status(), 202);
    // Other addresses have their own allowance.
    assert_eq!(app.post_json("/api/auth/password-reset", &json!({"email": BOTSWANA})).await.status(), 202);
    assert_eq!(outbox_rows(&app).await - before, 4);
    // After the window, mail is sent again.
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(app.post_json("/api/auth/password-reset", &json!({"email": INDIA})).await.status(), 202);
    assert_eq!(outbox_rows(&app).await - before, 5);
}

/// The tokens of the memory transport's mail to `to` whose link contains `marker`, oldest first.
async fn tokens_mailed(app: &TestApp, to: &str, marker: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let tokens: Vec<String> = app
            .state
            .mailer
            .sent()
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to) && m.text.contains(marker))
            .map(|m| token_from_link(&m.text, marker))
            .collect();
        if tokens.len() >= n {
            return tokens;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected {n} mail(s) to {to}");
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json("/api/auth/password-reset/confirm", &json!({"token": token, "password": password})).await
}

async fn a_new_password_retires_older_links(app: TestApp) {
    app.seed_demo().await;
    let elsewhere = app.login(INDIA, PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(app.post_json("/api/auth/password-reset", &json!({"email": INDIA})).await.status(), 202);
    }
    let tokens = tokens_mailed(&app, INDIA, "/reset-password?token=", 2).await;
    let res = confirm(&app, &tokens[1], "the second link's password").await;
    assert_eq!(res.status(), 200);
    // The first link no longer works, and the other session has ended.
    problem(confirm(&app, &tokens[0], "the first link's password").await, 410).await;
    problem(elsewhere.get("/api/me").await, 401).await;
    app.login(INDIA, "the second link's password").await;

    // Accepting an invitation retires a reset link sent in the meantime.
    let admin = app.login(ADMIN, PASSWORD).await;
    let gh = app.organisation_id(&admin, "GH").await;
    let email = "kofi.mensah@gh.example.org";
    let res =
        admin.post("/api/invitations", &json!({"email": email, "name": "Kofi Mensah", "organisation_id": gh})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.post_json("/api/auth/password-reset", &json!({"email": email})).await.status(), 202);
    let invitation = tokens_mailed(&app, email, "/invitation?token=", 1).await;
    let reset = tokens_mailed(&app, email, "/reset-password?token=", 1).await;
    let res = app
        .post_json("/api/invitations/accept", &json!({"token": invitation[0], "password": "kofi's first password"}))
        .await;
    assert_eq!(res.status(), 200);
    problem(confirm(&app, &reset[0], "a password set later").await, 410).await;
    app.login(email, "kofi's first password").await;
}

fn cache_control(res: &reqwest::Response) -> Option<String> {
    res.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(String::from)
}

async fn private_answers_are_not_stored(app: TestApp) {
    app.seed_demo().await;
    // The login answer, whether it succeeds or not.
    let res = app.post_json("/api/auth/login", &json!({"email": INDIA, "password": PASSWORD})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(cache_control(&res).as_deref(), Some("no-store"));
    let res = app.post_json("/api/auth/login", &json!({"email": INDIA, "password": "wrong password!"})).await;
    assert_eq!(res.status(), 401);
    assert_eq!(cache_control(&res).as_deref(), Some("no-store"));
    // Cookie-authenticated API answers (`app.client` keeps the cookie).
    for path in ["/api/me", "/api/organisations", "/api/me/sessions", "/api/nope"] {
        let res = app.get(path).await;
        assert_eq!(cache_control(&res).as_deref(), Some("no-store"), "{path}");
    }
    // Bearer-authenticated ones, errors included.
    let india = app.login(INDIA, PASSWORD).await;
    for path in ["/api/me", "/api/drafts", "/api/audit", "/api/users/not-a-number"] {
        let res = india.get(path).await;
        assert_eq!(cache_control(&res).as_deref(), Some("no-store"), "{path}");
    }
    let res = reqwest::Client::new().get(app.url("/api/me")).bearer_auth("not-a-token").send().await.expect("sent");
    assert_eq!(res.status(), 401);
    assert_eq!(cache_control(&res).as_deref(), Some("no-store"));
    // Public answers to anonymous requests keep their own caching.
    let anonymous = reqwest::Client::new();
    let res = anonymous.get(app.url("/api/openapi.json")).send().await.expect("sent");
    assert_ne!(cache_control(&res).as_deref(), Some("no-store"));
    let res = anonymous.get(app.url("/login")).send().await.expect("sent");
    assert_eq!(cache_control(&res).as_deref(), Some("no-cache"));
}

/// `POST /api/organisations` with the session cookie, `Host` and `Origin` set by hand.
async fn cookie_post(app: &TestApp, token: &str, host: Option<&str>, origin: &str, code: &str) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(app.url("/api/organisations"))
        .header("cookie", format!("plenum_session={token}"))
        .header("origin", origin)
        .json(&json!({"kind": "participant", "name": format!("State {code}"), "short_code": code}));
    if let Some(host) = host {
        req = req.header("host", host);
    }
    req.send().await.expect("sent")
}

async fn admin_token(app: &TestApp) -> String {
    app.seed_demo().await;
    app.login(ADMIN, PASSWORD).await.token
}

async fn csrf_compares_origin_with_the_public_url_only(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let token = admin_token(&app).await;
    let public = app.state.config.public_url.clone();
    assert_eq!(public, app.base);
    // An Origin that equals the request's Host, but not the public URL, is refused.
    let port = app.base.rsplit(':').next().expect("port");
    let forged_host = format!("evil.example:{port}");
    let res = cookie_post(&app, &token, Some(&forged_host), &format!("http://{forged_host}"), "E1").await;
    let body = problem(res, 403).await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("cross-site"), "{body}");
    let res = cookie_post(&app, &token, None, &format!("http://localhost:{port}"), "E2").await;
    problem(res, 403).await;
    // The public URL's origin passes, whatever the Host header says.
    assert_eq!(cookie_post(&app, &token, None, &public, "P1").await.status(), 201);
    assert_eq!(cookie_post(&app, &token, Some(&forged_host), &public, "P2").await.status(), 201);

    // Comparison is on normalised origins: scheme and host case, default ports.
    let app = spawn(backend, |c| c.public_url = "HTTPS://Plenum.Example:443/".into()).await;
    let token = admin_token(&app).await;
    assert_eq!(cookie_post(&app, &token, None, "https://plenum.example", "N1").await.status(), 201);
    assert_eq!(cookie_post(&app, &token, None, "https://PLENUM.example:443", "N2").await.status(), 201);
    problem(cookie_post(&app, &token, None, "http://plenum.example", "N3").await, 403).await;
    problem(cookie_post(&app, &token, None, "https://plenum.example:8443", "N4").await, 403).await;
    problem(cookie_post(&app, &token, None, "null", "N5").await, 403).await;
    let host = app.base.trim_start_matches("http://").to_string();
    problem(cookie_post(&app, &token, Some(&host), &app.base, "N6").await, 403).await;
}

async fn metrics_are_not_public_by_default(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    assert!(app.state.config.metrics_bind.is_none() && app.state.config.metrics_token.is_none());
    problem(app.get("/metrics").await, 404).await;
    app.seed_demo().await;
    // Not even for a signed-in administrator.
    let admin = app.login(ADMIN, PASSWORD).await;
    problem(admin.get("/metrics").await, 404).await;
}

async fn metrics_are_served_on_their_own_address(backend: Backend) {
    let app = spawn(backend, |c| c.metrics_bind = Some("127.0.0.1:0".into())).await;
    problem(app.get("/metrics").await, 404).await;
    let metrics = app.metrics_base.clone().expect("a metrics address");
    assert_ne!(metrics, app.base);
    let res = reqwest::get(format!("{metrics}/metrics")).await.expect("sent");
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("text");
    assert!(text.contains("# TYPE plenum_http_responses_total counter"), "{text}");
    // That address serves nothing else.
    for path in ["/api/me", "/healthz", "/"] {
        problem(reqwest::get(format!("{metrics}{path}")).await.expect("sent"), 404).await;
    }
}

async fn metrics_answer_to_their_token(backend: Backend) {
    let app = spawn(backend, |c| c.metrics_token = Some(Secret::new("a metrics token"))).await;
    problem(app.get("/metrics").await, 401).await;
    let get = |token: &'static str| reqwest::Client::new().get(app.url("/metrics")).bearer_auth(token).send();
    problem(get("another token").await.expect("sent"), 401).await;
    let res = get("a metrics token").await.expect("sent");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("text").contains("plenum_mail_outbox_pending"));
    // With both, the separate address wants the token too.
    let app = spawn(backend, |c| {
        c.metrics_bind = Some("127.0.0.1:0".into());
        c.metrics_token = Some(Secret::new("a metrics token"));
    })
    .await;
    let metrics = app.metrics_base.clone().expect("a metrics address");
    problem(reqwest::get(format!("{metrics}/metrics")).await.expect("sent"), 401).await;
    let res = reqwest::Client::new()
        .get(format!("{metrics}/metrics"))
        .bearer_auth("a metrics token")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
}

with_backends!(
    an_attacker_cannot_keep_the_owner_out,
    forwarded_for_is_ignored_from_untrusted_peers,
    reset_mail_is_rate_limited,
    csrf_compares_origin_with_the_public_url_only,
    metrics_are_not_public_by_default,
    metrics_are_served_on_their_own_address,
    metrics_answer_to_their_token,
);

on_both_backends!(a_new_password_retires_older_links, private_answers_are_not_stored);
