//! Storage: one connection type for SQLite and PostgreSQL, the pool, migrations, and the one way
//! handlers touch the database ([`Db::read`] and [`Db::write`], both on the blocking pool).

pub mod backup;
pub mod schema;
pub mod text_enum;

use std::sync::{Arc, Mutex};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseConfig;
use crate::error::Error;

/// The migrations for each backend, embedded in the binary. Both folders describe the same schema.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// See [`SQLITE_MIGRATIONS`].
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for real deployments and several instances.
    Postgresql(PgConnection),
    /// Embedded SQLite, the default.
    Sqlite(SqliteConnection),
}

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path` (or `sqlite:path`).
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// Reads the backend from a database URL.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            anyhow::bail!("unsupported database URL (expected sqlite://… or postgres://…)")
        }
    }
}

/// Opens connections for the pool, choosing the backend by URL and preparing each connection
/// (SQLite pragmas for durability and concurrency; a connect timeout for PostgreSQL).
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl Manager {
    fn new(url: &str) -> anyhow::Result<Self> {
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_path(url).to_string(),
            Backend::Postgres if !url.contains("connect_timeout") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}connect_timeout=3")
            }
            Backend::Postgres => url.to_string(),
        };
        Ok(Self { url, backend })
    }
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

/// WAL lets readers run beside the writer; `synchronous=FULL` makes every commit durable.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;";

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute("SET TIME ZONE 'UTC'").map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// The pool type.
pub type DbPool = Pool<Manager>;

/// The application's handle on the database. Cloning is cheap.
///
/// All diesel calls go through [`Db::read`]/[`Db::write`] (async, on the blocking pool) or their
/// `_blocking` twins (for the CLI and background threads). `write` runs its closure in a
/// transaction; on SQLite, writers in this process are serialised so a transaction that reads
/// before it writes never meets `SQLITE_BUSY`.
///
/// The async calls take one of as many permits as the pool has connections before they hop to
/// the blocking pool: requests beyond that wait as futures on an actix worker, not as blocked
/// threads queued on the pool's lock (64 connections of a load tool were 64 threads for 10
/// database connections, woken and switched in turn).
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    backend: Backend,
    write_lock: Arc<Mutex<()>>,
    permits: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish()
    }
}

impl Db {
    /// Builds the pool without connecting, so a server can start while its database is down
    /// (`/readyz` then says so).
    pub fn connect_lazy(cfg: &DatabaseConfig) -> anyhow::Result<Self> {
        let manager = Manager::new(cfg.url.expose())?;
        let backend = manager.backend;
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(&manager.url);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        let pool = Pool::builder()
            .max_size(cfg.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(cfg.timeout())
            // A PostgreSQL connection can die with its server or the network: check it when it
            // leaves the pool. A SQLite connection is a file opened in this process, and the
            // check would cost a query on every request.
            .test_on_check_out(backend == Backend::Postgres)
            .build_unchecked(manager);
        let permits = Arc::new(tokio::sync::Semaphore::new(cfg.pool_size.max(1) as usize));
        Ok(Self { pool, backend, write_lock: Arc::new(Mutex::new(())), permits })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.get()?;
        run_migrations(&mut conn)
    }

    /// Runs `f` with a connection, outside any transaction, on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, Error> + Send + 'static,
    {
        self.on_blocking_pool(move |db| db.read_blocking(f)).await
    }

    /// Runs `f` in one transaction on the blocking pool: everything it wrote commits together,
    /// or nothing does if it returns an error.
    pub async fn write<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, Error> + Send + 'static,
    {
        self.on_blocking_pool(move |db| db.write_blocking(f)).await
    }

    /// Runs `f` in one read-only transaction that sees a single consistent state of the database
    /// (REPEATABLE READ on PostgreSQL; a read transaction on SQLite, whose WAL gives it a snapshot),
    /// so reads of related rows cannot straddle another instance's commit.
    pub async fn read_consistent<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, Error> + Send + 'static,
    {
        self.on_blocking_pool(move |db| db.read_consistent_blocking(f)).await
    }

    /// Runs `work` on the blocking pool once a permit is free (see [`Db`]).
    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (db, permit) = (self.clone(), self.permit().await?);
        actix_web::rt::task::spawn_blocking(move || {
            let _permit = permit;
            work(&db)
        })
        .await
        .map_err(|e| Error::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// A permit to use a connection from async code (held until the blocking work ends, even if
    /// the request that asked for it is dropped meanwhile). Waited for at most as long as the
    /// pool waits for a connection, so that when the database is down a queue of requests fails
    /// within twice that, not one timeout after another.
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        match tokio::time::timeout(self.pool.connection_timeout(), Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed.
            Ok(Err(closed)) => Err(Error::internal(anyhow::anyhow!("{closed}"))),
            Err(_) => Err(Error::unavailable("every database connection stayed busy")),
        }
    }

    /// [`Db::read_consistent`] for code already on a blocking thread.
    pub fn read_consistent_blocking<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = self.pool.get().map_err(Error::unavailable)?;
        match &mut *conn {
            DbConnection::Sqlite(_) => conn.transaction(|c| f(c)),
            // One statement opens it (not BEGIN, then SET TRANSACTION: a round trip more on every
            // read). Committed or rolled back as `Connection::transaction` would.
            DbConnection::Postgresql(pg) => {
                use diesel::connection::{AnsiTransactionManager, TransactionManager};
                AnsiTransactionManager::begin_transaction_sql(pg, CONSISTENT_READ)?;
                // The connection's own transaction manager ends it (it hands over to the
                // PostgreSQL connection's, which began it).
                type Txn = <DbConnection as diesel::Connection>::TransactionManager;
                match f(&mut conn) {
                    Ok(value) => {
                        Txn::commit_transaction(&mut conn)?;
                        Ok(value)
                    }
                    Err(e) => {
                        let _ = Txn::rollback_transaction(&mut conn);
                        Err(e)
                    }
                }
            }
        }
    }

    /// [`Db::read`] for code already on a blocking thread.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.pool.get().map_err(Error::unavailable)?;
        f(&mut conn)
    }

    /// [`Db::write`] for code already on a blocking thread.
    pub fn write_blocking<T>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.pool.get().map_err(Error::unavailable)?;
        let _guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
            Backend::Postgres => None,
        };
        conn.transaction(|c| f(c))
    }

    /// Open and idle connections of the pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Whether the database answers a trivial query right now.
    pub async fn ping(&self) -> Result<(), Error> {
        self.read(|c| {
            diesel::sql_query("SELECT 1").execute(c)?;
            Ok(())
        })
        .await
    }
}

/// The lock a server holds on a SQLite database for as long as it runs: SQLite serves one
/// instance (PostgreSQL serves several). An OS lock (`flock`) on `<database>.lock`, beside the
/// file, so a crashed server's lock is gone with its process. Servers in one process (tests
/// start several) share it; the CLI's short commands (migrate, demo, admin) never take it.
#[derive(Clone, Debug)]
pub struct InstanceLock {
    _file: Arc<std::fs::File>,
}

/// The lock file a server holds beside a SQLite database while it uses it (`plenum restore`
/// takes the same one).
pub fn sqlite_lock_path(db: &std::path::Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    std::path::PathBuf::from(name)
}

/// Takes the [`InstanceLock`] for `cfg`'s database: `None` for PostgreSQL or an in-memory
/// SQLite database; an error naming the file if another process serves it.
pub fn lock_single_instance(cfg: &DatabaseConfig) -> anyhow::Result<Option<InstanceLock>> {
    use std::collections::HashMap;
    use std::io::{Read, Seek, Write};
    use std::path::PathBuf;
    use std::sync::{LazyLock, Weak};
    static HELD: LazyLock<Mutex<HashMap<PathBuf, Weak<std::fs::File>>>> = LazyLock::new(Default::default);

    let url = cfg.url.expose();
    if Backend::from_url(url)? != Backend::Sqlite {
        return Ok(None);
    }
    let database = sqlite_path(url);
    if database.is_empty() || database == ":memory:" || database.contains("mode=memory") {
        return Ok(None);
    }
    let lock_path = sqlite_lock_path(std::path::Path::new(database));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| anyhow::anyhow!("cannot open the lock file {}: {e}", lock_path.display()))?;
    let key = std::fs::canonicalize(&lock_path)?;
    let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(file) = held.get(&key).and_then(Weak::upgrade) {
        return Ok(Some(InstanceLock { _file: file }));
    }
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let by = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
            anyhow::bail!(
                "the SQLite database {database} is already served by another plenum server{by}, which holds \
                 {}: SQLite serves one instance only; to run several instances, use PostgreSQL",
                lock_path.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            anyhow::bail!("cannot lock {} (beside the SQLite database {database}): {e}", lock_path.display())
        }
    }
    // Who holds it, for the message a second server prints (the lock itself is what counts).
    let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
    let file = Arc::new(file);
    held.retain(|_, f| f.strong_count() > 0);
    held.insert(key, Arc::downgrade(&file));
    Ok(Some(InstanceLock { _file: file }))
}

/// How [`Db::read_consistent`] opens its transaction on PostgreSQL: one snapshot for all its
/// statements (the default, READ COMMITTED, gives every statement its own), and no writes.
const CONSISTENT_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// Applies every pending migration on `conn`, after checking that every migration the database
/// records is one this binary knows: a previous binary started on a database a newer one has
/// migrated would serve a schema it does not understand (and its writes could lose what the
/// newer columns and tables hold), so it refuses to start instead.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let (recorded, known) = match conn {
        DbConnection::Sqlite(c) => {
            (c.applied_migrations(), known_versions::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS)?)
        }
        DbConnection::Postgresql(c) => {
            (c.applied_migrations(), known_versions::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS)?)
        }
    };
    let recorded = recorded.map_err(|e| anyhow::anyhow!("cannot read the applied migrations: {e}"))?;
    let unknown: Vec<String> = recorded.iter().map(|v| v.to_string()).filter(|v| !known.contains(v)).collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "this database was migrated by a newer Plenum (migrations {unknown:?} are unknown to version {}): \
             run that version or a later one, or restore the backup taken before the upgrade (README, Upgrading)",
            env!("CARGO_PKG_VERSION")
        );
    }
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// The versions of the migrations embedded in this binary.
pub fn known_versions<B: diesel::backend::Backend>(
    source: &impl diesel::migration::MigrationSource<B>,
) -> anyhow::Result<Vec<String>> {
    let migrations = source.migrations().map_err(|e| anyhow::anyhow!("embedded migrations: {e}"))?;
    Ok(migrations.iter().map(|m| m.name().version().to_string()).collect())
}

/// Reverts every applied migration on `conn` (used by the migration round-trip test).
pub fn revert_all_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
    Ok(reverted.into_iter().map(|v| v.to_string()).collect())
}

/// Opens one connection outside any pool (used by the CLI and tests).
pub fn establish(url: &str) -> anyhow::Result<DbConnection> {
    Ok(Manager::new(url)?.connect()?)
}

/// The current time in UTC, as stored in every timestamp column.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://a@b/c").ok(), Some(Backend::Postgres));
        assert_eq!(Backend::from_url("postgresql://a@b/c").ok(), Some(Backend::Postgres));
        assert!(Backend::from_url("mysql://a@b/c").is_err());
        assert_eq!(sqlite_path("sqlite:///tmp/a.db"), "/tmp/a.db");
        assert_eq!(sqlite_path("sqlite://plenum.db"), "plenum.db");
    }
}
