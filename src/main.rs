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
    }
}
