//! `plenum backup` and `plenum restore` as an operator runs them, beside the real server binary:
//! a backup taken while delegates type holds a state the server really had; a backup taken when
//! the room is quiet restores every table row for row (drafts' update logs not yet compacted,
//! meetings, agendas, the audit log), and the restored database serves the same texts and takes
//! new edits. The refusals too: no overwriting without `--force`, no restoring over a database a
//! server holds, nothing that is not a Plenum database, no PostgreSQL restore into a used database.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::process::Served;
use common::ws::Client;
use common::{ADMIN, BOTSWANA, Backend, INDIA, PASSWORD, TestDb};
use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::{Value, json};

/// Runs `plenum args…`; returns (success, stdout, stderr).
async fn run(args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_plenum")).args(args).output().await.expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts the binary on `url`, in `dir` (its working directory), without scheduled work or
/// compaction getting in the way of row-for-row comparisons.
fn start(url: &str, dir: &Path) -> Served {
    Served::start(url, |c| {
        c.args(["--scheduler-secs", "0", "--compact-after", "1000000", "--room-idle-secs", "3600"])
            .args(["--mail-transport", "memory", "--shutdown-timeout", "5"])
            .current_dir(dir);
    })
}

/// A signed-in API client (bearer token).
#[derive(Clone)]
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn login(base: &str, email: &str) -> Self {
        let http = reqwest::Client::new();
        let res = http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("login sent");
        assert_eq!(res.status(), 200, "login as {email}");
        let token = res.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_string();
        Self { base: base.to_string(), token, http }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("sent");
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        res.json().await.unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None, 200).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body), 201).await
    }

    fn ws(&self, draft: i64) -> String {
        format!("{}/api/drafts/{draft}/ws?token={}", self.base.replace("http://", "ws://"), self.token)
    }

    /// Every draft's text, as a fresh client receives it from the server.
    async fn texts(&self) -> BTreeMap<i64, String> {
        let list = self.get("/api/drafts?limit=200").await;
        let mut texts = BTreeMap::new();
        for draft in list["items"].as_array().expect("items") {
            let id = draft["id"].as_i64().expect("id");
            let mut client = Client::connect_to(self.ws(id)).await;
            texts.insert(id, client.text());
            let _ = client.ws.close(None).await;
        }
        assert!(texts.len() >= 2, "the demo's draft and ours: {texts:?}");
        texts
    }
}

/// Meetings, agenda items and a renamed item: rows in several tables and in the audit log.
async fn change_meetings(admin: &Api) {
    let bodies = admin.get("/api/bodies").await;
    let body = bodies.as_array().expect("bodies").iter().find(|b| b["short_name"] == "KP").expect("KP")["id"].clone();
    let meeting = admin
        .post(
            "/api/meetings",
            json!({"body_id": body, "kind": "intersessional", "title": "Backup intersessional", "venue": "Antwerp",
                "time_zone": "Europe/Brussels", "starts_at": "2027-06-14T07:00:00Z", "ends_at": "2027-06-16T16:00:00Z"}),
        )
        .await["id"]
        .as_i64()
        .expect("meeting id");
    let mut items = Vec::new();
    for title in ["Opening", "Review visits", "Any other business"] {
        let item = admin.post(&format!("/api/meetings/{meeting}/agenda"), json!({"title": title})).await;
        items.push(item["id"].as_i64().expect("item id"));
    }
    admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/agenda-items/{}", items[1]),
            Some(json!({"title": "Review visits and their reports"})),
            200,
        )
        .await;
}

