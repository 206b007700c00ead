//! Configuration: command-line flags with `PLENUM_…` environment fallbacks.
//!
//! Every value has a sane default so `plenum serve` runs with no configuration at all.
//! Secrets (database passwords, SMTP credentials) are wrapped in [`Secret`] so they never
//! reach a log line or `Debug` output.

use std::fmt;
use std::net::IpAddr;
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
    /// Largest accepted document upload (an agenda item's attachment), in bytes.
    #[arg(long = "upload-limit", env = "PLENUM_UPLOAD_LIMIT", default_value_t = 20 * 1024 * 1024)]
    pub upload_limit: usize,
    /// Worker threads for HTTP (0 = one per core).
    #[arg(long, env = "PLENUM_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Seconds that in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long = "shutdown-timeout", env = "PLENUM_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// Proxies (load balancers) whose `X-Forwarded-For` is believed, as comma-separated IP
    /// addresses or CIDR ranges; empty (the default): the TCP peer is the client.
    #[arg(long = "trusted-proxies", env = "PLENUM_TRUSTED_PROXIES", default_value = "", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: TrustedProxies,
    /// A separate address (e.g. `127.0.0.1:9090`) that serves `GET /metrics`. Unset: `/metrics` is
    /// served on the main address only with `--metrics-token`, and answers 404 there otherwise.
    #[arg(long = "metrics-bind", env = "PLENUM_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// A bearer token that `GET /metrics` requires (`Authorization: Bearer …`); it also lets the
    /// main address serve `/metrics`.
    #[arg(long = "metrics-token", env = "PLENUM_METRICS_TOKEN", value_parser = parse_secret, hide_env_values = true)]
    pub metrics_token: Option<Secret>,
    /// How adopted decisions are numbered, per body and year: `{year}`, `{seq}`, `{seq:02}`,
    /// `{body}` (the body's short name) are replaced.
    #[arg(
        long = "decision-number-format",
        env = "PLENUM_DECISION_NUMBER_FORMAT",
        default_value = "AD {year}/{seq:02}"
    )]
    pub decision_number_format: String,
    /// Hours before a written procedure's deadline when the reminder is mailed.
    #[arg(
        long = "written-procedure-reminder-hours",
        env = "PLENUM_WRITTEN_PROCEDURE_REMINDER_HOURS",
        default_value_t = 48
    )]
    pub reminder_hours: i64,
    /// Days before a convened meeting when each participant addressed by the body's
    /// recommendations is mailed its open and overdue ones.
    #[arg(long = "digest-lead-days", env = "PLENUM_DIGEST_LEAD_DAYS", default_value_t = 14)]
    pub digest_lead_days: i64,
    /// Seconds between runs of the scheduled work (chair successions, handover notices,
    /// missing-successor warnings); 0 turns the scheduler off on this instance.
    #[arg(long = "scheduler-secs", env = "PLENUM_SCHEDULER_SECS", default_value_t = 60)]
    pub scheduler_secs: u64,
    /// Milliseconds a rendered agenda may be answered from this instance's memory before the
    /// database is asked again, when no change was announced (every change is, at once, on this
    /// instance and by `NOTIFY` on the others); 0 reads every agenda from the database.
    #[arg(long = "agenda-cache-ms", env = "PLENUM_AGENDA_CACHE_MS", default_value_t = 1000)]
    pub agenda_cache_ms: u64,
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub accounts: AccountsConfig,
    #[command(flatten)]
    pub mail: MailConfig,
    #[command(flatten)]
    pub drafting: DraftingConfig,
}

