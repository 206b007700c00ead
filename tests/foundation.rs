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

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn probes(c: &mut plenum::db::DbConnection) -> Result<i64, plenum::error::Error> {
    Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM consistency_probe").get_result::<Count>(c)?.n)
}

/// `Db::read_consistent` (every read of related rows: an agenda, a draft's snapshot and log)
/// sees one state of the database whatever commits meanwhile, and ends its transaction whether
/// its closure succeeds or fails, so the connection goes back to the pool usable.
async fn consistent_reads_see_one_state(app: TestApp) {
    let db = app.state.db.clone();
    db.write(|c| Ok(diesel::sql_query("CREATE TABLE consistency_probe (n INTEGER)").execute(c)?))
        .await
        .expect("create");
    let writer = db.clone();
    let seen = db
        .read_consistent(move |c| {
            let before = probes(c)?;
            writer.write_blocking(|w| Ok(diesel::sql_query("INSERT INTO consistency_probe VALUES (1)").execute(w)?))?;
            Ok((before, probes(c)?))
        })
        .await
        .expect("read");
    assert_eq!(seen, (0, 0), "a commit during a consistent read is not seen by it");
    assert_eq!(db.read(probes).await.expect("read"), 1);
    // More failures than the pool has connections: each one's transaction was ended.
    for _ in 0..25 {
        let failed = db
            .read_consistent(|c| {
                probes(c)?;
                Err::<(), _>(plenum::error::Error::NotFound("a probe".into()))
            })
            .await;
        assert!(matches!(failed, Err(plenum::error::Error::NotFound(_))), "{failed:?}");
    }
    assert_eq!(db.read_consistent(probes).await.expect("read"), 1);
}

