//! Several instances: sign-in throttling and the reset-mail limit are counted in the database, so
//! failures on one instance count on every other (two instances on PostgreSQL; the same rules on
//! SQLite's one instance), and a second `plenum serve` on a SQLite file refuses to start.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::process::{Served, plenum};
use common::*;
use diesel::prelude::*;
use plenum::config::ServerConfig;
use plenum::db::schema::{account_tokens, login_failures, users};
use serde_json::json;

fn throttled(c: &mut ServerConfig) {
    c.accounts.login_max_failures = 3;
    c.accounts.login_max_failures_per_address = 5;
    c.accounts.login_window_secs = 900;
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json("/api/auth/login", &json!({"email": email, "password": password})).await
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After")
}

async fn failure_rows(app: &TestApp) -> i64 {
    app.state.db.read(|c| Ok(login_failures::table.count().get_result::<i64>(c)?)).await.expect("count")
}

/// Failures on instance A count on instance B (on SQLite, the one instance is both).
async fn failures_count_on_every_instance(backend: Backend) {
    let a = TestApp::spawn_with(backend, throttled).await;
    a.seed_demo().await;
    let second;
    let b = if backend == Backend::Postgres {
        second = a.spawn_second_with(throttled).await;
        &second
    } else {
        &a
    };
    let both = || [&a, b];
    // Each instance has its own clock: move them together.
    let advance = |secs: i64| {
        a.clock.advance(chrono::Duration::seconds(secs));
        if backend == Backend::Postgres {
            b.clock.advance(chrono::Duration::seconds(secs));
        }
    };

    // Two wrong passwords on A and one on B: the account is throttled for this address on both.
    for app in [&a, &a, b] {
        problem(sign_in(app, INDIA, "wrong password!").await, 401).await;
    }
    for app in both() {
        let res = sign_in(app, INDIA, PASSWORD).await;
        let retry = retry_after(&res);
        assert!((899..=900).contains(&retry), "{retry}");
        problem(res, 429).await;
    }
    // A throttled sign-in writes nothing: hammering does not grow the table.
    let rows = failure_rows(&a).await;
    assert_eq!(rows, 6, "one row per failure and key (account+address, address)");
    for app in both() {
        for _ in 0..10 {
            problem(sign_in(app, INDIA, "wrong password!").await, 429).await;
        }
    }
    assert_eq!(failure_rows(&a).await, rows, "throttled sign-ins wrote rows");
    // Other accounts are not affected (two address failures left).
    b.login(BOTSWANA, PASSWORD).await;

    // Never kept out longer than the window, on either instance.
    advance(899);
    for app in both() {
        problem(sign_in(app, INDIA, PASSWORD).await, 429).await;
    }
    advance(2);
    b.login(INDIA, PASSWORD).await;
    a.login(INDIA, PASSWORD).await;

    // Per address: failures for different accounts on both instances add up (5 allowed).
    for (app, email) in [(&a, INDIA), (b, BOTSWANA), (&a, OBSERVER), (b, ADMIN), (&a, "nobody@example.org")] {
        problem(sign_in(app, email, "wrong password!").await, 401).await;
    }
    for app in both() {
        problem(sign_in(app, SUSPENDED, PASSWORD).await, 429).await;
    }
    // The expired failures were deleted when the new ones came in: 5 failures, 2 keys each.
    assert_eq!(failure_rows(&a).await, 10, "expired failures are pruned");

    // A success on one instance clears that account's failures for this address on all.
    advance(901);
    for app in [&a, b] {
        problem(sign_in(app, INDIA, "wrong password!").await, 401).await;
    }
    a.login(INDIA, PASSWORD).await;
    for app in [b, b] {
        problem(sign_in(app, INDIA, "wrong password!").await, 401).await;
    }
    b.login(INDIA, PASSWORD).await;
}

#[actix_web::test]
async fn failures_count_on_every_instance_sqlite() {
    failures_count_on_every_instance(Backend::Sqlite).await;
}