/// Live drafting: websocket limits, room lifecycle and log compaction.
#[derive(Args, Clone, Debug)]
pub struct DraftingConfig {
    /// Largest websocket message accepted from a client, in bytes (larger: the connection is closed
    /// with 1009 and nothing is applied).
    #[arg(long = "ws-max-message-bytes", env = "PLENUM_WS_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Messages that may wait for one connection; a client that falls further behind is closed
    /// (code 4000) and resyncs when it reconnects.
    #[arg(long = "ws-queue", env = "PLENUM_WS_QUEUE", default_value_t = 2048)]
    pub queue: usize,
    /// Seconds between heartbeat pings.
    #[arg(long = "ws-heartbeat-secs", env = "PLENUM_WS_HEARTBEAT_SECS", default_value_t = 15)]
    pub heartbeat_secs: u64,
    /// Seconds of silence (no message, no pong) after which a connection is dropped.
    #[arg(long = "ws-timeout-secs", env = "PLENUM_WS_TIMEOUT_SECS", default_value_t = 45)]
    pub silence_timeout_secs: u64,
    /// Awareness (presence) messages a connection may send per second; more are dropped.
    #[arg(long = "ws-awareness-per-sec", env = "PLENUM_WS_AWARENESS_PER_SEC", default_value_t = 30)]
    pub awareness_per_sec: u32,
    /// Seconds a draft's document stays in memory after its last connection left.
    #[arg(long = "room-idle-secs", env = "PLENUM_ROOM_IDLE_SECS", default_value_t = 120)]
    pub room_idle_secs: u64,
    /// Fold a draft's update log into a snapshot once it holds this many updates.
    #[arg(long = "compact-after", env = "PLENUM_COMPACT_AFTER", default_value_t = 5000)]
    pub compact_after: usize,
    /// Bytes of updates one connection may have waiting for content they depend on (a client
    /// that edited offline sends such updates while it resyncs); more: closed with 1002.
    #[arg(long = "ws-hold-bytes", env = "PLENUM_WS_HOLD_BYTES", default_value_t = 1024 * 1024)]
    pub hold_bytes: usize,
    /// Seconds such updates may wait; longer: their connection is closed with 1002 and resyncs.
    #[arg(long = "ws-hold-secs", env = "PLENUM_WS_HOLD_SECS", default_value_t = 10)]
    pub hold_secs: u64,
    /// Seconds between a loaded draft's checks for updates other instances stored (PostgreSQL),
    /// in case a notification was lost.
    #[arg(long = "room-poll-secs", env = "PLENUM_ROOM_POLL_SECS", default_value_t = 5)]
    pub room_poll_secs: u64,
    /// Largest presence (awareness) state of one client, in bytes; larger ones are refused.
    #[arg(long = "ws-presence-bytes", env = "PLENUM_WS_PRESENCE_BYTES", default_value_t = 4096)]
    pub presence_bytes: usize,
    /// Websocket connections one user may have open at once (all drafts); more: 429.
    #[arg(long = "ws-max-connections-per-user", env = "PLENUM_WS_MAX_CONNECTIONS_PER_USER", default_value_t = 20)]
    pub max_connections_per_user: usize,
}

impl Default for DraftingConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 4 * 1024 * 1024,
            queue: 2048,
            heartbeat_secs: 15,
            silence_timeout_secs: 45,
            awareness_per_sec: 30,
            room_idle_secs: 120,
            compact_after: 5000,
            hold_bytes: 1024 * 1024,
            hold_secs: 10,
            room_poll_secs: 5,
            presence_bytes: 4096,
            max_connections_per_user: 20,
        }
    }
}

/// Sessions, single-use links and sign-in throttling.
#[derive(Args, Clone, Debug)]
pub struct AccountsConfig {
    /// A session ends after this many minutes without a request.
    #[arg(long = "session-idle-minutes", env = "PLENUM_SESSION_IDLE_MINUTES", default_value_t = 24 * 60)]
    pub session_idle_minutes: i64,
    /// A session ends this many hours after sign-in, however active.
    #[arg(long = "session-max-hours", env = "PLENUM_SESSION_MAX_HOURS", default_value_t = 14 * 24)]
    pub session_max_hours: i64,
    /// Hours an invitation link stays valid.
    #[arg(long = "invitation-hours", env = "PLENUM_INVITATION_HOURS", default_value_t = 7 * 24)]
    pub invitation_hours: i64,
    /// Minutes a password-reset link stays valid.
    #[arg(long = "reset-minutes", env = "PLENUM_RESET_MINUTES", default_value_t = 60)]
    pub reset_minutes: i64,
    /// Failed sign-ins allowed per account from one client address within the throttle window
    /// (the same account from another address is not affected).
    #[arg(long = "login-max-failures", env = "PLENUM_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: usize,
    /// Failed sign-ins allowed per client address within the throttle window.
    #[arg(
        long = "login-max-failures-per-address",
        env = "PLENUM_LOGIN_MAX_FAILURES_PER_ADDRESS",
        default_value_t = 30
    )]
    pub login_max_failures_per_address: usize,
    /// The throttle window in seconds: failures older than this are forgotten, so nobody is kept
    /// out for longer.
    #[arg(long = "login-window-secs", env = "PLENUM_LOGIN_WINDOW_SECS", default_value_t = 15 * 60)]
    pub login_window_secs: u64,
    /// Password-reset mails sent at most per email address within `--reset-mail-window-minutes`;
    /// further requests are answered 202 like any other, and send nothing.
    #[arg(long = "reset-mail-max", env = "PLENUM_RESET_MAIL_MAX", default_value_t = 3)]
    pub reset_mail_max: i64,
    /// The window of `--reset-mail-max`, in minutes.
    #[arg(long = "reset-mail-window-minutes", env = "PLENUM_RESET_MAIL_WINDOW_MINUTES", default_value_t = 15)]
    pub reset_mail_window_minutes: i64,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 24 * 60,
            session_max_hours: 14 * 24,
            invitation_hours: 7 * 24,
            reset_minutes: 60,
            login_max_failures: 5,
            login_max_failures_per_address: 30,
            login_window_secs: 15 * 60,
            reset_mail_max: 3,
            reset_mail_window_minutes: 15,
        }
    }
}

/// How outgoing mail leaves.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// A real SMTP server (production).
    Smtp,
    /// `.eml` files in `--mail-dir` (the demo default).
    File,
    /// Kept in memory (tests).
    Memory,
}

/// SMTP connection security.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (only for a local relay).
    None,
    /// Upgrade with STARTTLS (port 587).
    Starttls,
    /// TLS from the start (port 465).
    Tls,
}

