//! Configuration: command-line flags with `PLENUM_…` environment fallbacks.
//!
//! Every value has a sane default so `plenum serve` runs with no configuration at all.
//! Secrets (database passwords, SMTP credentials) are wrapped in [`Secret`] so they never
//! reach a log line or `Debug` output.

use std::fmt;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// A value that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// Where the data lives. The URL may carry a password, so it is a [`Secret`];
/// [`DatabaseConfig::redacted_url`] is the form that may be logged.
#[derive(Args, Clone, Debug)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://plenum.db` (file created if missing) or `postgres://user@host/db`.
    #[arg(long = "database-url", env = "PLENUM_DATABASE_URL", default_value = "sqlite://plenum.db",
          value_parser = parse_secret, hide_env_values = true)]
    pub url: Secret,
    /// Maximum number of pooled database connections.
    #[arg(long = "database-pool-size", env = "PLENUM_DATABASE_POOL_SIZE", default_value_t = 10)]
    pub pool_size: u32,
    /// How long a request waits for a database connection before failing, in seconds.
    #[arg(long = "database-timeout", env = "PLENUM_DATABASE_TIMEOUT", default_value_t = 5)]
    pub timeout_secs: u64,
}

fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

impl DatabaseConfig {
    /// A configuration for the given URL with default pool settings.
    pub fn for_url(url: impl Into<String>) -> Self {
        Self { url: Secret::new(url), pool_size: 10, timeout_secs: 5 }
    }

    /// The URL with any password replaced by `***`, safe to log.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose())
    }

    /// The pool's checkout timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}

/// Replaces the password of a URL (if any) with `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Log output format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logging options, shared by every command.
#[derive(Args, Clone, Debug)]
pub struct LogConfig {
    /// Log filter, e.g. `info` or `plenum=debug,actix_web=info`.
    #[arg(long = "log-level", env = "PLENUM_LOG", default_value = "info", global = true)]
    pub level: String,
    /// Log format.
    #[arg(long = "log-format", env = "PLENUM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub format: LogFormat,
}

/// Everything `plenum serve` needs.
#[derive(Args, Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port (the bound address is logged).
    #[arg(long, env = "PLENUM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// The URL people use to reach this server, used for links in mail and for cookie security.
    #[arg(long = "public-url", env = "PLENUM_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
    /// Largest accepted JSON request body, in bytes.
    #[arg(long = "body-limit", env = "PLENUM_BODY_LIMIT", default_value_t = 256 * 1024)]
    pub body_limit: usize,
    /// Worker threads for HTTP (0 = one per core).
    #[arg(long, env = "PLENUM_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Seconds that in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long = "shutdown-timeout", env = "PLENUM_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    #[command(flatten)]
    pub database: DatabaseConfig,
}

impl ServerConfig {
    /// A configuration with defaults for everything but the database, binding a random port.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            public_url: "http://127.0.0.1".into(),
            body_limit: 64 * 1024,
            workers: 2,
            shutdown_timeout: 5,
            database: DatabaseConfig::for_url(database_url),
        }
    }

    /// Whether the public URL is served over TLS (cookies then carry `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let db = DatabaseConfig::for_url("postgres://plenum:hunter2@db/plenum");
        let shown = format!("{db:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(db.redacted_url(), "postgres://plenum:***@db/plenum");
    }

    #[test]
    fn urls_without_password_are_kept() {
        assert_eq!(redact_url("sqlite://plenum.db"), "sqlite://plenum.db");
        assert_eq!(redact_url("postgres://root@127.0.0.1/test"), "postgres://root@127.0.0.1/test");
    }
}
