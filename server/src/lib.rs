//! The Gatehouse server: wiring of the HTTP stack, the REST API, the embedded PostgreSQL and
//! the command line. The binary (`main.rs`) only parses arguments and calls in here, so the
//! integration tests start exactly what production starts.

pub mod access;
pub mod address_list;
pub mod api;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod headers;
pub mod maps;
pub mod memory;
pub mod middleware;
pub mod monitor;
pub mod pg;
pub mod startup;
pub mod tls;

use anyhow::{Context, Result};
use axum::extract::FromRef;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use axum::Router;
use domain::scans::{probe, scan};
use domain::{Services, SessionSettings};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Request bodies larger than this are refused (413).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The schema, embedded at compile time from `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The database this process uses: an external server or the embedded cluster.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<pg::EmbeddedPostgres>,
}

impl Database {
    /// Connects (starting the embedded cluster when no URL is given) and applies migrations.
    /// An external server that is not reachable yet is retried for up to a minute.
    pub async fn open(config: &config::Database) -> Result<Self> {
        let (options, embedded) = match &config.database_url {
            Some(url) => (
                PgConnectOptions::from_str(url.expose_secret())
                    .context("DATABASE_URL is not a valid PostgreSQL URL")?,
                None,
            ),
            None => {
                let embedded = pg::EmbeddedPostgres::start(&config.data_dir).await?;
                (embedded.gatehouse_options(), Some(embedded))
            }
        };
        let pool = connect_with_retry(options, Duration::from_secs(config.db_wait_seconds)).await?;
        MIGRATOR
            .run(&pool)
            .await
            .context("applying the database migrations")?;
        Ok(Self { pool, embedded })
    }

    pub async fn close(self) -> Result<()> {
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            embedded.stop().await?;
        }
        Ok(())
    }
}

/// How the server pools its database connections. Connections are not pinged before each use
/// (a round trip per query, a tenth of a page's time); one that died with the server fails
/// its query once and is replaced.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
}

async fn connect_with_retry(options: PgConnectOptions, wait: Duration) -> Result<PgPool> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut delay = Duration::from_millis(250);
    loop {
        let attempt = pool_options().connect_with(options.clone()).await;
        match attempt {
            Ok(pool) => return Ok(pool),
            Err(error) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(%error, retry_in = ?delay, "the database is not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                return Err(error).context(format!(
                    "the database was not reachable for {} s (GATEHOUSE_DB_WAIT_SECONDS)",
                    wait.as_secs()
                ))
            }
        }
    }
}

/// The listener with `TCP_NODELAY` on every accepted connection: pages stream in several
/// writes, and Nagle's algorithm would hold each one after the first until the browser's
/// delayed acknowledgement (40 ms on Linux).
pub fn nodelay(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn set(tcp: &mut tokio::net::TcpStream) {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "setting TCP_NODELAY");
        }
    }
    listener.tap_io(set as fn(&mut tokio::net::TcpStream))
}

/// What every handler can reach: the domain's services, and the options the pages are
/// rendered with.
#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    pub leptos: LeptosOptions,
    /// Addresses that may read `/metrics` without a token.
    pub metrics_allow: Arc<address_list::AddressList>,
    /// Proxy-map fetches one address may make per minute.
    pub map_fetch_limit: u32,
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Builds the whole HTTP application.
pub fn router(state: AppState) -> Result<Router> {
    let store = domain::auth::session_store::PgStore::new(state.services.pool.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name("gatehouse_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.services.sessions.tls)
        // Save on every request, so that activity slides the idle timeout forward.
        .with_always_save(true)
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(state.services.sessions.idle_timeout)
                .unwrap_or(time::Duration::minutes(30)),
        ));
    let leptos_options = state.leptos.clone();
    let routes = generate_route_list(app::App);
    // The bundle (wasm, JS, CSS) needs no session: served before the session layer.
    let bundle = tower_http::services::ServeDir::new(format!("{}/pkg", state.leptos.site_root))
        .precompressed_br()
        .precompressed_gzip();
    // Probes need no session: the load balancer's liveness check must answer while the
    // database (where sessions live) is away.
    let probes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state.clone());
    let (api, document) = api::router();
    let rules = access::Rules {
        server_fns: Arc::new(access::ServerFns::registered()),
        services: state.services.clone(),
    };
    // Pages and server functions, with who may load and call them (`access`).
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let services = state.services.clone();
                move || leptos::prelude::provide_context(services.clone())
            },
            move || app::shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(rules, access::enforce))
        .layer(axum::middleware::from_fn(middleware::server_fn_status));
    let pages_and_api = Router::new()
        .route("/metrics", get(api::monitoring::metrics))
        .merge(api)
        .merge(pages)
        .layer(axum::middleware::from_fn(middleware::cross_site_guard))
        .layer(axum::middleware::from_fn_with_state(
            state.services.clone(),
            middleware::context,
        ))
        .layer(sessions)
        // Pages and answers travel compressed (gzip) to clients that take it: a proxy map's page
        // holds its text. Compressing pages that hold secrets beside text an attacker sent
        // (BREACH) needs the victim's session on a request the attacker started; the session
        // cookie is SameSite=Strict and API tokens are never sent by a browser on its own.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state.clone());
    // The appliances fetch their proxy maps without a session.
    let maps = maps::router(state.services.clone(), state.map_fetch_limit);
    let large_bodies = api::large_bodies(&document)
        .into_iter()
        .chain(app::server_fns::large_bodies().map(str::to_owned));
    let large_bodies = Arc::new(middleware::LargeBodies::new(
        large_bodies,
        api::IMPORT_LIMIT,
    ));
    // Anyone's browser loads the icon, signed in or not.
    let icon =
        tower_http::services::ServeFile::new(format!("{}/favicon.svg", state.leptos.site_root));
    Ok(Router::new()
        .nest_service("/pkg", bundle)
        .route_service("/favicon.svg", icon)
        .merge(probes)
        .merge(maps)
        .merge(pages_and_api)
        .layer(axum::middleware::from_fn_with_state(
            large_bodies,
            middleware::body_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.services,
            headers::security_headers,
        ))
        // Limits are set per path by `middleware::body_limit`, for extractors and server
        // functions alike.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(middleware::request_id)))
}

/// Where the bundle lies under the site root: `pkg/<content hash>`, as the build wrote the hash
/// into `<site root>/bundle.txt` (every file of one build in one directory named by their
/// content, so the split modules and the loader find each other by relative names); `pkg` for a
/// site built without it.
pub fn bundle_dir(site_root: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(site_root).join("bundle.txt"))
        .ok()
        .map(|hash| hash.trim().to_owned())
        .filter(|hash| !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()))
        .map_or_else(|| "pkg".to_owned(), |hash| format!("pkg/{hash}"))
}

/// 200 when the database answers, 503 otherwise.
async fn readyz(State(state): State<Services>) -> (http::StatusCode, &'static str) {
    match state.database_ready().await {
        true => (http::StatusCode::OK, "ready"),
        false => (
            http::StatusCode::SERVICE_UNAVAILABLE,
            "database unreachable",
        ),
    }
}

/// The application state for `serve`, with the scanner that probes the fleet.
pub fn app_state(pool: PgPool, serve: &config::Serve, tls: bool) -> Result<AppState> {
    let prober = probe::Prober::new(
        probe::system_roots(),
        Duration::from_secs(serve.probe_timeout_seconds),
    )
    .map_err(|e| anyhow::anyhow!("setting up the TLS prober: {e}"))?;
    let concurrency = usize::try_from(serve.scan_concurrency).unwrap_or(64);
    let scanner = scan::Scanner::new(pool.clone(), prober, concurrency);
    let webhooks = domain::webhooks::deliver::Notifier::new(pool.clone())?;
    let key_file = serve
        .secret_key_file
        .clone()
        .unwrap_or_else(|| serve.database.data_dir.join("secret.key"));
    let sealer = domain::appliances::secret::Sealer::from_file(&key_file)?;
    let appliances = domain::appliances::store::Appliances::new(
        sealer,
        usize::try_from(serve.ssh_concurrency).unwrap_or(16),
    )
    .with_slots(domain::appliances::slots::SshSlots::new(pool.clone()));
    let leptos = LeptosOptions::builder()
        .output_name(app::BUNDLE)
        .site_root(serve.site_root.as_str())
        .site_pkg_dir(bundle_dir(&serve.site_root))
        .site_addr(serve.listen)
        .build();
    let services = Services {
        pool,
        sessions: Arc::new(SessionSettings {
            idle_timeout: Duration::from_secs(serve.session_idle_minutes * 60),
            absolute_timeout: Duration::from_secs(serve.session_absolute_hours * 3600),
            tls,
        }),
        throttle: Arc::new(domain::auth::throttle::Throttle::new(
            serve.login_account_limit,
            serve.login_address_limit,
            Duration::from_secs(serve.login_window_minutes * 60),
        )),
        scans: scanner,
        appliances: Arc::new(appliances),
        fleet: Arc::default(),
        webhooks,
        public_url: serve.public_url(tls).into(),
        subjects: Arc::new(startup::subjects()),
    };
    Ok(AppState {
        services,
        leptos,
        metrics_allow: Arc::new(serve.metrics_allow.clone()),
        map_fetch_limit: serve.map_fetch_limit,
    })
}

/// First start: create the bootstrap admin if asked to, else open setup with a one-time token
/// and print its link. Does nothing once any user exists.
pub async fn bootstrap(state: &Services, serve: &config::Serve) -> Result<()> {
    if domain::auth::setup::any_user(&state.pool).await? {
        return Ok(());
    }
    let context = domain::auth::principal::RequestContext {
        principal: None,
        source: "local".into(),
    };
    if let Some(spec) = &serve.bootstrap_admin {
        let (name, password) = spec
            .expose_secret()
            .split_once(':')
            .context("GATEHOUSE_BOOTSTRAP_ADMIN must be name:password")?;
        domain::auth::setup::create_first_admin(&state.pool, &context, name, password)
            .await
            .map_err(|e| anyhow::anyhow!("GATEHOUSE_BOOTSTRAP_ADMIN: {e}"))?;
        tracing::info!(
            username = name,
            "created the first admin from GATEHOUSE_BOOTSTRAP_ADMIN"
        );
        return Ok(());
    }
    let token = domain::auth::setup::open_setup(&state.pool)
        .await
        .map_err(|e| anyhow::anyhow!("opening first-start setup: {e}"))?;
    let host = match serve.listen.ip() {
        ip if ip.is_unspecified() => "localhost".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    // On standard error on purpose: this link is for the person at the console, once.
    let scheme = if serve.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "\n  No user exists yet. Create the first administrator at:\n\n    {scheme}://{host}:{}/setup?token={token}\n\n  (the link works once, until this process stops)\n",
        serve.listen.port()
    );
    Ok(())
}
