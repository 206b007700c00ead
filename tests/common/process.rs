//! The real binary as its own process, for the tests that stop, kill or restart it, or start a
//! second one beside it: `plenum serve` started and waited for, its log drained.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `plenum` binary this test crate was built with.
pub fn plenum() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plenum"))
}

/// A running `plenum serve`, killed (SIGKILL) when dropped.
pub struct Served {
    pub child: Child,
    /// The address it logged that it listens on (`127.0.0.1:PORT`).
    pub addr: String,
    /// What it logged before it listened.
    pub startup: Vec<String>,
    /// Warnings and errors it logged after, shown when a check fails.
    complaints: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Starts `plenum serve --database-url url --bind 127.0.0.1:0 --log-format json`, with what
    /// `configure` adds (arguments, environment, working directory), and waits until it logs
    /// that it listens. Panics, with what it logged, if it exits first.
    pub fn start(url: &str, configure: impl FnOnce(&mut Command)) -> Served {
        let mut cmd = plenum();
        cmd.args(["serve", "--database-url", url, "--bind", "127.0.0.1:0", "--log-format", "json"]);
        configure(&mut cmd);
        let mut child = cmd.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().expect("spawn plenum serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut startup = Vec::new();
        let addr = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => panic!("plenum serve exited before listening: {startup:#?}"),
            };
            let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            startup.push(line);
            if entry["message"] == "listening" {
                break entry["address"].as_str().expect("address logged").to_string();
            }
        };
        let complaints = Arc::new(Mutex::new(Vec::new()));
        let sink = complaints.clone();
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("\"WARN\"") || line.contains("\"ERROR\"") {
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                }
            }
        });
        Served { child, addr, startup, complaints }
    }

    /// `http://ADDR`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// Sends SIGTERM (a graceful stop).
    pub fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success(), "kill -TERM");
    }

    /// Its exit status once it has exited, within `limit`; panics if it is still running then.
    pub fn exited_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server still runs after {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A graceful stop: SIGTERM, then exit status 0 within 20 s.
    pub fn stop(mut self) {
        self.sigterm();
        let code = self.exited_within(Duration::from_secs(20));
        assert!(code.success(), "exit status {code}");
    }

    pub fn complaints(&self) -> Vec<String> {
        self.complaints.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
