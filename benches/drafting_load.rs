//! Live-drafting load generator, memory probes and trace benchmark. Prints figures; asserts
//! nothing about speed.
//!
//! ```sh
//! cargo bench --bench drafting_load -- load --clients 500 --typists 20 --rate 5 --secs 20
//! cargo bench --bench drafting_load -- load --target reference --clients 500
//! cargo bench --bench drafting_load -- compare --clients 500,2000,5000 --database-url postgres://postgres@127.0.0.1:5432/bench
//! cargo bench --bench drafting_load -- idle --sockets 1000 [--target reference]
//! cargo bench --bench drafting_load -- drafts --drafts 200
//! cargo bench --bench drafting_load -- trace ../shared/data/editing-traces/automerge-paper.json.gz
//! ```
//! The server runs as a separate process: the release `plenum` (or `$PLENUM_BIN`) on a fresh
//! SQLite database (or `--database-url postgres://HOST/DB`: the bench creates a fresh database
//! beside it with `psql` for each run, unless `--keep-db` says to use DB itself, which must be empty),
//! or with `--target reference` the reference Yjs server `@y/websocket-server@0.1.1` (documents in
//! memory only) from `benches/reference/` (`npm ci` there is run when `node_modules` is missing).
//! Both are started with their soft descriptor limit raised to the hard one.
//!
//! - `load`: N connections to one draft, K of them typing R edits/s each (phases spread over the
//!   period), all connected before the first edit. Each edit inserts a marker `#TTTTSSSSSSUUUUUUUUUUUU`
//!   (typist, sequence, microseconds since the start) and every other client finds it in the raw
//!   update bytes it receives, so measuring costs a byte scan, not a decode. Reports edit-to-receipt
//!   latency at every other client (p50/p99/max), how many edits reached every other client, the
//!   server's CPU (utime+stime over the typing window) and RSS, and the load tool's own CPU.
//! - `compare`: `load` for each N against the reference, Plenum on SQLite and (with
//!   `--database-url`) Plenum on PostgreSQL, back to back, one table.
//! - `idle`: 1,000 idle sockets on one draft; server RSS growth per socket.
//! - `drafts`: D drafts loaded, one socket each; server RSS growth per loaded draft.
//! - `trace`: every edit of a sequential trace as its own update through one socket, until a
//!   watching client has all of it and (Plenum) the server has stored all of it; next to yrs
//!   applying the same updates in-process (the limit).

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use plenum::realtime::socket;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::Message;
use yrs::sync::protocol::SyncMessage;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

mod support;

use support::{AnyError, Options, arg, cpu_secs, free_port, login, new_draft, num, raised_limit, wait_ready};

const REFERENCE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference");
const REFERENCE_VERSION: &str = "@y/websocket-server@0.1.1";

#[derive(Clone, Debug, PartialEq)]
enum Target {
    Plenum { database_url: Option<String> },
    Reference,
}

impl Target {
    fn from_args(args: &[String]) -> Self {
        if arg::<String>(args, "--target").as_deref() == Some("reference") || args.iter().any(|a| a == "--reference") {
            Target::Reference
        } else {
            Target::Plenum { database_url: arg(args, "--database-url") }
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Target::Reference => "reference (memory)",
            Target::Plenum { database_url: Some(u) } if u.starts_with("postgres") => "Plenum PostgreSQL",
            Target::Plenum { .. } => "Plenum SQLite",
        }
    }
}

/// A server under load: Plenum, or the reference.
struct Server {
    process: support::Server,
    /// Plenum: a writer's and a reader's session token.
    tokens: Option<(String, String)>,
    next_room: AtomicU64,
}