/// Types `n` numbered words at the start of the text, each stored before the next is sent.
async fn type_words(typist: &mut Client, watcher: &mut Client, from: usize, n: usize) {
    for i in from..from + n {
        typist.type_text(&format!("w{i} ")).await;
        let want = typist.text();
        let closed =
            watcher.pump_until("the watcher to see the edit", Duration::from_secs(5), |w| w.text() == want).await;
        assert_eq!(closed, None);
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every row of every table (and PostgreSQL's sequences), as text, sorted per table: two
/// databases with equal dumps hold the same data.
fn dump(url: &str, backend: Backend) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut c = plenum::db::establish(url).expect("connect");
    let mut q = |sql: String| -> Vec<String> {
        diesel::sql_query(&sql)
            .load::<Line>(&mut c)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|l| l.line)
            .collect()
    };
    match backend {
        Backend::Sqlite => {
            for table in q("SELECT name AS line FROM sqlite_master WHERE type = 'table' ORDER BY name".into()) {
                let columns = q(format!("SELECT name AS line FROM pragma_table_info('{table}') ORDER BY cid"));
                let row = columns.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || '|' || ");
                let rows = q(format!("SELECT {row} AS line FROM \"{table}\" ORDER BY 1"));
                out.insert(table, rows);
            }
        }
        Backend::Postgres => {
            let tables = q("SELECT table_name::text AS line FROM information_schema.tables \
                            WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
                .into());
            for table in tables {
                let rows = q(format!("SELECT CAST(t AS text) AS line FROM \"{table}\" t ORDER BY 1"));
                out.insert(table, rows);
            }
            let sequences = q("SELECT sequencename || '=' || coalesce(last_value::text, 'unused') AS line \
                               FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
                .into());
            out.insert("(sequences)".into(), sequences);
        }
    }
    out
}

fn count(dump: &BTreeMap<String, Vec<String>>, table: &str) -> usize {
    dump.get(table).map_or(0, Vec::len)
}

/// Waits until the typing task has sent `n` edits.
async fn until_typed(typed: &AtomicUsize, n: usize) {
    common::eventually(&format!("{n} edits typed"), Duration::from_secs(10), || async {
        let seen = typed.load(Ordering::SeqCst);
        if seen >= n { Ok(()) } else { Err(seen) }
    })
    .await
}

/// The whole round trip on one backend (see the file's doc comment).
async fn round_trip(backend: Backend) {
    let work = tempfile::tempdir().expect("temp dir");
    let db = TestDb::create(backend);
    let (ok, _, err) = run(&["demo", "--database-url", &db.url]).await;
    assert!(ok, "{err}");
    let server = start(&db.url, work.path());
    let admin = Api::login(&server.base(), ADMIN).await;
    let kabo = Api::login(&server.base(), BOTSWANA).await;
    let priya = Api::login(&server.base(), INDIA).await;
    change_meetings(&admin).await;
    let ours = kabo.post("/api/drafts", json!({"title": "Decision on the backup of the record"})).await["id"]
        .as_i64()
        .expect("draft id");
    let demo_draft = {
        let list = kabo.get("/api/drafts?limit=200").await;
        list["items"].as_array().expect("items").iter().map(|d| d["id"].as_i64().expect("id")).find(|id| *id != ours)
    }
    .expect("a demo draft");

    // Two drafts edited live: their updates sit in the log, far from being compacted.
    let mut typist = Client::connect_to(kabo.ws(ours)).await;
    let mut watcher = Client::connect_to(priya.ws(ours)).await;
    type_words(&mut typist, &mut watcher, 0, 25).await;
    let mut other = Client::connect_to(kabo.ws(demo_draft)).await;
    let mut other_watcher = Client::connect_to(priya.ws(demo_draft)).await;
    type_words(&mut other, &mut other_watcher, 0, 10).await;

    // A backup while a delegate keeps typing.
    let typed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let typing = tokio::spawn({
        let (typed, stop) = (typed.clone(), stop.clone());
        async move {
            let mut i = 1000;
            while !stop.load(Ordering::SeqCst) {
                typist.type_text(&format!("w{i} ")).await;
                i += 1;
                typed.fetch_add(1, Ordering::SeqCst);
                assert_eq!(typist.pump(Duration::from_millis(5)).await, None, "the typist was disconnected");
            }
            typist
        }
    });
    until_typed(&typed, 20).await;
    let live_at_start = {
        let want = typed.load(Ordering::SeqCst);
        let closed = watcher
            .pump_until("the watcher to catch up", Duration::from_secs(5), |w| {
                w.text().matches(' ').count() >= 25 + want
            })
            .await;
        assert_eq!(closed, None);
        watcher.text()
    };
    let live = work.path().join("live.backup");
    let live_path = live.to_str().expect("utf-8");
    let (ok, out, err) = run(&["backup", live_path, "--database-url", &db.url]).await;
    assert!(ok, "backup while typing: {err}");
    assert!(out.contains("backup written"), "{out}");
    let after_backup = typed.load(Ordering::SeqCst);
    until_typed(&typed, after_backup + 20).await;
    stop.store(true, Ordering::SeqCst);
    let typist = typing.await.expect("the typing task");
    let final_text = typist.text();
    let closed = watcher.pump_until("every edit stored", Duration::from_secs(10), |w| w.text() == final_text).await;
    assert_eq!(closed, None);

    // Quiet now: what the server stored, before and after a backup, and in the backup.
    let texts = admin.texts().await;
    assert_eq!(texts[&ours], final_text);
    let quiet = work.path().join("quiet.backup");
    let quiet_path = quiet.to_str().expect("utf-8");
    let stored = dump(&db.url, backend);
    let (ok, _, err) = run(&["backup", quiet_path, "--database-url", &db.url]).await;
    assert!(ok, "backup: {err}");
    assert_eq!(dump(&db.url, backend), stored, "nothing changed while the quiet backup ran");
    assert!(count(&stored, "draft_updates") >= 25 + 10 + 40, "the update log holds the live edits");
    assert!(count(&stored, "audit_log") > 0 && count(&stored, "agenda_items") >= 3);

    // Never over an existing file without --force; with it, the file is replaced whole.
    let (ok, _, err) = run(&["backup", quiet_path, "--database-url", &db.url]).await;
    assert!(!ok && err.contains("exists") && err.contains("--force"), "{err}");
    let (ok, _, err) = run(&["backup", quiet_path, "--force", "--database-url", &db.url]).await;
    assert!(ok, "backup --force: {err}");
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // A database in use is never the target of a restore: on SQLite the server holds its lock
    // file; on PostgreSQL it is not empty.
    let (ok, _, err) = run(&["restore", quiet_path, "--database-url", &db.url]).await;
    let refusal = if backend == Backend::Sqlite { "server is using" } else { "not empty" };
    assert!(!ok && err.contains(refusal), "{err}");
    assert_eq!(dump(&db.url, backend), stored, "the refused restore changed nothing");
    drop((watcher, other, other_watcher, typist));
    server.stop();

    // The quiet backup, restored into a fresh place: every row of every table as stored.
    let (restored, _restored_dir) = fresh_target(backend);
    let (ok, out, err) = run(&["restore", quiet_path, "--database-url", &restored]).await;
    assert!(ok, "restore: {err}");
    assert!(out.contains("restored"), "{out}");
    assert_eq!(dump(&restored, backend), stored, "the restored database holds exactly what was stored");

    // … and it serves: the same texts, and new edits are stored beside the old ones.
    let server = start(&restored, work.path());
    let admin = Api::login(&server.base(), ADMIN).await;
    assert_eq!(admin.texts().await, texts, "every draft's text is back");
    let kabo = Api::login(&server.base(), BOTSWANA).await;
    let mut typist = Client::connect_to(kabo.ws(ours)).await;
    assert_eq!(typist.text(), final_text);
    let mut watcher = Client::connect_to(admin.ws(ours)).await;
    type_words(&mut typist, &mut watcher, 5000, 3).await;
    drop((typist, watcher));
    server.stop();
    assert_eq!(count(&dump(&restored, backend), "draft_updates"), count(&stored, "draft_updates") + 3);

    // The backup taken mid-typing holds a state the draft really had: the text as it was when
    // the backup began, plus some of the words typed since, in order (each is typed at the start).
    let (restored_live, _live_dir) = fresh_target(backend);
    let (ok, _, err) = run(&["restore", live_path, "--database-url", &restored_live]).await;
    assert!(ok, "restore the live backup: {err}");
    let server = start(&restored_live, work.path());
    let admin = Api::login(&server.base(), ADMIN).await;
    let live_texts = admin.texts().await;
    let text = &live_texts[&ours];
    assert!(text.ends_with(&live_at_start) && final_text.ends_with(text.as_str()), "{text:?} is not a state it had");
    for (id, expected) in &texts {
        if *id != ours {
            assert_eq!(&live_texts[id], expected, "draft {id}");
        }
    }
    server.stop();
}

/// A database URL nobody uses yet: a path in a new folder, or a new PostgreSQL database.
fn fresh_target(backend: Backend) -> (String, Box<dyn std::any::Any>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (format!("sqlite://{}", dir.path().join("restored").join("plenum.db").display()), Box::new(dir))
        }
        Backend::Postgres => {
            let db = TestDb::create(Backend::Postgres);
            (db.url.clone(), Box::new(db))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_with_live_drafts_sqlite() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_with_live_drafts_postgres() {
    round_trip(Backend::Postgres).await;
}

/// Restore refuses what it must not replace or bring back, and leaves the target as it was.
#[tokio::test]
async fn restore_refuses_what_it_must() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::create(Backend::Sqlite);
    let (ok, _, err) = run(&["migrate", "--database-url", &db.url]).await;
    assert!(ok, "{err}");
    let backup = dir.path().join("plenum.backup");
    let backup_path = backup.to_str().expect("utf-8");
    let (ok, _, err) = run(&["backup", backup_path, "--database-url", &db.url]).await;
    assert!(ok, "{err}");

    // A server holds the database's lock file: the restore must not touch the database.
    let target = dir.path().join("target.db");
    let target_url = format!("sqlite://{}", target.display());
    let lock = std::fs::File::create(dir.path().join("target.db.lock")).expect("lock file");
    lock.try_lock().expect("take the lock as a server does");
    let (ok, _, err) = run(&["restore", backup_path, "--database-url", &target_url]).await;
    assert!(!ok && err.contains("server is using"), "{err}");
    assert!(!target.exists(), "nothing was written");
    lock.unlock().expect("unlock");
    let (ok, out, err) = run(&["restore", backup_path, "--database-url", &target_url]).await;
    assert!(ok, "{err}");
    assert!(out.contains("restored"), "{out}");

    // A SQLite database that is not Plenum's, and a file that is no database at all.
    let foreign = dir.path().join("foreign.db");
    {
        let mut c = diesel::sqlite::SqliteConnection::establish(foreign.to_str().expect("utf-8")).expect("open");
        diesel::sql_query("CREATE TABLE notes (body TEXT)").execute(&mut c).expect("create");
    }
    let fresh = dir.path().join("fresh.db");
    let fresh_url = format!("sqlite://{}", fresh.display());
    let (ok, _, err) = run(&["restore", foreign.to_str().expect("utf-8"), "--database-url", &fresh_url]).await;
    assert!(!ok && err.contains("not a Plenum one"), "{err}");
    let junk = dir.path().join("junk.backup");
    std::fs::write(&junk, b"not a database at all").expect("write");
    let (ok, _, err) = run(&["restore", junk.to_str().expect("utf-8"), "--database-url", &fresh_url]).await;
    assert!(!ok && err.contains("not a backup"), "{err}");
    assert!(!fresh.exists(), "nothing was written");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.contains(".restoring") || n.contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // A SQLite backup is not restored into PostgreSQL (nor the reverse).
    let pg = TestDb::create(Backend::Postgres);
    let (ok, _, err) = run(&["restore", backup_path, "--database-url", &pg.url]).await;
    assert!(!ok && err.contains("sqlite://"), "{err}");
}
