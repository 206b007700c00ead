//! The `plenum` binary as an operator runs it: help, version, migrate, and serve with a graceful
//! stop on SIGTERM (live sockets told to go away first, so the stop does not wait on them).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::process::{Served, plenum};
use common::{Backend, TestDb};

#[test]
fn help_explains_each_command() {
    let out = plenum().arg("--help").output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate"] {
        assert!(help.contains(command), "{help}");
    }
    let out = plenum().args(["serve", "--help"]).output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--bind") && help.contains("PLENUM_BIND") && help.contains("--database-url"), "{help}");
}

#[test]
fn version_is_printed() {
    let out = plenum().arg("--version").output().expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

fn migrate_then_serve_then_stop(backend: Backend) {
    let db = TestDb::create(backend);
    let out = plenum().args(["migrate", "--database-url", &db.url]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));

    let server = Served::start(&db.url, |_| {});
    for line in &server.startup {
        assert!(!line.contains("postgres://postgres@") || !line.contains("password"), "{line}");
    }
    let addr = server.addr.clone();
    assert!(!addr.ends_with(":0"), "the real port is logged: {addr}");
    let ready = reqwest::blocking_get(&format!("http://{addr}/readyz"));
    assert_eq!(ready, 200);

    server.stop();
}

mod reqwest {
    /// A tiny blocking GET (the async client needs a runtime; this test drives a child process).
    pub fn blocking_get(url: &str) -> u16 {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            for _ in 0..100 {
                if let Ok(res) = ::reqwest::get(url).await {
                    return res.status().as_u16();
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            0
        })
    }
}

#[test]
fn migrate_then_serve_then_stop_sqlite() {
    migrate_then_serve_then_stop(Backend::Sqlite);
}

#[test]
fn migrate_then_serve_then_stop_postgres() {
    migrate_then_serve_then_stop(Backend::Postgres);
}

/// An operator rolls back to the previous binary after an upgrade migrated the database: that
/// binary does not know the newer schema, so `migrate` and `serve` refuse the database, say which
/// migrations they do not know and what to do, and leave it as it was.
fn older_binary_refuses_a_newer_database(backend: Backend) {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let recorded = |url: &str| -> i64 {
        let mut conn = plenum::db::establish(url).expect("connect");
        let rows: Vec<Count> =
            diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations").load(&mut conn).expect("count");
        rows[0].n
    };
    let db = TestDb::create(backend);
    let out = plenum().args(["migrate", "--database-url", &db.url]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let future = "29991231000000";
    {
        let mut conn = plenum::db::establish(&db.url).expect("connect");
        diesel::sql_query(format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{future}')"))
            .execute(&mut conn)
            .expect("record a migration from a newer Plenum");
    }
    let before = recorded(&db.url);
    for command in ["migrate", "serve"] {
        let out = plenum()
            .args([command, "--database-url", &db.url])
            .env("PLENUM_BIND", "127.0.0.1:0")
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command} must refuse: {stderr}");
        assert!(stderr.contains("migrated by a newer Plenum") && stderr.contains(future), "{command}: {stderr}");
        assert!(stderr.contains("Upgrading"), "{command} says where to read what to do: {stderr}");
    }
    assert_eq!(recorded(&db.url), before, "nothing was applied or removed");
}

#[test]
fn older_binary_refuses_a_newer_database_sqlite() {
    older_binary_refuses_a_newer_database(Backend::Sqlite);
}

#[test]
fn older_binary_refuses_a_newer_database_postgres() {
    older_binary_refuses_a_newer_database(Backend::Postgres);
}

/// A rolling deploy sends SIGTERM to a server with delegates typing and observers following a
/// meeting: their sockets are closed with 1001 (go and reconnect) at once, and the process exits
/// well before `--shutdown-timeout` instead of waiting for them.
fn stop_with_live_sockets(backend: Backend) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let db = TestDb::create(backend);
    let out = plenum().args(["demo", "--database-url", &db.url]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut server = Served::start(&db.url, |c| {
        c.args(["--shutdown-timeout", "30"]);
    });
    let addr = server.addr.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let client = ::reqwest::Client::new();
        let login = client
            .post(format!("http://{addr}/api/auth/login"))
            .json(&serde_json::json!({"email": common::BOTSWANA, "password": common::PASSWORD}))
            .send()
            .await
            .expect("login");
        let token =
            login.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("token").to_string();
        let get = |path: String| {
            let (client, token, addr) = (client.clone(), token.clone(), addr.clone());
            async move {
                let res = client.get(format!("http://{addr}{path}")).bearer_auth(token).send().await.expect("get");
                res.json::<serde_json::Value>().await.expect("json")
            }
        };
        let drafts = get("/api/drafts".into()).await;
        let draft = drafts["items"][0]["id"].as_i64().expect("a demo draft");
        let meetings = get("/api/meetings".into()).await;
        let list = meetings.get("items").unwrap_or(&meetings);
        let meeting = list[0]["id"].as_i64().expect("a demo meeting");
        let (mut room, _) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/api/drafts/{draft}/ws?token={token}"))
                .await
                .expect("room");
        let (mut feed, _) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/api/meetings/{meeting}/live?token={token}"))
                .await
                .expect("feed");
        // Both are live: the room sends its sync step 1, the feed its snapshot.
        assert!(matches!(room.next().await, Some(Ok(Message::Binary(_)))));
        assert!(matches!(feed.next().await, Some(Ok(Message::Text(_)))));
        let stopped_at = std::time::Instant::now();
        server.sigterm();
        for (what, socket) in [("the drafting room", &mut room), ("the meeting feed", &mut feed)] {
            let code = loop {
                match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
                    Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
                    Ok(Some(Ok(_))) => continue,
                    other => panic!("{what}: no close frame after SIGTERM: {other:?}"),
                }
            };
            assert_eq!(code, Some(1001), "{what} is told the server is going away");
        }
        // The stop does not wait on the sockets (whose --shutdown-timeout is 30 s).
        let code = server.exited_within(Duration::from_secs(10).saturating_sub(stopped_at.elapsed()));
        assert!(code.success(), "exit status {code}");
    });
}