/// Raises this process's soft descriptor limit to the hard one (util-linux `prlimit`).
fn raise_own_limit() {
    let pid = std::process::id().to_string();
    let _ = Command::new("sh")
        .args(["-c", r#"h=$(ulimit -Hn); prlimit --pid "$0" --nofile="$h:$h""#, &pid])
        .stderr(Stdio::null())
        .status();
}

fn self_cpu_secs() -> f64 {
    cpu_secs("self")
}

impl Server {
    fn mem_kib(&self, field: &str) -> u64 {
        self.process.mem_kib(field)
    }

    fn rss_kib(&self) -> u64 {
        self.process.rss_kib()
    }

    fn cpu(&self) -> f64 {
        self.process.cpu()
    }

    async fn start(target: &Target) -> Result<Server, AnyError> {
        let process = match target {
            Target::Reference => {
                if !std::path::Path::new(REFERENCE_DIR).join("node_modules/@y/websocket-server").exists() {
                    let ok = Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund"])
                        .current_dir(REFERENCE_DIR)
                        .status()?;
                    if !ok.success() {
                        return Err(format!("npm ci in {REFERENCE_DIR} failed").into());
                    }
                }
                let port = free_port()?;
                let child = raised_limit("node")
                    .arg(format!("{REFERENCE_DIR}/node_modules/@y/websocket-server/src/server.js"))
                    .env("HOST", "127.0.0.1")
                    .env("PORT", port.to_string())
                    .stdout(Stdio::null())
                    .spawn()?;
                let addr = format!("127.0.0.1:{port}");
                let dir = tempfile::tempdir()?;
                let base = format!("http://{addr}");
                let process = support::Server { child, addr, base, metrics: None, database_url: String::new(), dir };
                wait_ready(&format!("{}/", process.base)).await?;
                process
            }
            Target::Plenum { database_url } => {
                support::Server::start(Options {
                    database_url: database_url.clone(),
                    demo: true,
                    many_sockets: true,
                    // The trace's watcher applies 260k updates: give it room (a full queue closes it, 4000).
                    args: vec!["--ws-queue".into(), "8192".into()],
                    ..Options::default()
                })
                .await?
            }
        };
        let tokens = match target {
            Target::Plenum { .. } => Some((
                login(&process.base, "kabo.molefe@bw.kp.example").await?,
                login(&process.base, "rafael.adler@wdc.kp.example").await?,
            )),
            Target::Reference => None,
        };
        Ok(Server { process, tokens, next_room: AtomicU64::new(1) })
    }

    /// A new document to type in: a new draft, or a new room name on the reference.
    async fn new_doc(&self) -> Result<i64, AnyError> {
        match &self.tokens {
            Some((writer, _)) => new_draft(&self.process.base, writer, "Load test").await,
            None => Ok(self.next_room.fetch_add(1, Ordering::Relaxed) as i64),
        }
    }

    fn ws_url(&self, doc: i64, writer: bool) -> String {
        let addr = &self.process.addr;
        match &self.tokens {
            Some((w, r)) => format!("ws://{addr}/api/drafts/{doc}/ws?token={}", if writer { w } else { r }),
            None => format!("ws://{addr}/bench-{doc}"),
        }
    }
}

async fn draft_text(base: &str, token: &str, id: i64) -> Result<String, AnyError> {
    let res: serde_json::Value =
        reqwest::Client::new().get(format!("{base}/api/drafts/{id}")).bearer_auth(token).send().await?.json().await?;
    Ok(res["text"].as_str().unwrap_or_default().to_string())
}

fn percentile_us(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx.min(sorted.len() - 1)]) / 1000.0
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens every URL with `open`, at most 64 handshakes in flight, each tried up to 5 times;
/// the connections in the order of `urls`.
async fn open_all<T, F, Fut>(urls: Vec<String>, open: F) -> Result<Vec<T>, AnyError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, AnyError>>,
{
    let open = &open;
    let results: Vec<Result<T, AnyError>> = futures_util::stream::iter(urls)
        .map(|url| async move {
            let mut attempt = 0;
            loop {
                match open(url.clone()).await {
                    Ok(conn) => return Ok(conn),
                    Err(e) if attempt == 4 => return Err(e),
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
                attempt += 1;
            }
        })
        .buffered(64)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Opens `urls` as tungstenite websockets ([`open_all`]).
async fn connect_all(urls: Vec<String>) -> Result<Vec<Ws>, AnyError> {
    open_all(urls, |url| async move { Ok(tokio_tungstenite::connect_async_with_config(&url, None, true).await?.0) })
        .await
}

/// The load's clients speak websocket on the bare TCP stream: the handshake by hand, then
/// frames parsed in place in one buffer per client. With tungstenite (a message allocated per
/// frame, the read and write halves behind a lock) the load tool needed more CPU than the server
/// from 2,000 clients on, so it measured itself as much as the server.
type RawWriter = Arc<tokio::sync::Mutex<tokio::net::tcp::OwnedWriteHalf>>;

/// Opens `url` (`ws://host:port/path?query`): returns the stream and what arrived after the
/// `101` head.
async fn raw_connect(url: &str) -> Result<(tokio::net::TcpStream, Vec<u8>), AnyError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("ws://").ok_or("a ws:// URL")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut got = Vec::with_capacity(1024);
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            if !got.starts_with(b"HTTP/1.1 101") {
                return Err(format!("{url}: {}", String::from_utf8_lossy(&got[..end])).into());
            }
            return Ok((stream, got.split_off(end + 4)));
        }
        if stream.read_buf(&mut got).await? == 0 {
            return Err(format!("{url}: closed during the handshake").into());
        }
    }
}

