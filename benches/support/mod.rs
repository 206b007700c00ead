//! What the benches share: the server started as its own process (`$PLENUM_BIN`, or the
//! release `plenum` that `cargo bench` builds), readings of a process from `/proc`, the demo's
//! sign-in, and command-line options. Each bench takes it with `mod support;`.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Every demo account's password.
pub const PASSWORD: &str = "kimberley-2007";

/// The value after `name` on the command line, parsed.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

/// The value after `name`, or `default`.
pub fn num<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    arg(args, name).unwrap_or(default)
}

/// The server binary: `$PLENUM_BIN`, or the one this bench was built with.
pub fn bin() -> String {
    std::env::var("PLENUM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_plenum").into())
}

/// CPU seconds (user + system) of a process (`"self"` for this one), from `/proc/PID/stat`.
pub fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A `/proc/PID/status` field in KiB (`VmRSS:`, `VmHWM:`, …).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `bin args` through `sh` with the soft descriptor limit raised to the hard one.
pub fn raised_limit(bin: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#, bin]);
    cmd
}

pub fn free_port() -> Result<u16, AnyError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How to start the server.
#[derive(Default)]
pub struct Options {
    /// `None`: a fresh SQLite file in the server's temporary directory.
    pub database_url: Option<String>,
    /// Run `plenum demo` on the database first.
    pub demo: bool,
    /// Serve metrics on a port of their own (`Server::metrics`).
    pub metrics: bool,
    /// Raise the server's descriptor limit (thousands of sockets).
    pub many_sockets: bool,
    /// More `serve` arguments.
    pub args: Vec<String>,
}

/// A running server process, killed when dropped.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Where `GET /metrics` answers (`Options::metrics`).
    pub metrics: Option<String>,
    /// The database it serves.
    pub database_url: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `plenum serve` (scheduler, mail to a directory, warnings only) and waits until
    /// `/readyz` answers 200.
    pub async fn start(opts: Options) -> Result<Server, AnyError> {
        let bin = bin();
        let dir = tempfile::tempdir()?;
        let database_url =
            opts.database_url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
        if opts.demo {
            let seeded =
                Command::new(&bin).args(["demo", "--database-url", &database_url]).stdout(Stdio::null()).status()?;
            if !seeded.success() {
                return Err(format!("{bin} demo failed").into());
            }
        }
        let addr = format!("127.0.0.1:{}", free_port()?);
        let mut cmd = if opts.many_sockets { raised_limit(&bin) } else { Command::new(&bin) };
        // Benches sign many clients in as a few demo accounts: lift the per-user cap.
        cmd.env("PLENUM_WS_MAX_CONNECTIONS_PER_USER", "1000000")
            .args(["serve", "--database-url", &database_url, "--bind", &addr, "--log-level", "warn"])
            .args(["--mail-dir", &dir.path().join("mail").display().to_string()])
            .args(&opts.args)
            .stdout(Stdio::null());
        let metrics = if opts.metrics {
            let at = format!("127.0.0.1:{}", free_port()?);
            cmd.args(["--metrics-bind", &at]);
            Some(at)
        } else {
            None
        };
        let child = cmd.spawn()?;
        let server = Server { child, base: format!("http://{addr}"), addr, metrics, database_url, dir };
        wait_ready(&format!("{}/readyz", server.base)).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn mem_kib(&self, field: &str) -> u64 {
        status_kib(self.pid(), field)
    }

    pub fn rss_kib(&self) -> u64 {
        self.mem_kib("VmRSS:")
    }

    pub fn cpu(&self) -> f64 {
        cpu_secs(&self.pid().to_string())
    }

    /// Open file descriptors.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map(|d| d.count()).unwrap_or(0)
    }
}

/// Waits (at most 20 s) until `url` answers 200.
pub async fn wait_ready(url: &str) -> Result<(), AnyError> {
    for _ in 0..400 {
        if reqwest::get(url).await.is_ok_and(|r| r.status() == 200) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{url} did not answer 200").into())
}

/// Signs in as a demo account; its session token.
pub async fn login(base: &str, email: &str) -> Result<String, AnyError> {
    login_with(&reqwest::Client::new(), base, email).await
}

/// [`login`] on a client of the caller's (its connections reused).
pub async fn login_with(http: &reqwest::Client, base: &str, email: &str) -> Result<String, AnyError> {
    let res = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    if !res.status().is_success() {
        return Err(format!("sign-in as {email}: {}", res.status()).into());
    }
    let body: serde_json::Value = res.json().await?;
    Ok(body["token"].as_str().ok_or("no token")?.to_string())
}

/// A new draft; its id.
pub async fn new_draft(base: &str, token: &str, title: &str) -> Result<i64, AnyError> {
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/drafts"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "title": title }))
        .send()
        .await?
        .json()
        .await?;
    Ok(res["id"].as_i64().ok_or("no draft id")?)
}