#[actix_web::test]
async fn failures_count_on_every_instance_postgres() {
    failures_count_on_every_instance(Backend::Postgres).await;
}

/// Many reset requests at once, spread over the instances: exactly `--reset-mail-max` links.
async fn reset_mails_are_limited_on_every_instance(backend: Backend) {
    let limit = |c: &mut ServerConfig| c.accounts.reset_mail_max = 3;
    let a = TestApp::spawn_with(backend, limit).await;
    a.seed_demo().await;
    let second;
    let b = if backend == Backend::Postgres {
        second = a.spawn_second_with(limit).await;
        &second
    } else {
        &a
    };
    let body = json!({"email": INDIA});
    let requests = (0..16).map(|i| {
        let app = if i % 2 == 0 { &a } else { b };
        app.post_json("/api/auth/password-reset", &body)
    });
    for res in futures_util::future::join_all(requests).await {
        assert_eq!(res.status(), 202);
    }
    let links = a
        .state
        .db
        .read(|c| {
            let user: i64 = users::table.filter(users::email_normalized.eq(INDIA)).select(users::id).first(c)?;
            Ok(account_tokens::table
                .filter(account_tokens::user_id.eq(user))
                .filter(account_tokens::purpose.eq("password_reset"))
                .count()
                .get_result::<i64>(c)?)
        })
        .await
        .expect("count");
    assert_eq!(links, 3, "reset links issued by 16 concurrent requests");
}

#[actix_web::test]
async fn reset_mails_are_limited_on_every_instance_sqlite() {
    reset_mails_are_limited_on_every_instance(Backend::Sqlite).await;
}

#[actix_web::test]
async fn reset_mails_are_limited_on_every_instance_postgres() {
    reset_mails_are_limited_on_every_instance(Backend::Postgres).await;
}

// ---- one server per SQLite file ------------------------------------------------------------

/// Starts `plenum serve` on `url` (no scheduled work) and waits until it listens.
fn serve(url: &str) -> Served {
    Served::start(url, |c| {
        c.args(["--scheduler-secs", "0"]);
    })
}

/// Starts `plenum serve` on `url` expecting it to refuse: its exit status and standard error.
fn serve_refused(url: &str) -> (std::process::ExitStatus, String) {
    let mut child = plenum()
        .args(["serve", "--database-url", url, "--bind", "127.0.0.1:0", "--scheduler-secs", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return (status, String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a second server on the same SQLite file kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let db = TestDb::create(Backend::Sqlite);
    let path = db.url.strip_prefix("sqlite://").expect("sqlite URL").to_string();
    let first = serve(&db.url);
    let (status, stderr) = serve_refused(&db.url);
    assert!(!status.success(), "the second server exited {status}");
    for needed in [path.as_str(), "SQLite serves one instance", "PostgreSQL"] {
        assert!(stderr.contains(needed), "{needed:?} missing from: {stderr}");
    }
    // The short commands still work beside the server: only `serve` holds the lock.
    let out = plenum().args(["migrate", "--database-url", &db.url]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = plenum().args(["demo", "--database-url", &db.url]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A crash releases it: after SIGKILL a new server starts at once.
    drop(first);
    let again = serve(&db.url);
    // An in-process server (as the tests start) holds it too.
    drop(again);
    let rt = actix_web::rt::System::new();
    rt.block_on(async {
        let app = TestApp::spawn_on(db).await;
        let (status, stderr) = serve_refused(&app.db.url);
        assert!(!status.success() && stderr.contains("SQLite serves one instance"), "{status}: {stderr}");
        // A second instance in the same process (the tests' `spawn_second`) shares the lock.
        let second = app.spawn_second().await;
        assert_eq!(second.get("/readyz").await.status(), 200);
    });
}

#[test]
fn several_servers_share_one_postgresql_database() {
    let db = TestDb::create(Backend::Postgres);
    let out = plenum().args(["migrate", "--database-url", &db.url]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _one = serve(&db.url);
    let _two = serve(&db.url);
}