/// [`raw_connect`] for every URL ([`open_all`]).
async fn raw_connect_all(urls: Vec<String>) -> Result<Vec<(tokio::net::TcpStream, Vec<u8>)>, AnyError> {
    open_all(urls, |url| async move { raw_connect(&url).await }).await
}

/// Sends one masked client frame.
async fn raw_send(writer: &RawWriter, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mask = (payload.len() as u32 ^ 0x5a3c_96e1).to_be_bytes();
    let mut frame = bytes::BytesMut::new();
    socket::put_frame(&mut frame, true, opcode, Some(mask), payload);
    writer.lock().await.write_all(&frame).await
}

/// The next whole server frame at the front of `buf`: `(opcode, payload range, frame length)`.
fn raw_frame(buf: &[u8]) -> Option<(u8, std::ops::Range<usize>, usize)> {
    let (&first, &second) = (buf.first()?, buf.get(1)?);
    let (header, len) = match second & 0x7F {
        126 => (4, usize::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?))),
        127 => (10, usize::try_from(u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?)).ok()?),
        n => (2, usize::from(n)),
    };
    (buf.len() >= header + len).then_some((first & 0x0F, header..header + len, header + len))
}

/// `#` + typist (4 digits) + sequence (6) + microseconds since the start (12).
const MARKER_LEN: usize = 23;

