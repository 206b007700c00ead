//! `plenum backup` and `plenum restore`: a consistent copy of the database taken while the server
//! runs, and bringing such a copy back.
//!
//! **SQLite** — the copy is made with `VACUUM INTO`, which writes the database as one read
//! transaction sees it: a consistent snapshot, taken beside a running server (in WAL mode a reader
//! never blocks the writer, and the writer never disturbs the reader). SQLite's online backup API
//! would do the same, but diesel's `SqliteConnection` exposes no raw handle, so it would need a second,
//! hand-written FFI connection (unsafe code); and an incremental backup restarts whenever another
//! connection writes, which under steady typing may never finish. `VACUUM INTO` also leaves a
//! compact, rollback-journal file that needs no `-wal` beside it. The copy is written under a
//! temporary name in the destination's folder, synced, then linked (or, with `--force`, renamed)
//! to its name, so a crash never leaves a half-written file under the final name.
//!
//! Restoring checks the file is a Plenum database (SQLite's `quick_check`, the migrations table,
//! no migration this binary does not know), takes the database's lock file (`<db>.lock`, the one a
//! running server holds) so it cannot replace a database a server is using, copies the backup to a
//! temporary file beside the database and renames it over the database. Pending migrations are
//! applied by the next `plenum serve`/`plenum migrate`, as on any start.
//!
//! **PostgreSQL** — `pg_dump --format=custom` (it reads one snapshot too) and `pg_restore` into an
//! empty database; both must be on `PATH`. The password, if the URL has one, is handed to them in
//! `PGPASSWORD`, never on their command line.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::pg::{Pg, PgConnection};
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::{Backend, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, known_versions, sqlite_lock_path, sqlite_path};
use crate::config::redact_url;

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// The first bytes of a `pg_dump --format=custom` archive.
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";
/// The table diesel records applied migrations in: its presence marks a Plenum database.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";
const VERSIONS_QUERY: &str = "SELECT version AS value FROM __diesel_schema_migrations";

/// What `plenum backup` wrote.
#[derive(Debug)]
pub struct BackupReport {
    /// The backup file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What `plenum restore` brought back.
#[derive(Debug)]
pub struct RestoreReport {
    /// Migrations recorded in the backup.
    pub applied: usize,
    /// Migrations of this binary the backup lacks: the next start applies them.
    pub pending: Vec<String>,
}

/// Writes a consistent copy of the database at `url` to `to` (see the module documentation).
/// Refuses to replace an existing `to` unless `force`.
pub fn backup(url: &str, to: &Path, force: bool) -> anyhow::Result<BackupReport> {
    if !force && to.exists() {
        bail!("{} exists; choose another name or pass --force to replace it", to.display());
    }
    let tmp = temp_name(to, "partial")?;
    remove_if_present(&tmp)?;
    let written = match Backend::from_url(url)? {
        Backend::Sqlite => sqlite_snapshot(Path::new(sqlite_path(url)), &tmp, to),
        Backend::Postgres => pg_dump(url, &tmp),
    }
    .and_then(|()| publish(&tmp, to, force));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    Ok(BackupReport { path: to.to_path_buf(), bytes: std::fs::metadata(to)?.len() })
}

/// Replaces the database at `url` with the backup at `from` (see the module documentation).
pub fn restore(url: &str, from: &Path) -> anyhow::Result<RestoreReport> {
    let magic = read_magic(from)?;
    match Backend::from_url(url)? {
        Backend::Sqlite if magic.starts_with(SQLITE_MAGIC) => restore_sqlite(Path::new(sqlite_path(url)), from),
        Backend::Sqlite if magic.starts_with(PG_DUMP_MAGIC) => {
            bail!("{} is a pg_dump archive of a PostgreSQL database: restore it with a postgres:// URL", from.display())
        }
        Backend::Postgres if magic.starts_with(PG_DUMP_MAGIC) => restore_pg(url, from),
        Backend::Postgres if magic.starts_with(SQLITE_MAGIC) => {
            bail!("{} is a SQLite database: restore it with a sqlite:// URL", from.display())
        }
        _ => bail!(
            "{} is not a backup made by `plenum backup` (neither a SQLite database nor a pg_dump archive)",
            from.display()
        ),
    }
}

/// Takes the database's lock file, failing at once if a server holds it. The lock lasts as long
/// as the returned file is open.
fn lock_sqlite(db: &Path) -> anyhow::Result<File> {
    let path = sqlite_lock_path(db);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            // Like a server, say who holds it (a server that fails to start names this process).
            let _ = file.set_len(0).and_then(|()| write!(&file, "{}", std::process::id()));
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "a Plenum server is using {} (it holds {}): stop every server on it before restoring",
            db.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
    }
}

