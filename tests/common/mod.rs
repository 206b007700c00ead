//! The integration-test harness: start the real server in-process on a random port against a
//! fresh database (SQLite file or a new PostgreSQL database), and talk HTTP to it.
//!
//! Every test is written once as `async fn name(app: TestApp)` and registered with
//! [`on_both_backends!`], which makes a `name::sqlite` and a `name::postgres` test.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::dev::ServerHandle;
use diesel::Connection;
use diesel::RunQueryDsl;
use diesel::pg::PgConnection;
use plenum::config::ServerConfig;
use plenum::startup::{AppState, Application};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("PLENUM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
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
    pub client: reqwest::Client,
    pub state: AppState,
    handle: ServerHandle,
    pub db: TestDb,
}

impl TestApp {
    /// Starts the server on a random port against a fresh database.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], letting the test adjust the configuration first.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        init_logs();
        let db = TestDb::create(backend);
        let mut config = ServerConfig::for_tests(db.url.clone());
        adjust(&mut config);
        let app = Application::build(config).await.expect("server starts");
        let base = format!("http://{}", app.addr());
        let state = app.state().clone();
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().cookie_store(true).build().expect("http client");
        Self { base, client, state, handle, db }
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