#[test]
fn stop_with_live_sockets_sqlite() {
    stop_with_live_sockets(Backend::Sqlite);
}

#[test]
fn stop_with_live_sockets_postgres() {
    stop_with_live_sockets(Backend::Postgres);
}

fn admin_create_then_sign_in(backend: Backend) {
    use std::io::Write;
    let db = TestDb::create(backend);
    let create = |email: &str, password: &str| {
        let mut child = plenum()
            .args([
                "admin",
                "create",
                "--email",
                email,
                "--name",
                "Ada Admin",
                "--organisation",
                "Secretariat",
                "--database-url",
                &db.url,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("write");
        child.wait_with_output().expect("runs")
    };
    let out = create("ada@secretariat.example.org", "short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = create("ada@secretariat.example.org", "a long admin password");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = create("ADA@secretariat.example.org", "a long admin password");
    assert!(!out.status.success(), "duplicate email accepted");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has an account"));
    // The password never appears in the command line or the output.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("a long admin password"));

    let rt = actix_web::rt::System::new();
    rt.block_on(async {
        let app = common::TestApp::spawn_on(db).await;
        let s = app.login("ada@secretariat.example.org", "a long admin password").await;
        assert_eq!(s.user["is_admin"], true);
        assert_eq!(s.user["organisation"]["kind"], "secretariat");
    });
}

#[test]
fn admin_create_then_sign_in_sqlite() {
    admin_create_then_sign_in(Backend::Sqlite);
}

#[test]
fn admin_create_then_sign_in_postgres() {
    admin_create_then_sign_in(Backend::Postgres);
}

fn demo_is_idempotent(backend: Backend) {
    let db = TestDb::create(backend);
    let first = plenum().args(["demo", "--database-url", &db.url]).output().expect("runs");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("(23 new account(s))")
            && text.contains("admin@secretariat.kp.example")
            && text.contains("kimberley-2007"),
        "{text}"
    );
    let again = plenum().args(["demo", "--database-url", &db.url]).output().expect("runs");
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("(0 new account(s))"));
}

#[test]
fn demo_is_idempotent_sqlite() {
    demo_is_idempotent(Backend::Sqlite);
}

#[test]
fn demo_is_idempotent_postgres() {
    demo_is_idempotent(Backend::Postgres);
}

#[test]
fn openapi_prints_the_served_document() {
    let out = plenum().arg("openapi").output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the output is JSON");
    assert!(printed["paths"]["/api/drafts"].is_object(), "{printed}");
    // OpenAPI requires unique operation ids; the front end's generated types are keyed on them.
    let mut ids: Vec<&str> = printed["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId in {ids:?}");

    let rt = actix_web::rt::System::new();
    rt.block_on(async {
        let app = common::TestApp::spawn(Backend::Sqlite).await;
        let served: serde_json::Value = app.get("/api/openapi.json").await.json().await.expect("json");
        assert_eq!(printed, served, "`plenum openapi` prints what the server serves");
    });
}