fn sqlite_snapshot(db: &Path, tmp: &Path, to: &Path) -> anyhow::Result<()> {
    if !db.is_file() {
        bail!("there is no SQLite database at {}", db.display());
    }
    if same_file(db, to) {
        bail!("{} is the database itself; write the backup elsewhere", to.display());
    }
    let tmp_name = tmp.to_str().context("the backup path must be valid UTF-8")?;
    let mut conn = open_sqlite(db)?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(tmp_name)
        .execute(&mut conn)
        .with_context(|| format!("cannot write a snapshot of {} to {}", db.display(), tmp.display()))?;
    drop(conn);
    // The snapshot must be a Plenum database too (a file that merely ends in .db is not).
    let mut copy = open_sqlite(tmp)?;
    check_sqlite(&mut copy, tmp)?;
    Ok(())
}

fn restore_sqlite(db: &Path, from: &Path) -> anyhow::Result<RestoreReport> {
    if same_file(db, from) {
        bail!("{} is the database itself", from.display());
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let _lock = lock_sqlite(db)?;
    let tmp = temp_name(db, "restoring")?;
    remove_sqlite_files(&tmp)?;
    let restored = (|| {
        std::fs::copy(from, &tmp).with_context(|| format!("cannot copy {} to {}", from.display(), tmp.display()))?;
        let report = {
            let mut conn = open_sqlite(&tmp)?;
            let report = check_sqlite(&mut conn, from)?;
            // A copy of a WAL database says so in its header; rollback mode leaves no -wal beside
            // the file when it is closed (the server switches to WAL again when it opens it).
            conn.batch_execute("PRAGMA journal_mode = DELETE;")?;
            report
        };
        File::open(&tmp)?.sync_all()?;
        replace_sqlite(&tmp, db)?;
        Ok(report)
    })();
    if restored.is_err() {
        let _ = remove_sqlite_files(&tmp);
    }
    restored
}

/// Moves the verified copy `tmp` over `db`. The old database's log files go first (after their
/// content is folded into the database, so a crash before the rename leaves the old database
/// whole): SQLite would otherwise replay them into the new file.
fn replace_sqlite(tmp: &Path, db: &Path) -> anyhow::Result<()> {
    if db.exists() {
        match open_sqlite(db).and_then(|mut c| Ok(c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?)) {
            Ok(()) => {}
            Err(e) => tracing::warn!("could not checkpoint the database being replaced: {e:#}"),
        }
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        remove_if_present(&with_suffix(db, suffix))?;
    }
    std::fs::rename(tmp, db).with_context(|| format!("cannot move {} to {}", tmp.display(), db.display()))?;
    sync_dir(db)
}

fn open_sqlite(path: &Path) -> anyhow::Result<SqliteConnection> {
    let name = path.to_str().context("the database path must be valid UTF-8")?;
    SqliteConnection::establish(name).with_context(|| format!("cannot open {}", path.display()))
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Checks that `conn` holds an intact Plenum database that this binary can run.
fn check_sqlite(conn: &mut SqliteConnection, shown: &Path) -> anyhow::Result<RestoreReport> {
    let check = diesel::sql_query("SELECT quick_check AS value FROM pragma_quick_check")
        .load::<TextRow>(conn)
        .map(|rows| rows.into_iter().map(|r| r.value).collect::<Vec<_>>())
        .map_err(|e| anyhow::anyhow!("{} is not a readable SQLite database: {e}", shown.display()))?;
    if check != ["ok"] {
        bail!("{} is damaged (SQLite's quick_check: {})", shown.display(), check.join("; "));
    }
    let tables = diesel::sql_query(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .get_result::<CountRow>(conn)?;
    if tables.n == 0 {
        bail!("{} is a SQLite database but not a Plenum one (it has no {MIGRATIONS_TABLE} table)", shown.display());
    }
    let recorded = recorded_versions(conn)?;
    let known = known_versions::<Sqlite>(&SQLITE_MIGRATIONS)?;
    compare_versions(recorded, &known, shown)
}

fn recorded_versions(conn: &mut SqliteConnection) -> anyhow::Result<Vec<String>> {
    let rows = diesel::sql_query(VERSIONS_QUERY).load::<TextRow>(conn)?;
    Ok(rows.into_iter().map(|r| r.value).collect())
}

fn recorded_versions_pg(conn: &mut PgConnection) -> anyhow::Result<Vec<String>> {
    let rows = diesel::sql_query(VERSIONS_QUERY).load::<TextRow>(conn)?;
    Ok(rows.into_iter().map(|r| r.value).collect())
}

/// A backup from a newer Plenum has migrations this binary does not know: running it would treat
/// a schema it does not understand as its own, so it is refused.
fn compare_versions(recorded: Vec<String>, known: &[String], shown: &Path) -> anyhow::Result<RestoreReport> {
    let unknown: Vec<&String> = recorded.iter().filter(|v| !known.contains(v)).collect();
    if !unknown.is_empty() {
        bail!(
            "{} was written by a newer Plenum (migrations {unknown:?} are unknown to this version {}): \
             restore it with that version or a later one",
            shown.display(),
            env!("CARGO_PKG_VERSION")
        );
    }
    let pending = known.iter().filter(|v| !recorded.contains(v)).cloned().collect();
    Ok(RestoreReport { applied: recorded.len(), pending })
}

fn pg_dump(url: &str, tmp: &Path) -> anyhow::Result<()> {
    let (url, password) = split_password(url)?;
    let mut cmd = pg_tool("pg_dump", password.as_deref());
    cmd.arg("--format=custom").arg("--file").arg(tmp).arg("--dbname").arg(&url);
    run_pg_tool(cmd, "pg_dump", &url)
}

fn restore_pg(url: &str, from: &Path) -> anyhow::Result<RestoreReport> {
    let (bare_url, password) = split_password(url)?;
    let mut list = pg_tool("pg_restore", password.as_deref());
    list.arg("--list").arg(from);
    let listing = output_of(list, "pg_restore")?;
    if !listing.lines().any(|l| l.contains(" TABLE ") && l.contains(MIGRATIONS_TABLE)) {
        bail!("{} is a pg_dump archive but not of a Plenum database (no {MIGRATIONS_TABLE} table)", from.display());
    }
    let mut conn = PgConnection::establish(url).with_context(|| format!("cannot connect to {}", redact_url(url)))?;
    let tables =
        diesel::sql_query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()")
            .get_result::<CountRow>(&mut conn)?;
    if tables.n > 0 {
        bail!(
            "the database {} is not empty ({} tables): restore into a new, empty database (createdb) \
             and point the server at it",
            redact_url(url),
            tables.n
        );
    }
    let mut cmd = pg_tool("pg_restore", password.as_deref());
    cmd.args(["--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges", "--dbname"])
        .arg(&bare_url)
        .arg(from);
    run_pg_tool(cmd, "pg_restore", &bare_url)?;
    let recorded = recorded_versions_pg(&mut conn)?;
    let known = known_versions::<Pg>(&POSTGRES_MIGRATIONS)?;
    compare_versions(recorded, &known, from)
        .with_context(|| format!("{} now holds the backup, but this binary must not serve it", redact_url(url)))
}

fn pg_tool(name: &str, password: Option<&str>) -> Command {
    let mut cmd = Command::new(name);
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    cmd
}

fn output_of(mut cmd: Command, name: &str) -> anyhow::Result<String> {
    let out = cmd.output().map_err(|e| missing_tool(name, e))?;
    if !out.status.success() {
        bail!("{name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run_pg_tool(cmd: Command, name: &str, url: &str) -> anyhow::Result<()> {
    output_of(cmd, name).map(drop).with_context(|| format!("{name} on {}", redact_url(url)))
}

fn missing_tool(name: &str, e: std::io::Error) -> anyhow::Error {
    if e.kind() == ErrorKind::NotFound {
        anyhow::anyhow!(
            "{name} is not on PATH: install PostgreSQL's client tools (Debian: postgresql-client, the same \
             major version as the server or newer), or follow README's \"Backup and restore\" recipe"
        )
    } else {
        anyhow::anyhow!("cannot run {name}: {e}")
    }
}

/// The URL without its password, and the password (percent-decoded).
fn split_password(raw: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut url = url::Url::parse(raw).context("the database URL is not a URL")?;
    let password = url.password().map(percent_decode);
    if password.is_some() {
        let _ = url.set_password(None);
    }
    Ok((url.to_string(), password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Gives the finished file `tmp` its name `to`: synced first, then hard-linked (which fails if
/// `to` appeared meanwhile) or, with `force`, renamed over it.
fn publish(tmp: &Path, to: &Path, force: bool) -> anyhow::Result<()> {
    File::open(tmp)?.sync_all()?;
    if force {
        std::fs::rename(tmp, to)?;
    } else {
        match std::fs::hard_link(tmp, to) {
            Ok(()) => std::fs::remove_file(tmp)?,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                bail!("{} exists; choose another name or pass --force to replace it", to.display())
            }
            // A file system without hard links: check, then rename (a narrow race, only there).
            Err(_) if to.exists() => bail!("{} exists; pass --force to replace it", to.display()),
            Err(_) => std::fs::rename(tmp, to)?,
        }
    }
    sync_dir(to)
}

/// Makes a rename in `path`'s folder durable.
fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// `<path>.<what>-<pid>`, beside `path` so that the final rename stays on one file system.
fn temp_name(path: &Path, what: &str) -> anyhow::Result<PathBuf> {
    if path.file_name().is_none() {
        bail!("{} is not a file name", path.display());
    }
    Ok(with_suffix(path, &format!(".{what}-{}", std::process::id())))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

fn remove_sqlite_files(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        remove_if_present(&with_suffix(db, suffix))?;
    }
    Ok(())
}

fn read_magic(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = Vec::with_capacity(SQLITE_MAGIC.len());
    Read::by_ref(&mut file).take(SQLITE_MAGIC.len() as u64).read_to_end(&mut magic)?;
    Ok(magic)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        let (url, password) = split_password("postgres://plenum:s%40cret@db:5432/plenum?sslmode=disable").expect("url");
        assert_eq!(url, "postgres://plenum@db:5432/plenum?sslmode=disable");
        assert_eq!(password.as_deref(), Some("s@cret"));
        let (url, password) = split_password("postgres://postgres@127.0.0.1/x").expect("url");
        assert_eq!((url.as_str(), password), ("postgres://postgres@127.0.0.1/x", None));
    }

    #[test]
    fn newer_backups_are_refused() {
        let known = vec!["1".to_string(), "2".to_string()];
        let report = compare_versions(vec!["1".into()], &known, Path::new("b")).expect("older is fine");
        assert_eq!((report.applied, report.pending), (1, vec!["2".to_string()]));
        let err = compare_versions(vec!["1".into(), "3".into()], &known, Path::new("b")).expect_err("newer");
        assert!(err.to_string().contains("newer Plenum"), "{err}");
    }

    #[test]
    fn lock_files_sit_beside_the_database() {
        assert_eq!(sqlite_lock_path(Path::new("/srv/plenum.db")), PathBuf::from("/srv/plenum.db.lock"));
    }
}