/// Outgoing mail: invitations, password resets, notices.
#[derive(Args, Clone, Debug)]
pub struct MailConfig {
    /// Where mail goes.
    #[arg(long = "mail-transport", env = "PLENUM_MAIL_TRANSPORT", value_enum, default_value_t = MailTransport::File)]
    pub transport: MailTransport,
    /// Folder for `--mail-transport file`.
    #[arg(long = "mail-dir", env = "PLENUM_MAIL_DIR", default_value = "mail")]
    pub dir: String,
    /// The sender address.
    #[arg(long = "mail-from", env = "PLENUM_MAIL_FROM", default_value = "Plenum <plenum@localhost>")]
    pub from: String,
    /// The body's name, used in mail (e.g. "Kimberley Process").
    #[arg(long = "body-name", env = "PLENUM_BODY_NAME", default_value = "Plenum")]
    pub body_name: String,
    /// SMTP server host.
    #[arg(long = "smtp-host", env = "PLENUM_SMTP_HOST", default_value = "localhost")]
    pub smtp_host: String,
    /// SMTP server port.
    #[arg(long = "smtp-port", env = "PLENUM_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// SMTP connection security.
    #[arg(long = "smtp-security", env = "PLENUM_SMTP_SECURITY", value_enum, default_value_t = SmtpSecurity::Starttls)]
    pub smtp_security: SmtpSecurity,
    /// SMTP user name (none: no authentication).
    #[arg(long = "smtp-username", env = "PLENUM_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// SMTP password.
    #[arg(long = "smtp-password", env = "PLENUM_SMTP_PASSWORD", value_parser = parse_secret, hide_env_values = true)]
    pub smtp_password: Option<Secret>,
    /// First retry delay, in seconds, after a failed delivery; it doubles each time.
    #[arg(long = "mail-retry-secs", env = "PLENUM_MAIL_RETRY_SECS", default_value_t = 5)]
    pub retry_secs: u64,
    /// Longest delay between two delivery attempts, in seconds.
    #[arg(long = "mail-retry-max-secs", env = "PLENUM_MAIL_RETRY_MAX_SECS", default_value_t = 300)]
    pub retry_max_secs: u64,
}

impl MailConfig {
    /// In-memory mail, for tests.
    pub fn memory() -> Self {
        Self {
            transport: MailTransport::Memory,
            dir: "mail".into(),
            from: "Plenum <plenum@example.org>".into(),
            body_name: "Plenum".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_security: SmtpSecurity::None,
            smtp_username: None,
            smtp_password: None,
            retry_secs: 1,
            retry_max_secs: 2,
        }
    }
}

impl ServerConfig {
    /// A configuration with defaults for everything but the database, binding a random port.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            public_url: "http://127.0.0.1".into(),
            body_limit: 64 * 1024,
            upload_limit: 1024 * 1024,
            workers: 2,
            shutdown_timeout: 5,
            trusted_proxies: TrustedProxies::default(),
            metrics_bind: None,
            metrics_token: None,
            // Tests run the scheduler themselves (`scheduler::run_once`) at the instants they set.
            scheduler_secs: 0,
            agenda_cache_ms: 1000,
            decision_number_format: "AD {year}/{seq:02}".into(),
            reminder_hours: 48,
            digest_lead_days: 14,
            database: DatabaseConfig::for_url(database_url),
            accounts: AccountsConfig::default(),
            mail: MailConfig::memory(),
            drafting: DraftingConfig::default(),
        }
    }

    /// Whether the public URL is served over TLS (cookies then carry `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The proxies whose `X-Forwarded-For` header is believed: IP addresses and CIDR ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpRange>);

/// One address range: a network address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IpRange {
    network: IpAddr,
    prefix: u32,
}

impl IpRange {
    fn parse(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| format!("{s:?} is not an IP address or CIDR range"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {bits}"))?,
            None => bits,
        };
        Ok(Self { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        fn masked(value: u128, bits: u32, prefix: u32) -> u128 {
            if prefix == 0 { 0 } else { value >> (bits - prefix) }
        }
        // An IPv4 client seen through an IPv6 socket is `::ffff:a.b.c.d`.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix) == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix) == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

impl TrustedProxies {
    /// Parses a comma-separated list of IP addresses and CIDR ranges (empty items are ignored).
    pub fn parse(s: &str) -> Result<Self, String> {
        s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(IpRange::parse).collect::<Result<_, _>>().map(Self)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|r| r.contains(ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_match_addresses_and_ranges() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1,,fd00::/8 ").expect("parses");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(t.contains(ip("10.1.2.3")) && t.contains(ip("127.0.0.1")) && t.contains(ip("fd12::1")));
        assert!(t.contains(ip("::ffff:10.9.9.9")));
        assert!(!t.contains(ip("11.0.0.1")) && !t.contains(ip("127.0.0.2")) && !t.contains(ip("fe80::1")));
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        assert!(TrustedProxies::parse("0.0.0.0/0").expect("all").contains(ip("8.8.8.8")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
    }

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
