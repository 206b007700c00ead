//! The integration-test harness: start the real server in-process on a random port against a
//! fresh database (SQLite file or a new PostgreSQL database), and talk HTTP to it.
//!
//! Every test is written once as `async fn name(app: TestApp)` and registered with
//! [`on_both_backends!`], which makes a `name::sqlite` and a `name::postgres` test.
#![allow(dead_code)]

pub mod process;
pub mod ws;

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::dev::ServerHandle;
use diesel::Connection;
use diesel::RunQueryDsl;
use diesel::pg::PgConnection;
use plenum::app::AppState;
use plenum::config::ServerConfig;
use plenum::startup::Application;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
///
/// TLS is switched off unless the URL asks for it: a local server (Debian's has `ssl = on`) would
/// otherwise negotiate it, and a test process that exits while a pool thread still closes a TLS
/// connection can abort in OpenSSL's exit-time cleanup ("double free or corruption") after its
/// test passed.
pub fn pg_admin_url() -> String {
    let url =
        std::env::var("PLENUM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    if url.contains("sslmode=") {
        url
    } else {
        format!("{url}{}sslmode=disable", if url.contains('?') { '&' } else { '?' })
    }
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    /// Creates a fresh, empty database.
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("plenum.db").display());
                Self { url, backend, pg_name: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL tests need a server: cannot connect to {admin} ({e}). Start PostgreSQL \
                         or set PLENUM_TEST_PG_URL to a reachable server; these tests never skip."
                    )
                });
                let name = format!(
                    "plenum_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    uuid::Uuid::new_v4().simple().to_string().get(..8).unwrap_or("x")
                );
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create test database");
                let mut url = url::Url::parse(&admin).expect("PLENUM_TEST_PG_URL is a URL");
                url.set_path(&name);
                Self { url: url.to_string(), backend, pg_name: Some(name), _dir: None }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = PgConnection::establish(&pg_admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
        }
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub base: String,
    /// `http://host:port` of the `--metrics-bind` listener, when the test configured one.
    pub metrics_base: Option<String>,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The server's clock: it follows the system time until a test moves it.
    pub clock: std::sync::Arc<plenum::clock::SettableClock>,
    handle: ServerHandle,
    /// The PostgreSQL listener (cross-instance wake-ups), if any; tests may stop it.
    pub listener: Option<plenum::realtime::listener::Listener>,
    pub db: TestDb,
}

impl TestApp {
    /// Starts the server on a random port against a fresh database.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], letting the test adjust the configuration first.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        Self::spawn_on_with(TestDb::create(backend), adjust).await
    }

    /// A second server instance on the same database (the first one keeps owning it).
    pub async fn spawn_second(&self) -> Self {
        self.spawn_second_with(|_| {}).await
    }

    /// [`TestApp::spawn_second`] with an adjusted configuration.
    pub async fn spawn_second_with(&self, adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let db = TestDb { url: self.db.url.clone(), backend: self.db.backend, pg_name: None, _dir: None };
        Self::spawn_on_with(db, adjust).await
    }

    /// Starts the server on an existing test database.
    pub async fn spawn_on(db: TestDb) -> Self {
        Self::spawn_on_with(db, |_| {}).await
    }

    async fn spawn_on_with(db: TestDb, adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        init_logs();
        let mut config = ServerConfig::for_tests(db.url.clone());
        // Bound first, so that the public URL (the only origin the CSRF check accepts) names the
        // real port.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        config.public_url = format!("http://{}", listener.local_addr().expect("bound address"));
        adjust(&mut config);
        let clock = std::sync::Arc::new(plenum::clock::SettableClock::following_system());
        let app = Application::build_on(config, listener, clock.clone()).await.expect("server starts");
        let base = format!("http://{}", app.addr());
        let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
        let state = app.state().clone();
        let handle = app.handle();
        let listener = app.pg_listener();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().cookie_store(true).build().expect("http client");
        Self { base, metrics_base, client, state, clock, handle, listener, db }
    }

    /// The absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request sent")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
        // The listener thread must not be inside libpq when the test process exits.
        if let Some(listener) = self.listener.take() {
            listener.stop();
        }
    }
}