fn digits(bytes: &[u8]) -> Option<u64> {
    bytes.iter().try_fold(0u64, |n, b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

/// Finds the markers in a received sync update (y-protocols `[0, 2, …]`) without decoding it.
fn markers(data: &[u8], mut found: impl FnMut(usize, usize, u64)) {
    if data.len() < 3 || data[0] != 0 || data[1] != 2 {
        return;
    }
    let mut i = 2;
    while let Some(off) = data[i..].iter().position(|b| *b == b'#') {
        let at = i + off;
        if let Some(m) = data.get(at + 1..at + MARKER_LEN)
            && let (Some(t), Some(s), Some(us)) = (digits(&m[..4]), digits(&m[4..10]), digits(&m[10..]))
        {
            found(t as usize, s as usize, us);
            i = at + MARKER_LEN;
        } else {
            i = at + 1;
        }
    }
}

struct LoadResult {
    target: &'static str,
    n: usize,
    k: usize,
    connect_secs: f64,
    sent: u64,
    receipts: u64,
    expected: u64,
    fully_delivered: u64,
    p50: f64,
    p99: f64,
    max: f64,
    server_cpu: f64,
    tool_cpu: f64,
    window: f64,
    rss_idle_mib: u64,
    rss_peak_mib: u64,
    persisted: Option<usize>,
    closed: usize,
}

/// `load`: N connections on one document, K typists at R edits/s for S seconds.
async fn run_load(target: &Target, n: usize, k: usize, rate: f64, secs: f64) -> Result<LoadResult, AnyError> {
    let server = Server::start(target).await?;
    let doc_id = server.new_doc().await?;
    let k = k.min(n);
    let urls: Vec<String> = (0..n).map(|i| server.ws_url(doc_id, i < k)).collect();
    let connect_started = Instant::now();
    let sockets = raw_connect_all(urls).await?;
    let connect_secs = connect_started.elapsed().as_secs_f64();
    let per_typist = (rate * secs).ceil() as usize + 1;
    // How many clients got each edit, per typist and sequence number.
    let counts: Arc<Vec<Vec<AtomicU32>>> =
        Arc::new((0..k).map(|_| (0..per_typist).map(|_| AtomicU32::new(0)).collect()).collect());
    let sent = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    // Let the joins settle (sync step 1/2 and presence) before the first edit.
    tokio::time::sleep(Duration::from_millis(500 + n as u64 / 5)).await;
    let rss_idle = server.rss_kib();
    let epoch = Instant::now() + Duration::from_millis(200);
    let period = Duration::from_secs_f64(1.0 / rate);
    let stop = epoch + Duration::from_secs_f64(secs);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    let mut idle_sinks = Vec::new();
    for (i, (stream, leftover)) in sockets.into_iter().enumerate() {
        let (mut rx, tx) = stream.into_split();
        let tx: RawWriter = Arc::new(tokio::sync::Mutex::new(tx));
        let pong = tx.clone();
        let counts_r = counts.clone();
        let closed_r = closed.clone();
        let mut stop_r = stop_rx.clone();
        readers.push(tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut lat: Vec<u32> = Vec::new();
            let mut buf = leftover;
            'reading: loop {
                let mut at = 0;
                while let Some((opcode, payload, len)) = raw_frame(&buf[at..]) {
                    let data = &buf[at..][payload];
                    match opcode {
                        socket::OP_BINARY => {
                            let now = epoch.elapsed().as_micros() as u64;
                            markers(data, |t, s, us| {
                                if t != i
                                    && let Some(c) = counts_r.get(t).and_then(|v| v.get(s))
                                {
                                    c.fetch_add(1, Ordering::Relaxed);
                                    lat.push(u32::try_from(now.saturating_sub(us)).unwrap_or(u32::MAX));
                                }
                            });
                        }
                        socket::OP_CLOSE => {
                            closed_r.fetch_add(1, Ordering::Relaxed);
                            break 'reading;
                        }
                        socket::OP_PING => {
                            let _ = raw_send(&pong, socket::OP_PONG, data).await;
                        }
                        _ => {}
                    }
                    at += len;
                }
                buf.drain(..at);
                if buf.capacity() - buf.len() < 4096 {
                    buf.reserve(16 * 1024);
                }
                let read = tokio::select! {
                    read = rx.read_buf(&mut buf) => read,
                    _ = stop_r.changed() => break,
                };
                if !matches!(read, Ok(n) if n > 0) {
                    closed_r.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
            lat
        }));
        if i >= k {
            idle_sinks.push(tx);
            continue;
        }
        let sent = sent.clone();
        writers.push(tokio::spawn(async move {
            let doc = Doc::new();
            let text = doc.get_or_insert_text("content");
            let sv = doc.transact().state_vector();
            let _ = raw_send(&tx, socket::OP_BINARY, &Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()).await;
            let first = epoch + period.mul_f64(i as f64 / k as f64);
            let mut tick = tokio::time::interval_at(first.into(), period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for seq in 0..per_typist {
                let at = tick.tick().await.into_std();
                if at >= stop {
                    break;
                }
                let us = epoch.elapsed().as_micros() as u64;
                let update = {
                    let mut txn = doc.transact_mut();
                    let len = text.len(&txn);
                    text.insert(&mut txn, len, &format!("#{i:04}{seq:06}{us:012}"));
                    txn.encode_update_v1()
                };
                let msg = Message::Sync(SyncMessage::Update(update)).encode_v1();
                if raw_send(&tx, socket::OP_BINARY, &msg).await.is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            tx
        }));
    }
    // The measured window: from the first edit until every edit reached every other client (or
    // 10 s after the last edit).
    tokio::time::sleep_until(epoch.into()).await;
    let (cpu0, tool0, t0) = (server.cpu(), self_cpu_secs(), Instant::now());
    let mut rss_peak = 0;
    let mut sinks = Vec::new();
    for w in writers {
        while !w.is_finished() {
            tokio::time::sleep(Duration::from_millis(250)).await;
            rss_peak = rss_peak.max(server.rss_kib());
        }
        sinks.push(w.await?);
    }
    let n_sent = sent.load(Ordering::Relaxed);
    let expected = n_sent * (n as u64 - 1);
    let total = || counts.iter().flatten().map(|c| u64::from(c.load(Ordering::Relaxed))).sum::<u64>();
    let drain_deadline = Instant::now() + Duration::from_secs(10);
    while total() < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        rss_peak = rss_peak.max(server.rss_kib());
    }
    let window = t0.elapsed().as_secs_f64();
    let (server_cpu, tool_cpu) = (server.cpu() - cpu0, self_cpu_secs() - tool0);
    rss_peak = rss_peak.max(server.rss_kib());
    let receipts = total();
    let fully = counts.iter().flatten().filter(|c| u64::from(c.load(Ordering::Relaxed)) >= n as u64 - 1).count() as u64;
    let persisted = match &server.tokens {
        Some((w, _)) => Some(draft_text(&server.process.base, w, doc_id).await?.matches('#').count()),
        None => None,
    };
    let _ = stop_tx.send(true);
    let mut lat: Vec<u32> = Vec::with_capacity(receipts as usize);
    for r in readers {
        lat.extend(r.await?);
    }
    drop((sinks, idle_sinks));
    lat.sort_unstable();
    Ok(LoadResult {
        target: target.label(),
        n,
        k,
        connect_secs,
        sent: n_sent,
        receipts,
        expected,
        fully_delivered: fully.min(n_sent),
        p50: percentile_us(&lat, 0.50),
        p99: percentile_us(&lat, 0.99),
        max: lat.last().map(|v| f64::from(*v) / 1000.0).unwrap_or(f64::NAN),
        server_cpu,
        tool_cpu,
        window,
        rss_idle_mib: rss_idle / 1024,
        rss_peak_mib: rss_peak / 1024,
        persisted,
        closed: closed.load(Ordering::Relaxed) as usize,
    })
}

impl LoadResult {
    fn print(&self, rate: f64, secs: f64) {
        println!("load: {}: N={} clients, K={} typists at R={rate} edits/s for {secs} s", self.target, self.n, self.k);
        println!("  connected in {:.1} s", self.connect_secs);
        println!(
            "  edits sent {}, receipts {} of {} expected ({:.3} %), edits that reached all {} others: {}",
            self.sent,
            self.receipts,
            self.expected,
            100.0 * self.receipts as f64 / self.expected.max(1) as f64,
            self.n - 1,
            self.fully_delivered
        );
        if let Some(p) = self.persisted {
            println!("  edits in the stored text: {p}");
        }
        println!("  edit-to-receipt latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", self.p50, self.p99, self.max);
        println!(
            "  CPU over the {:.1} s window: server {:.2} s ({:.0} % of a core), load tool {:.2} s ({:.0} %)",
            self.window,
            self.server_cpu,
            100.0 * self.server_cpu / self.window,
            self.tool_cpu,
            100.0 * self.tool_cpu / self.window
        );
        println!(
            "  server RSS: {} MiB connected and idle, {} MiB peak; connections closed by the server: {}",
            self.rss_idle_mib, self.rss_peak_mib, self.closed
        );
    }

    fn row(&self) -> String {
        format!(
            "| {} | {} | {:.1} / {:.1} / {:.0} ms | {}/{} ({:.2} %) | {:.0} % | {:.0} % | {} / {} MiB |",
            self.n,
            self.target,
            self.p50,
            self.p99,
            self.max,
            self.fully_delivered,
            self.sent,
            100.0 * self.receipts as f64 / self.expected.max(1) as f64,
            100.0 * self.server_cpu / self.window,
            100.0 * self.tool_cpu / self.window,
            self.rss_idle_mib,
            self.rss_peak_mib
        )
    }
}

const TABLE_HEAD: &str = "| clients | server | p50 / p99 / max | edits at every other client (receipts) | server CPU | load tool CPU | server RSS idle / peak |\n|---|---|---|---|---|---|---|";

async fn load(args: &[String]) -> Result<(), AnyError> {
    let (n, k, rate, secs) =
        (num(args, "--clients", 100), num(args, "--typists", 20), num(args, "--rate", 5.0), num(args, "--secs", 20.0));
    let result = run_load(&database_for(args, "bench_load")?, n, k, rate, secs).await?;
    result.print(rate, secs);
    Ok(())
}

/// `compare`: the same load against the reference, Plenum SQLite and Plenum PostgreSQL (with
/// `--database-url`, an empty database per N: `NAME_N` is created and dropped by the bench).
async fn compare(args: &[String]) -> Result<(), AnyError> {
    let ns: Vec<usize> = arg::<String>(args, "--clients")
        .unwrap_or_else(|| "500,2000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let (k, rate, secs) = (num(args, "--typists", 20), num(args, "--rate", 5.0), num(args, "--secs", 20.0));
    let pg: Option<String> = arg(args, "--database-url");
    let mut rows = Vec::new();
    for &n in &ns {
        let mut targets = vec![Target::Reference, Target::Plenum { database_url: None }];
        if let Some(url) = &pg {
            targets.push(Target::Plenum { database_url: Some(fresh_pg(url, &format!("bench_load_{n}"))?) });
        }
        for target in targets {
            match run_load(&target, n, k, rate, secs).await {
                Ok(r) => {
                    r.print(rate, secs);
                    rows.push(r.row());
                }
                Err(e) => {
                    println!("load: {}: N={n}: failed: {e}", target.label());
                    rows.push(format!("| {n} | {} | failed: {e} | | | | |", target.label()));
                }
            }
        }
    }
    println!("\n{k} typists at {rate} edits/s for {secs} s, latency at every other client:\n{TABLE_HEAD}");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}

/// A fresh, empty PostgreSQL database named `name` next to the one `url` names (dropped first
/// if it exists); returns its URL. Uses `psql`.
fn fresh_pg(url: &str, name: &str) -> Result<String, AnyError> {
    let (server, _) = url.rsplit_once('/').ok_or("a PostgreSQL URL ends with /DATABASE")?;
    let admin = format!("{server}/postgres");
    for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
        let ok =
            Command::new("psql").args([&admin, "-qc", &sql]).stdout(Stdio::null()).stderr(Stdio::null()).status()?;
        if !ok.success() {
            return Err(format!("psql {admin} -c '{sql}' failed").into());
        }
    }
    Ok(format!("{server}/{name}"))
}

fn database_for(args: &[String], name: &str) -> Result<Target, AnyError> {
    Ok(match Target::from_args(args) {
        Target::Plenum { database_url: Some(url) }
            if url.starts_with("postgres") && !args.iter().any(|a| a == "--keep-db") =>
        {
            Target::Plenum { database_url: Some(fresh_pg(&url, name)?) }
        }
        t => t,
    })
}

/// Waits until the server's RSS stops moving (two samples 300 ms apart within 16 KiB), at most 5 s.
async fn settled_rss(server: &Server) -> u64 {
    let mut last = server.rss_kib();
    for _ in 0..16 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = server.rss_kib();
        if now.abs_diff(last) <= 16 {
            return now;
        }
        last = now;
    }
    last
}

/// Keeps reading a socket (answering pings) until told to stop.
fn keep_reading(ws: Ws, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (_tx, mut rx) = ws.split();
        loop {
            tokio::select! {
                frame = rx.next() => if !matches!(frame, Some(Ok(_))) { break },
                _ = stop.changed() => break,
            }
        }
    })
}