on_both_backends!(
    consistent_reads_see_one_state,
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

/// Rolling the schema back below the packed update log is refused while a row holds several
/// updates (an older version would read it as one), and allowed once none does.
fn rollback_keeps_packed_logs_readable(backend: Backend) {
    let db = TestDb::create(backend);
    let mut conn = plenum::db::establish(&db.url).expect("connect");
    plenum::db::run_migrations(&mut conn).expect("apply");
    let bytes = if backend == Backend::Sqlite { "x'0102'" } else { "'\\x0102'::bytea" };
    diesel::sql_query(format!(
        "INSERT INTO draft_updates (draft_id, seq, user_id, created_at, data, updates) \
         VALUES (1, 2, 1, '2026-12-07 12:00:00', {bytes}, 2)"
    ))
    .execute(&mut conn)
    .expect("a packed row");
    let refused = plenum::db::revert_all_migrations(&mut conn);
    assert!(refused.is_err(), "the rollback went through: {refused:?}");
    let rows: Vec<Column> =
        diesel::sql_query("SELECT CAST(count(*) AS TEXT) AS name FROM draft_updates").load(&mut conn).expect("rows");
    assert_eq!(rows.first().map(|r| r.name.as_str()), Some("1"), "the refused rollback changed nothing");
    diesel::sql_query("DELETE FROM draft_updates").execute(&mut conn).expect("emptied");
    plenum::db::revert_all_migrations(&mut conn).expect("then it reverts");
}

#[test]
fn rollback_keeps_packed_logs_readable_sqlite() {
    rollback_keeps_packed_logs_readable(Backend::Sqlite);
}

#[test]
fn rollback_keeps_packed_logs_readable_postgres() {
    rollback_keeps_packed_logs_readable(Backend::Postgres);
}

/// Applies migrations one at a time until `version` (e.g. `20261128000006`) is applied.
fn migrate_up_to(conn: &mut plenum::db::DbConnection, version: &str) {
    use diesel_migrations::MigrationHarness;
    use plenum::db::{DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
    loop {
        let applied = match conn {
            DbConnection::Sqlite(c) => c.run_next_migration(SQLITE_MIGRATIONS).map(|v| v.to_string()),
            DbConnection::Postgresql(c) => c.run_next_migration(POSTGRES_MIGRATIONS).map(|v| v.to_string()),
        }
        .unwrap_or_else(|e| panic!("migrating towards {version}: {e}"));
        if applied == version {
            return;
        }
    }
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Reference {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    reference: String,
}

/// The migration that gave drafts their meeting and agenda item, over drafts of the schema before
/// it: a draft listed on agenda items takes the lowest of them and its meeting; otherwise the one
/// meeting of its body whose title is its reference (case and blanks aside); otherwise none. Its
/// down.sql gives the reference back as the meeting's title.
fn draft_references_become_links(backend: Backend) {
    use diesel::prelude::*;
    use plenum::db::schema::drafts;
    let db = TestDb::create(backend);
    let mut conn = plenum::db::establish(&db.url).expect("connect");
    migrate_up_to(&mut conn, "20261128000006");
    let at = "'2026-01-01 00:00:00', '2026-01-01 00:00:00'";
    let meeting = |id: i64, body: i64, title: &str| {
        format!(
            "INSERT INTO meetings (id, body_id, kind, title, time_zone, starts_at, ends_at, created_by, created_at, updated_at) \
             VALUES ({id}, {body}, 'plenary', '{title}', 'Europe/Brussels', '2007-11-05 08:00:00', '2007-11-08 17:00:00', 1, {at})"
        )
    };
    let item = |id: i64, meeting: i64, title: &str| {
        format!(
            "INSERT INTO agenda_items (id, meeting_id, position, title, purpose, created_at, updated_at) \
             VALUES ({id}, {meeting}, {id}, '{title}', 'for_decision', {at})"
        )
    };
    let draft = |id: i64, reference: &str| {
        format!(
            "INSERT INTO drafts (id, title, reference, created_by, created_at, updated_at, body_id) \
             VALUES ({id}, 'Draft {id}', '{reference}', 1, {at}, 1)"
        )
    };
    let statements = [
        format!(
            "INSERT INTO organisations (id, kind, name, short_code, created_at, updated_at) VALUES (1, 'participant', 'Botswana', 'BW', {at})"
        ),
        format!(
            "INSERT INTO users (id, organisation_id, email, email_normalized, display_name, created_at, updated_at) VALUES (1, 1, 'k@bw.example', 'k@bw.example', 'Kabo', {at})"
        ),
        format!(
            "INSERT INTO bodies (id, name, short_name, kind, created_on, created_at, updated_at) VALUES (1, 'Plenary', 'KP', 'plenary', '2003-01-01', {at})"
        ),
        format!(
            "INSERT INTO bodies (id, name, short_name, kind, created_on, created_at, updated_at) VALUES (2, 'Working group', 'WG', 'working_group', '2003-01-01', {at})"
        ),
        meeting(1, 1, "Brussels Plenary 2007"),
        meeting(2, 1, "Brussels Intersessional 2007"),
        meeting(3, 1, "Twice"),
        meeting(4, 1, " twice"),
        meeting(5, 2, "Group meeting"),
        item(10, 2, "Peer review"),
        item(11, 2, "Statistics"),
        item(12, 5, "Group business"),
        draft(1, "  brussels PLENARY 2007 "),
        draft(2, "Brussels Plenary 2007"),
        draft(3, "Twice"),
        draft(4, "Group meeting"),
        draft(5, ""),
        draft(6, "AP/2007/12"),
        draft(7, "Brussels Plenary 2007"),
        "INSERT INTO agenda_item_drafts (item_id, draft_id) VALUES (11, 2)".into(),
        "INSERT INTO agenda_item_drafts (item_id, draft_id) VALUES (10, 2)".into(),
        // Listed only on another body's agenda: that does not count, the reference does.
        "INSERT INTO agenda_item_drafts (item_id, draft_id) VALUES (12, 7)".into(),
    ];
    for sql in &statements {
        diesel::sql_query(sql.as_str()).execute(&mut conn).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    migrate_up_to(&mut conn, "20261128000007");
    let links: Vec<(i64, Option<i64>, Option<i64>)> = drafts::table
        .select((drafts::id, drafts::meeting_id, drafts::agenda_item_id))
        .order(drafts::id)
        .load(&mut conn)
        .expect("links");
    assert_eq!(
        links,
        vec![
            (1, Some(1), None),     // the reference, trimmed and in any case
            (2, Some(2), Some(10)), // the lowest linked item and its meeting, before the reference
            (3, None, None),        // two meetings answer to it
            (4, None, None),        // a meeting of another body
            (5, None, None),
            (6, None, None),
            (7, Some(1), None), // another body's item does not count; the reference does
        ]
    );
    // Back down: the reference is the meeting's title (or empty), and the links are gone.
    match &mut conn {
        plenum::db::DbConnection::Sqlite(c) => {
            diesel_migrations::MigrationHarness::revert_last_migration(c, plenum::db::SQLITE_MIGRATIONS).map(|_| ())
        }
        plenum::db::DbConnection::Postgresql(c) => {
            diesel_migrations::MigrationHarness::revert_last_migration(c, plenum::db::POSTGRES_MIGRATIONS).map(|_| ())
        }
    }
    .expect("revert");
    let references: Vec<Reference> =
        diesel::sql_query("SELECT id, reference FROM drafts ORDER BY id").load(&mut conn).expect("references");
    let references: Vec<(i64, &str)> = references.iter().map(|r| (r.id, r.reference.as_str())).collect();
    assert_eq!(
        references,
        vec![
            (1, "Brussels Plenary 2007"),
            (2, "Brussels Intersessional 2007"),
            (3, ""),
            (4, ""),
            (5, ""),
            (6, ""),
            (7, "Brussels Plenary 2007"),
        ]
    );
}

#[test]
fn draft_references_become_links_sqlite() {
    draft_references_become_links(Backend::Sqlite);
}

#[test]
fn draft_references_become_links_postgres() {
    draft_references_become_links(Backend::Postgres);
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