/// Polls `probe` every 20 ms until it answers `Ok`, failing after `within` with what it was
/// waiting for and the last `Err` it saw. Every wait in the tests has such a deadline.
pub async fn eventually<T, E: std::fmt::Debug, Fut>(
    what: &str,
    within: std::time::Duration,
    mut probe: impl FnMut() -> Fut,
) -> T
where
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        match probe().await {
            Ok(found) => return found,
            Err(last) if std::time::Instant::now() >= deadline => {
                panic!("timed out after {within:?} waiting for {what} (last: {last:?})")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
}

/// Reads a problem+json error, checking its media type and status.
pub async fn problem(res: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status for {}", res.url());
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(ct.starts_with("application/problem+json"), "content-type was {ct:?}");
    let body: serde_json::Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"].as_u64(), Some(status as u64), "{body}");
    assert!(body["type"].is_string() && body["title"].is_string(), "{body}");
    body
}

fn init_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plenum::telemetry::init(&plenum::config::LogConfig {
            level: std::env::var("PLENUM_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            format: plenum::config::LogFormat::Text,
        });
    });
}

/// Registers each `async fn name(app: TestApp)` as two tests, `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await).await
                }
                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::common::TestApp::spawn($crate::common::Backend::Postgres).await).await
                }
            }
        )*
    };
}

/// The demo body's password (every seeded account has it).
pub const PASSWORD: &str = plenum::demo::DEMO_PASSWORD;
/// Demo accounts used as the actors of tests.
pub const ADMIN: &str = "admin@secretariat.kp.example";
pub const BOTSWANA: &str = "kabo.molefe@bw.kp.example";
pub const INDIA: &str = "priya.raman@in.kp.example";
pub const OBSERVER: &str = "rafael.adler@wdc.kp.example";
pub const SUSPENDED: &str = "awa.kone@ci.kp.example";

/// A signed-in client using a bearer token (no cookies).
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub user: serde_json::Value,
    base: String,
    client: reqwest::Client,
}

impl Session {
    pub fn user_id(&self) -> i64 {
        self.user["id"].as_i64().expect("user id")
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.expect("sent")
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path).json(body).send().await.expect("sent")
    }

    pub async fn patch(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::PATCH, path).json(body).send().await.expect("sent")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, path).send().await.expect("sent")
    }

    /// GET that must answer 200 with JSON.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("json")
    }
}

impl TestApp {
    /// Seeds the demo body (the Kimberley Process in 2007) into this app's database.
    pub async fn seed_demo(&self) {
        let db = self.state.db.clone();
        actix_web::rt::task::spawn_blocking(move || plenum::demo::seed(&db)).await.expect("join").expect("seed");
    }

    /// Signs in through the API; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let client = reqwest::Client::new();
        let res = client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200, "login as {email}");
        let body: serde_json::Value = res.json().await.expect("json");
        Session {
            token: body["token"].as_str().expect("token").to_string(),
            user: body["user"].clone(),
            base: self.base.clone(),
            client,
        }
    }

    /// Id of the organisation with this short code.
    pub async fn organisation_id(&self, admin: &Session, code: &str) -> i64 {
        let page = admin.json("/api/organisations?limit=200").await;
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|o| o["short_code"] == code)
            .and_then(|o| o["id"].as_i64())
            .unwrap_or_else(|| panic!("no organisation {code}"))
    }

    /// Number of rows in the audit log.
    pub async fn audit_count(&self) -> i64 {
        use diesel::prelude::*;
        use plenum::db::schema::audit_log;
        let db = self.state.db.clone();
        db.read(|c| Ok(audit_log::table.count().get_result::<i64>(c)?)).await.expect("count")
    }
}

/// A real SMTP server (Debian's aiosmtpd) that saves each message as a file.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: std::process::Child,
}

impl SmtpSink {
    /// Starts a sink on a free port, or on `port`.
    pub fn start(port: Option<u16>) -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = std::process::Command::new("/usr/bin/python3");
        cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py")).arg("--dir").arg(dir.path());
        if let Some(port) = port {
            cmd.arg("--port").arg(port.to_string());
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the SMTP sink (needs Debian's python3-aiosmtpd: run ./scripts/test once)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("sink output");
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("SMTP sink did not start: {line:?} (is python3-aiosmtpd installed?)"));
        Self { port, dir, child }
    }

    /// Waits up to `secs` for `n` messages and returns them (raw RFC 5322 text).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
                .expect("read dir")
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect();
            if files.len() >= n {
                files.sort();
                return files.iter().map(|p| std::fs::read_to_string(p).expect("read mail")).collect();
            }
            assert!(std::time::Instant::now() < deadline, "only {} of {n} mail(s) arrived", files.len());
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Decodes quoted-printable soft line breaks and `=XX` escapes (enough to read links in mail).
pub fn decode_quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first link in `text` (already decoded) that contains `marker`; returns its `token`.
pub fn token_from_link(decoded: &str, marker: &str) -> String {
    let start = decoded.find(marker).unwrap_or_else(|| panic!("no {marker} link in:\n{decoded}"));
    let rest = &decoded[start..];
    let t = rest.find("token=").expect("token parameter") + "token=".len();
    rest[t..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}
