//! The skeleton every capability stands on: probes, the error format, security headers, the
//! OpenAPI document, migrations, and the CLI.

mod common;

use common::{Backend, TestApp, TestDb, problem};
use diesel::RunQueryDsl;

async fn health_and_readiness(app: TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let headers = res.headers();
    assert_eq!(headers.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
    assert_eq!(headers.get("x-frame-options").map(|v| v.as_bytes()), Some(&b"DENY"[..]));
    assert!(headers.get("content-security-policy").is_some());
    assert!(headers.get("x-request-id").is_some_and(|v| !v.is_empty()));
    assert_eq!(app.get("/readyz").await.status(), 200);
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    let body = problem(app.get("/api/nope").await, 404).await;
    assert_eq!(body["code"], "not-found");
    let body = problem(app.get("/nope.js").await, 404).await;
    assert_eq!(body["type"], "/problems/not-found");
    let res = app.client.delete(app.url("/healthz")).send().await.expect("sent");
    let body = problem(res, 405).await;
    assert_eq!(body["code"], "method-not-allowed");
    // Security headers are on error responses too.
    let res = app.get("/api/nope").await;
    assert!(res.headers().get("x-content-type-options").is_some());
}

async fn client_request_id_is_echoed(app: TestApp) {
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "abc-123").send().await.expect("sent");
    assert_eq!(res.headers().get("x-request-id").map(|v| v.as_bytes()), Some(&b"abc-123"[..]));
    // Anything that is not a plain token is replaced, never reflected.
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "<script>").send().await.expect("sent");
    assert_ne!(res.headers().get("x-request-id").map(|v| v.as_bytes()), Some(&b"<script>"[..]));
}

async fn openapi_document_lists_the_routes(app: TestApp) {
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: serde_json::Value = res.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
    for path in ["/healthz", "/readyz", "/api/openapi.json"] {
        assert!(doc["paths"][path]["get"].is_object(), "missing {path}");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

async fn front_end_is_served_for_app_routes(app: TestApp) {
    let res = app.get("/account").await;
    assert_eq!(res.status(), 200);
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
}

async fn metrics_are_exposed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.metrics_bind = Some("127.0.0.1:0".into())).await;
    app.get("/healthz").await;
    app.get("/api/nope").await;
    let metrics = app.metrics_base.clone().expect("the --metrics-bind address");
    let res = reqwest::get(format!("{metrics}/metrics")).await.expect("sent");
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("text");
    assert!(text.contains("# TYPE plenum_http_responses_total counter"), "{text}");
    let count = |class: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("plenum_http_responses_total{{class=\"{class}\"}}")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(count("2xx") >= 1 && count("4xx") >= 1, "{text}");
    assert!(text.contains("plenum_mail_outbox_pending 0"), "{text}");
}

#[actix_web::test]
async fn metrics_are_exposed_sqlite() {
    metrics_are_exposed(Backend::Sqlite).await;
}

#[actix_web::test]
async fn metrics_are_exposed_postgres() {
    metrics_are_exposed(Backend::Postgres).await;
}

on_both_backends!(
    health_and_readiness,
    unknown_routes_and_methods_are_problems,
    client_request_id_is_echoed,
    openapi_document_lists_the_routes,
    front_end_is_served_for_app_routes,
);

/// Applies every migration, reverts them all, re-applies them, and checks the schema is the same.
fn migrations_round_trip(backend: Backend) {
    let db = TestDb::create(backend);
    let mut conn = plenum::db::establish(&db.url).expect("connect");
    let applied = plenum::db::run_migrations(&mut conn).expect("apply");
    assert!(!applied.is_empty());
    let first = schema_of(&mut conn, backend);
    assert!(first.iter().any(|c| c.starts_with("users.")), "{first:?}");
    let reverted = plenum::db::revert_all_migrations(&mut conn).expect("revert");
    assert_eq!(reverted.len(), applied.len());
    let empty = schema_of(&mut conn, backend);
    assert!(empty.is_empty(), "tables left after reverting everything: {empty:?}");
    plenum::db::run_migrations(&mut conn).expect("re-apply");
    assert_eq!(schema_of(&mut conn, backend), first);
}

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// `table.column type` for every column of the application's tables.
fn schema_of(conn: &mut plenum::db::DbConnection, backend: Backend) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name || '.' || p.name || ' ' || p.type || CASE WHEN p.\"notnull\" = 1 THEN ' not null' ELSE '' END AS name \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             ORDER BY 1"
        }
        Backend::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END AS name \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
             ORDER BY 1"
        }
    };
    diesel::sql_query(sql).load::<Column>(conn).expect("read schema").into_iter().map(|c| c.name).collect()
}

#[test]
fn migrations_round_trip_sqlite() {
    migrations_round_trip(Backend::Sqlite);
}

#[test]
fn migrations_round_trip_postgres() {
    migrations_round_trip(Backend::Postgres);
}

/// `/readyz` answers 503 while PostgreSQL refuses connections and 200 again once it accepts them,
/// without a restart. (PostgreSQL only: an embedded SQLite file cannot become unreachable.)
#[actix_web::test]
async fn readiness_follows_the_database_postgres() {
    let app = TestApp::spawn(Backend::Postgres).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let name = app.db.url.split('?').next().and_then(|u| u.rsplit('/').next()).expect("db name").to_string();
    let mut admin = plenum::db::establish(&common::pg_admin_url()).expect("admin connection");
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).execute(&mut admin).expect("alter");
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut admin)
    .expect("terminate");
    let body = problem(app.get("/readyz").await, 503).await;
    assert_eq!(body["code"], "unavailable");
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).execute(&mut admin).expect("alter");
    assert_eq!(app.get("/readyz").await.status(), 200);
}