/// `idle`: S idle sockets on one draft; the server's RSS growth per socket.
async fn idle(args: &[String]) -> Result<(), AnyError> {
    let sockets: usize = num(args, "--sockets", 1000);
    let target = database_for(args, "bench_idle")?;
    let server = Server::start(&target).await?;
    let doc = server.new_doc().await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    // One socket first, so the draft's room is loaded before the baseline.
    let first = connect_all(vec![server.ws_url(doc, false)]).await?;
    let mut tasks: Vec<_> = first.into_iter().map(|ws| keep_reading(ws, stop.clone())).collect();
    // Two waves of `sockets`: the first also pays for what grows once (allocator arenas, the
    // database's caches, the runtime's buffers); the second is the cost of one more connection.
    let mut rss = vec![settled_rss(&server).await];
    for _ in 0..2 {
        let ws = connect_all((0..sockets).map(|_| server.ws_url(doc, false)).collect()).await?;
        tasks.extend(ws.into_iter().map(|ws| keep_reading(ws, stop.clone())));
        rss.push(settled_rss(&server).await);
    }
    let per = |i: usize| (rss[i + 1] as f64 - rss[i] as f64) / sockets as f64;
    println!(
        "idle: {}: {sockets} idle sockets on one draft, twice: server RSS {} → {} → {} MiB: {:.1} KiB per connection in the first wave, {:.1} KiB in the second (high-water mark {} MiB)",
        target.label(),
        rss[0] / 1024,
        rss[1] / 1024,
        rss[2] / 1024,
        per(0),
        per(1),
        server.mem_kib("VmHWM:") / 1024
    );
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// `drafts`: D drafts loaded, one socket each; the server's RSS growth per loaded draft.
async fn drafts(args: &[String]) -> Result<(), AnyError> {
    let d: usize = num(args, "--drafts", 200);
    let target = database_for(args, "bench_drafts")?;
    let server = Server::start(&target).await?;
    let mut docs = Vec::new();
    for _ in 0..=d {
        docs.push(server.new_doc().await?);
    }
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let first = connect_all(vec![server.ws_url(docs[0], true)]).await?;
    let mut tasks: Vec<_> = first.into_iter().map(|ws| keep_reading(ws, stop.clone())).collect();
    let before = settled_rss(&server).await;
    let ws = connect_all(docs[1..].iter().map(|doc| server.ws_url(*doc, true)).collect()).await?;
    tasks.extend(ws.into_iter().map(|ws| keep_reading(ws, stop.clone())));
    let after = settled_rss(&server).await;
    println!(
        "drafts: {}: {d} drafts loaded, one socket each: server RSS {} MiB before, {} MiB after: {:.1} KiB per loaded draft (its socket included)",
        target.label(),
        before / 1024,
        after / 1024,
        (after as f64 - before as f64) / d as f64
    );
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// The updates of a sequential trace, one per edit, as a client would produce them.
fn trace_updates(path: &str) -> Result<(Vec<Vec<u8>>, String), AnyError> {
    let mut raw = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut raw)?;
    let trace: serde_json::Value = serde_json::from_str(&raw)?;
    let end = trace["endContent"].as_str().ok_or("no endContent")?.to_string();
    let doc = Doc::new();
    let text = doc.get_or_insert_text("content");
    let mut updates = Vec::new();
    for txn in trace["txns"].as_array().ok_or("no txns")? {
        for patch in txn["patches"].as_array().ok_or("no patches")? {
            let pos = patch[0].as_u64().unwrap_or(0) as u32;
            let del = patch[1].as_u64().unwrap_or(0) as u32;
            let ins = patch[2].as_str().unwrap_or("");
            let mut t = doc.transact_mut();
            if del > 0 {
                text.remove_range(&mut t, pos, del);
            }
            if !ins.is_empty() {
                text.insert(&mut t, pos, ins);
            }
            updates.push(t.encode_update_v1());
        }
    }
    Ok((updates, end))
}

/// `trace`: every edit as its own update through one socket, until a watching client has all of
/// it and (Plenum) all of it is stored.
async fn trace(args: &[String]) -> Result<(), AnyError> {
    let flag_values: Vec<&String> = args.windows(2).filter(|w| w[0].starts_with("--")).map(|w| &w[1]).collect();
    let path =
        args.iter().skip(1).find(|a| !a.starts_with("--") && !flag_values.contains(a)).cloned().unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/editing-traces/automerge-paper.json.gz").into()
        });
    let (updates, end) = trace_updates(&path)?;
    let limit = {
        let started = Instant::now();
        let doc = Doc::new();
        let text = doc.get_or_insert_text("content");
        for u in &updates {
            doc.transact_mut().apply_update(Update::decode_v1(u)?)?;
        }
        let elapsed = started.elapsed();
        assert_eq!(text.get_string(&doc.transact()), end, "in-process replay differs from endContent");
        let snapshot = doc.transact().encode_state_as_update_v1(&StateVector::default()).len();
        (elapsed, snapshot)
    };
    let final_sv = {
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        for u in &updates {
            txn.apply_update(Update::decode_v1(u)?)?;
        }
        txn.state_vector()
    };
    let target = database_for(args, "bench_trace")?;
    let server = Server::start(&target).await?;
    let draft = server.new_doc().await?;
    let mut ws = connect_all(vec![server.ws_url(draft, true), server.ws_url(draft, false)]).await?;
    let watcher = ws.pop().ok_or("no watcher")?;
    let (mut tx, mut rx) = ws.pop().ok_or("no socket")?.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    // The watcher applies what it receives, like a stock client, and notes when it has it all.
    let want = end.clone();
    let watch = tokio::spawn(async move {
        let (mut wtx, mut wrx) = watcher.split();
        // As a stock client does on open: ask for the state, so that what was broadcast before
        // this socket joined the room (the upload may start first) comes in the answer.
        let step1 = Message::Sync(SyncMessage::SyncStep1(yrs::StateVector::default())).encode_v1();
        wtx.send(WsMessage::Binary(step1.into())).await.map_err(|e| format!("the watcher's sync step 1: {e}"))?;
        let doc = Doc::new();
        let text = doc.get_or_insert_text("content");
        let (mut last, mut gap, mut frames) = (Instant::now(), Duration::ZERO, 0u64);
        let mut first_pending: Option<String> = None;
        while let Some(frame) = wrx.next().await {
            gap = gap.max(last.elapsed());
            last = Instant::now();
            frames += 1;
            let data = match frame {
                Ok(WsMessage::Binary(data)) => data,
                Ok(WsMessage::Close(reason)) => return Err(format!("the server closed the watcher: {reason:?}")),
                Ok(_) => continue,
                Err(e) => {
                    return Err(format!(
                        "the watcher's socket failed after {frames} frames (longest wait {gap:?}, first update it could not apply yet: {first_pending:?}): {e}"
                    ));
                }
            };
            if let Ok(Message::Sync(SyncMessage::Update(u) | SyncMessage::SyncStep2(u))) = Message::decode_v1(&data)
                && let Ok(update) = Update::decode_v1(&u)
            {
                let mut txn = doc.transact_mut();
                let before = txn.state_vector();
                let _ = txn.apply_update(update);
                if first_pending.is_none() && txn.store().pending_update().is_some() {
                    first_pending = Some(format!("frame {frames}: {} bytes, doc had {before:?}", u.len()));
                }
                if txn.state_vector() == final_sv && text.get_string(&txn) == want {
                    return Ok(Instant::now());
                }
            }
        }
        Err("the watcher's socket ended without a close frame".to_string())
    });
    let started = Instant::now();
    let (cpu0, tool0) = (server.cpu(), self_cpu_secs());
    for u in &updates {
        tx.send(WsMessage::Binary(Message::Sync(SyncMessage::Update(u.clone())).encode_v1().into())).await?;
    }
    let sent = started.elapsed();
    let watched = tokio::time::timeout(Duration::from_secs(600), watch)
        .await??
        .map_err(|e| format!("the watcher stopped: {e}"))?;
    let watched = watched.duration_since(started);
    let stored = match &server.tokens {
        Some((token, _)) => loop {
            if draft_text(&server.process.base, token, draft).await? == end {
                break Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        },
        None => None,
    };
    let (server_cpu, tool_cpu) = (server.cpu() - cpu0, self_cpu_secs() - tool0);
    drain.abort();
    let l = limit.0.as_secs_f64();
    println!("trace: {}: {path}", target.label());
    println!("  {} updates, final text {} chars", updates.len(), end.chars().count());
    println!("  yrs in-process apply (the limit): {l:.3} s; state snapshot {} kB", limit.1 / 1024);
    println!(
        "  through one socket: all sent after {:.2} s; the watching client had all of it after {:.2} s ({:.1}x the limit)",
        sent.as_secs_f64(),
        watched.as_secs_f64(),
        watched.as_secs_f64() / l
    );
    if let Some(stored) = stored {
        println!(
            "  all stored (GET shows the whole text) after {:.2} s ({:.1}x; {:.0} updates/s)",
            stored.as_secs_f64(),
            stored.as_secs_f64() / l,
            updates.len() as f64 / stored.as_secs_f64()
        );
    }
    println!("  CPU: server {server_cpu:.2} s, load tool {tool_cpu:.2} s");
    println!("  server RSS {} MiB, high-water mark {} MiB", server.rss_kib() / 1024, server.mem_kib("VmHWM:") / 1024);
    Ok(())
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    raise_own_limit();
    let threads = num(&args, "--threads", 2usize);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    match args.first().map(String::as_str) {
        Some("load") => rt.block_on(load(&args)),
        Some("compare") => rt.block_on(compare(&args)),
        Some("idle") => rt.block_on(idle(&args)),
        Some("drafts") => rt.block_on(drafts(&args)),
        Some("trace") => rt.block_on(trace(&args)),
        _ => {
            println!(
                "usage: cargo bench --bench drafting_load -- MODE [--target plenum|reference] [--database-url URL] [--threads T]"
            );
            println!("  load    [--clients N] [--typists K] [--rate R] [--secs S]");
            println!(
                "  compare [--clients 500,2000,5000] [--typists K] [--rate R] [--secs S] [--database-url postgres://…/any]"
            );
            println!("  idle    [--sockets 1000]");
            println!("  drafts  [--drafts 200]");
            println!("  trace   [PATH.json.gz]");
            println!("With a PostgreSQL URL, the bench makes a fresh database beside it for each run (psql).");
            println!("The reference server is {REFERENCE_VERSION} from {REFERENCE_DIR} (npm ci there).");
            Ok(())
        }
    }
}
