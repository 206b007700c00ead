//! The `plenum` command line: serve, migrate, and administrative commands.

use clap::{Parser, Subcommand};

use plenum::config::{DatabaseConfig, LogConfig, ServerConfig};
use plenum::db::Db;
use plenum::startup::Application;

/// Plenum — meetings, chairs, recommendations and live drafting for a multi-party body.
#[derive(Parser, Debug)]
#[command(name = "plenum", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    log: LogConfig,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server: applies pending migrations, then serves the API and the web UI until
    /// SIGTERM or SIGINT (in-flight requests finish, then it exits 0).
    Serve(Box<ServerConfig>),
    /// Apply pending database migrations and exit (serve also does this at start).
    Migrate(DatabaseConfig),
    /// Seed the demo body (the Kimberley Process in 2007: participants, observers, a secretariat,
    /// delegates) and print its accounts. Idempotent: existing data is left alone.
    Demo(DatabaseConfig),
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write a consistent copy of the database to PATH while the server runs. SQLite: a snapshot
    /// file (`VACUUM INTO`); PostgreSQL: `pg_dump --format=custom` (pg_dump must be on PATH).
    /// The copy is written under a temporary name and renamed, so PATH never holds half a backup.
    Backup {
        /// Where the backup goes.
        path: std::path::PathBuf,
        /// Replace PATH if it exists (refused otherwise).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Replace the database with a backup made by `plenum backup`; the next `plenum serve` applies
    /// any pending migrations. SQLite: refused while a server uses the database; PostgreSQL:
    /// `pg_restore` into an empty database (pg_restore must be on PATH).
    Restore {
        /// The backup to bring back.
        path: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Print the OpenAPI document of the HTTP API (the one served at /api/openapi.json) to
    /// standard output; the web front end generates its API types from it.
    Openapi,
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create a system administrator, e.g. the first one on a fresh install. The password is read
    /// from a prompt, or from standard input when it is not a terminal; never from a flag.
    Create {
        /// The administrator's email address (their sign-in name).
        #[arg(long)]
        email: String,
        /// Their name as shown to others.
        #[arg(long)]
        name: String,
        /// Their organisation; created as the secretariat when absent.
        #[arg(long)]
        organisation: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    plenum::telemetry::init(&cli.log);
    let result = actix_web::rt::System::new().block_on(run(cli.command));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Openapi => {
            use utoipa::OpenApi;
            println!("{}", plenum::http::openapi::ApiDoc::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Serve(config) => {
            let app = Application::build(*config).await?;
            app.run_until_stopped().await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Migrate(database) => {
            let db = Db::connect_lazy(&database)?;
            let applied = tokio::task::spawn_blocking(move || db.migrate()).await??;
            println!("applied {} migration(s){}", applied.len(), if applied.is_empty() { "" } else { ":" });
            for version in applied {
                println!("  {version}");
            }
            Ok(())
        }
        Command::Demo(database) => {
            let db = migrated(&database).await?;
            let accounts = tokio::task::spawn_blocking(move || plenum::demo::seed(&db)).await??;
            let created = accounts.iter().filter(|a| a.created).count();
            println!("Demo body seeded: the Kimberley Process in 2007 ({created} new account(s)).");
            println!("Every demo account's password is: {}", plenum::demo::DEMO_PASSWORD);
            for a in &accounts {
                let role = if a.admin {
                    "secretariat administrator".to_string()
                } else {
                    format!("{:?}", a.kind).to_lowercase()
                };
                println!("  {:<40} {:<24} {} ({role})", a.email, a.name, a.organisation);
            }
            Ok(())
        }
        Command::Backup { path, force, database } => {
            let url = database.url.expose().to_string();
            let report = tokio::task::spawn_blocking(move || plenum::db::backup::backup(&url, &path, force)).await??;
            println!("backup written: {} ({} bytes)", report.path.display(), report.bytes);
            Ok(())
        }
        Command::Restore { path, database } => {
            let url = database.url.expose().to_string();
            let shown = path.clone();
            let report = tokio::task::spawn_blocking(move || plenum::db::backup::restore(&url, &path)).await??;
            println!(
                "restored {} into {} ({} migration(s) recorded)",
                shown.display(),
                database.redacted_url(),
                report.applied
            );
            if !report.pending.is_empty() {
                println!("the next `plenum serve` (or `plenum migrate`) applies {}:", report.pending.len());
                for version in report.pending {
                    println!("  {version}");
                }
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Create { email, name, organisation, database }) => {
            let password = read_password()?;
            let db = migrated(&database).await?;
            let id = tokio::task::spawn_blocking(move || {
                plenum::accounts::admin::create_admin(&db, &email, &name, &organisation, &password)
            })
            .await??;
            println!("administrator created (user {id})");
            Ok(())
        }
    }
}

async fn migrated(database: &DatabaseConfig) -> anyhow::Result<Db> {
    let db = Db::connect_lazy(database)?;
    let migrator = db.clone();
    tokio::task::spawn_blocking(move || migrator.migrate()).await??;
    Ok(db)
}

/// Reads a password from the terminal (twice, without echo) or from one line of standard input.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
