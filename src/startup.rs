//! Building and running the server: bind a listener (port 0 allowed, the real address is kept),
//! migrate, start background work, and serve until SIGTERM/SIGINT.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_http::HttpService;
use actix_service::{IntoServiceFactory, ServiceFactory, map_config};
use actix_web::dev::{AppConfig, fn_factory, fn_service};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use futures_util::future::LocalBoxFuture;
use std::rc::Rc;

use std::sync::Arc;

use crate::accounts::throttle::LoginThrottle;
use crate::app::AppState;
use crate::clock::{SharedClock, SystemClock};
use crate::config::ServerConfig;
use crate::db::Db;
use crate::http;
use crate::mail::Mailer;

/// A bound, migrated server, ready to run.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    state: AppState,
    background: Vec<tokio::task::JoinHandle<()>>,
    pg_listener: Option<crate::realtime::listener::Listener>,
    /// The `--metrics-bind` server and its address, if configured.
    metrics_server: Option<(SocketAddr, Server)>,
    /// On SQLite, the lock that keeps a second server off the file, held while this one runs.
    _single_instance: Option<crate::db::InstanceLock>,
}

impl Application {
    /// Connects to the database, applies migrations, binds the listener and prepares the server.
    pub async fn build(config: ServerConfig) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the time taken from `clock` (tests use a settable one).
    pub async fn build_with_clock(config: ServerConfig, clock: SharedClock) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(&config.bind).map_err(|e| anyhow::anyhow!("cannot bind {}: {e}", config.bind))?;
        Self::build_on(config, listener, clock).await
    }

    /// [`Application::build_with_clock`] on a listener that is already bound (`config.bind` is
    /// ignored): tests bind first so that the public URL can name the real port.
    pub async fn build_on(config: ServerConfig, listener: TcpListener, clock: SharedClock) -> anyhow::Result<Self> {
        let db = Db::connect_lazy(&config.database)?;
        let single_instance = crate::db::lock_single_instance(&config.database)?;
        tracing::info!(database = %config.database.redacted_url(), backend = ?db.backend(), "connecting");
        let migrator = db.clone();
        let applied = tokio::task::spawn_blocking(move || migrator.migrate()).await??;
        if !applied.is_empty() {
            tracing::info!(?applied, "migrations applied");
        }
        let addr = listener.local_addr()?;
        let metrics_listener = match config.metrics_bind.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            Some(bind) => {
                Some(TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("cannot bind --metrics-bind {bind}: {e}"))?)
            }
            None => None,
        };
        let demo_db = db.clone();
        let demo_accounts = tokio::task::spawn_blocking(move || crate::demo::count_demo_accounts(&demo_db)).await?;
        if demo_accounts.as_ref().is_ok_and(|n| *n > 0) {
            tracing::warn!(
                accounts = demo_accounts.unwrap_or_default(),
                "demo accounts exist (addresses under .example, with a published password): never expose this server publicly"
            );
        }
        let mailer = Arc::new(Mailer::new(&config.mail)?);
        let throttle = Arc::new(LoginThrottle::new(
            db.clone(),
            Duration::from_secs(config.accounts.login_window_secs.max(1)),
            clock.clone(),
        ));
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let hub = crate::realtime::Hub::new(
            db.clone(),
            config.drafting.clone(),
            metrics.clone(),
            writer_check(clock.clone(), crate::accounts::sessions::idle_limit(&config.accounts)),
        );
        let agendas = Arc::new(crate::meetings::cache::AgendaCache::new(Duration::from_millis(config.agenda_cache_ms)));
        let meetings = crate::realtime::meetings::MeetingFeeds::new(db.clone(), agendas.clone());
        let state = AppState {
            db: db.clone(),
            config: config.clone(),
            mailer: mailer.clone(),
            throttle,
            sessions: Arc::new(crate::accounts::sessions::SessionCache::new(hub.access_changes())),
            hub: hub.clone(),
            meetings: meetings.clone(),
            agendas,
            metrics,
            clock,
        };
        let pg_listener = (db.backend() == crate::db::Backend::Postgres).then(|| {
            crate::realtime::listener::Listener::start(
                config.database.url.expose().to_string(),
                hub.clone(),
                meetings.clone(),
            )
        });
        let mut background = vec![
            tokio::spawn(crate::mail::run_outbox(db.clone(), mailer.clone())),
            tokio::spawn(crate::memory::run_trim(crate::memory::TRIM_EVERY)),
        ];
        if config.scheduler_secs > 0 {
            background
                .push(tokio::spawn(crate::scheduler::run(state.clone(), Duration::from_secs(config.scheduler_secs))));
        }
        let data = web::Data::new(state.clone());
        let (body_limit, upload_limit) = (config.body_limit, config.upload_limit);
        let https = config.is_https();
        let app = move || {
            App::new()
                .app_data(data.clone())
                .wrap(ErrorHandlers::new().default_handler(http::middleware::normalize_errors))
                .wrap(http::middleware::security_headers(https))
                .wrap(from_fn(http::middleware::no_store_for_private))
                .wrap(from_fn(http::middleware::log_requests))
                .configure(|cfg| http::configure(cfg, body_limit, upload_limit))
        };
        // Built on actix-http rather than `HttpServer` for one reason: requests that upgrade the
        // connection (websockets) go through the same app but then leave HTTP behind and keep
        // only the TCP stream (`http::upgrade`).
        let mut server = Server::build()
            .listen("plenum", listener, move || {
                let upgrades = app.clone();
                HttpService::build()
                    .client_request_timeout(Duration::from_secs(30))
                    // What `HttpServer` would set: a second for a client to finish closing.
                    .client_disconnect_timeout(Duration::from_secs(1))
                    // Live drafting sends many small frames: don't let Nagle hold them for delayed ACKs.
                    .tcp_nodelay(true)
                    .local_addr(addr)
                    .upgrade(fn_factory(move || {
                        let factory = upgrades().into_factory();
                        async move {
                            let app = Rc::new(factory.new_service(AppConfig::default()).await?);
                            Ok::<_, ()>(fn_service(move |(req, framed)| -> LocalBoxFuture<'static, _> {
                                Box::pin(http::upgrade::serve(app.clone(), req, framed))
                            }))
                        }
                    }))
                    .finish(map_config(app().into_factory(), |_| AppConfig::default()))
                    .tcp()
            })?
            .shutdown_timeout(config.shutdown_timeout)
            // SIGTERM and SIGINT are handled in `run_until_stopped`: live sockets are told to go first.
            .disable_signals();
        if config.workers > 0 {
            server = server.workers(config.workers);
        }
        let metrics_server = match metrics_listener {
            Some(listener) => {
                let metrics_addr = listener.local_addr()?;
                let data = web::Data::new(state.clone());
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .wrap(ErrorHandlers::new().default_handler(http::middleware::normalize_errors))
                        .wrap(http::middleware::security_headers(https))
                        .configure(http::metrics::configure_own_address)
                })
                .listen(listener)?
                .workers(1)
                .shutdown_timeout(1)
                // It is stopped after the main server, which handles the signals.
                .disable_signals()
                .run();
                tracing::info!(address = %metrics_addr, "serving /metrics");
                Some((metrics_addr, server))
            }
            None => None,
        };
        let server = server.run();
        tracing::info!(address = %addr, url = %format!("http://{addr}"), "listening");
        Ok(Self { addr, server, state, background, pg_listener, metrics_server, _single_instance: single_instance })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address `/metrics` is served on with `--metrics-bind`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(|(addr, _)| *addr)
    }

    /// The shared state (for tests and background work).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The PostgreSQL listener, if this server runs one (tests stop it before the process exits).
    pub fn pg_listener(&self) -> Option<crate::realtime::listener::Listener> {
        self.pg_listener.clone()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM/SIGINT, or [`ServerHandle::stop`]); in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(_, server)| {
            let handle = server.handle();
            (handle, actix_web::rt::spawn(server))
        });
        let handle = self.server.handle();
        let hub = self.state.hub.clone();
        let signals = actix_web::rt::spawn(async move {
            stop_signal().await;
            tracing::info!("stopping: closing live sockets, finishing requests");
            hub.going_away();
            handle.stop(true).await;
        });
        let result = self.server.await;
        signals.abort();
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        for task in self.background {
            task.abort();
        }
        if let Some(listener) = self.pg_listener {
            listener.stop();
        }
        result
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The live rooms' question before they store a batch: which of these sessions are still live,
/// and may each still write drafts? Answered by the accounts area and the policy, at `clock`'s now.
fn writer_check(clock: SharedClock, idle: chrono::Duration) -> crate::realtime::WriterCheck {
    Arc::new(move |conn, draft_id, sessions| {
        // Read in the storing transaction: an update that arrives after the draft left drafting
        // (final reading, a call for objections, adoption) or was locked is refused, not stored.
        // In final reading the chair alone writes: who chairs is read here too, at this instant.
        let draft = crate::drafting::service::load(conn, draft_id)?;
        let actors = crate::accounts::sessions::live_actors(conn, sessions, clock.naive(), idle)?;
        actors
            .into_iter()
            .map(|actor| Ok((actor.session_id, crate::drafting::service::may_edit(conn, &actor, &draft, clock.now())?)))
            .collect()
    })
}
