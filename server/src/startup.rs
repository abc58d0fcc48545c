//! Starting and stopping the console, one way for `main`, the integration tests and the
//! benches.
//!
//! [`Application::build`] opens the database (the embedded cluster, or `DATABASE_URL`) and
//! applies the migrations, prepares the services, creates the first admin (or prints the
//! one-time setup link) and binds the listener. [`Application::run_until_stopped`] then starts
//! everything the process runs: the demo fleet when asked, the job worker (scans, samples,
//! sweeps, ... taken from the database's queue: `domain::jobs`), the periodic schedules, the
//! webhook sender and HTTP(S); when `shutdown` resolves, HTTP drains and the rest stops. Each
//! schedule's interval is in the configuration (0 turns the fleet scan, the sampler and the
//! sender off), so tests start the same tasks with the timings they need.

use crate::config::Serve;
use crate::{app_state, bootstrap, nodelay, router, AppState, Database};
use anyhow::{Context, Result};
use domain::jobs::{Kinds, Schedule};
use domain::Services;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Wraps the HTTP application in one more layer.
type Wrap = Box<dyn FnOnce(axum::Router) -> axum::Router + Send>;

/// The console, built and bound, not yet serving.
pub struct Application {
    state: AppState,
    database: Database,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    settings: Serve,
    wrap: Option<Wrap>,
    /// The kinds of background job this replica runs.
    kinds: Kinds,
}

impl Application {
    /// Opens the database named by the settings and builds the console on it.
    pub async fn build(settings: Serve) -> Result<Self> {
        if settings.demo && !cfg!(feature = "demo") {
            anyhow::bail!(
                "the demo fleet is not built into this gatehouse (the Debian package leaves it out; \
                 `./x run` in a clone of the source runs it)"
            );
        }
        let database = Database::open(&settings.database).await?;
        Self::build_on(settings, database).await
    }

    /// Builds the console on a database already open and migrated (the tests: one database per
    /// test in a shared cluster).
    pub async fn build_on(settings: Serve, database: Database) -> Result<Self> {
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
            _ => None,
        };
        let state = app_state(database.pool.clone(), &settings, tls.is_some())?;
        bootstrap(&state.services, &settings).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        Ok(Self {
            state,
            database,
            listener,
            tls,
            settings,
            wrap: None,
            kinds: job_kinds(),
        })
    }

    /// Wraps the HTTP application in an outermost layer (the benches time requests with it).
    pub fn wrap_router(
        mut self,
        wrap: impl FnOnce(axum::Router) -> axum::Router + Send + 'static,
    ) -> Self {
        self.wrap = Some(Box::new(wrap));
        self
    }

    /// Where it listens (the port the system chose for `:0`).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn services(&self) -> &Services {
        &self.state.services
    }

    /// Starts everything and serves until `shutdown` resolves; then stops it all and closes
    /// the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let Self {
            state,
            database,
            listener,
            tls,
            settings,
            wrap,
            kinds,
        } = self;
        let services = state.services.clone();
        #[cfg(feature = "demo")]
        let demo = match settings.demo {
            true => {
                // The demo's proxy engines follow this console: on loopback, over what it serves.
                let mut at = listener.local_addr()?;
                if at.ip().is_unspecified() {
                    at.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                let console = crate::demo::vpnless::Console {
                    url: format!("{}://{at}", if tls.is_some() { "https" } else { "http" }),
                    ca: tls.is_some().then(|| settings.tls_cert.clone()).flatten(),
                };
                Some(crate::demo::start(&services, &settings.database.data_dir, console).await?)
            }
            false => None,
        };
        let background = Background::start(&services, kinds, &settings).await?;
        let app = router(state)?;
        let app = match wrap {
            Some(wrap) => wrap(app),
            None => app,
        }
        .into_make_service_with_connect_info::<SocketAddr>();
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(
            "Gatehouse listening on {scheme}://{}",
            listener.local_addr()?
        );
        let served = match tls {
            None => {
                // Requests in flight may finish, for at most DRAIN after the stop began: a hung
                // one must not keep the process from stopping.
                let (began, stopping) = tokio::sync::watch::channel(false);
                let signal = async move {
                    shutdown.await;
                    let _ = began.send(true);
                };
                let mut stopping = stopping;
                let drained = async move {
                    let _ = stopping.wait_for(|began| *began).await;
                    tokio::time::sleep(DRAIN).await;
                };
                tokio::select! {
                    served = axum::serve(nodelay(listener), app).with_graceful_shutdown(signal).into_future() => {
                        served.context("serving HTTP")
                    }
                    () = drained => {
                        tracing::warn!("requests still open {} s after the stop: closed", DRAIN.as_secs());
                        Ok(())
                    }
                }
            }
            Some(config) => {
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    shutdown.await;
                    stopper.graceful_shutdown(Some(DRAIN));
                });
                let config = axum_server::tls_rustls::RustlsConfig::from_config(config);
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                    .acceptor(axum_server::accept::NoDelayAcceptor);
                axum_server::from_tcp(listener.into_std()?)?
                    .acceptor(acceptor)
                    .handle(handle)
                    .serve(app)
                    .await
                    .context("serving HTTPS")
            }
        };
        // The workers first (their jobs' shells close as they are dropped), then every idle
        // shell and session place, and only then the database those places are kept in.
        background.stop().await;
        #[cfg(feature = "demo")]
        drop(demo);
        services.appliances.shut_down().await;
        database.close().await?;
        served
    }
}

/// Every kind of background job, each registered by the feature whose work it is.
pub fn job_kinds() -> Kinds {
    let mut kinds = Kinds::default();
    kinds.register::<domain::jobs::Ping>();
    domain::scans::jobs::register(&mut kinds);
    domain::appliances::store::jobs::register(&mut kinds);
    domain::reconcile::jobs::register(&mut kinds);
    domain::housekeeping::register(&mut kinds);
    domain::proxies::store::register(&mut kinds);
    kinds
        .register::<domain::webhooks::store::Judge>()
        .register::<domain::reconcile::drift::DriftCheck>();
    kinds
}

/// Everything the reconciliation engine reconciles, each registered by the feature that owns it.
pub fn subjects() -> domain::reconcile::subject::Subjects {
    let mut subjects = domain::reconcile::subject::Subjects::default();
    subjects
        .register(&domain::access_policy::store::subject::AccessPolicy)
        .register(&domain::proxy_maps::store::subject::ProxyMapRollout)
        .register(&domain::appliances::store::trust::TrustImports)
        .register(&domain::trust::store::TrustMatrix)
        .register(&domain::trust::store::upload::CertificateUpload)
        .register(&domain::posture::store::Posture)
        .register(&domain::cti::plan::CtiChecklist);
    subjects
}

/// The periodic jobs, at the intervals the settings give (zero: never).
async fn schedules(services: &Services, settings: &Serve) -> Result<Vec<Schedule>> {
    use domain::{appliances, housekeeping, reconcile, scans, webhooks};
    let fleet_scan = Duration::from_secs_f64(settings.scan_interval_hours * 3600.0);
    let sample = Duration::from_secs(settings.sample_interval_seconds);
    if fleet_scan.is_zero() {
        tracing::info!("scheduled scans are off (GATEHOUSE_SCAN_INTERVAL_HOURS=0)");
    }
    if sample.is_zero() {
        tracing::info!("background sampling of connected users is off");
    }
    Ok(vec![
        scans::jobs::fleet_scan_schedule(&services.pool, fleet_scan).await?,
        appliances::store::jobs::sample_schedule(sample),
        Schedule::of::<housekeeping::Sweep>(
            Duration::from_secs(settings.session_sweep_seconds),
            Default::default(),
        ),
        Schedule::of::<webhooks::store::Judge>(Duration::from_secs(600), Default::default()),
        Schedule::of::<reconcile::drift::DriftCheck>(
            Duration::from_secs(settings.drift_interval_minutes * 60),
            Default::default(),
        ),
    ])
}

/// How long requests in flight may take to finish once the console is asked to stop.
const DRAIN: Duration = Duration::from_secs(10);

/// The background tasks: the job worker and the loops beside it. [`Background::stop`] stops
/// them and waits until they have let go; dropping it aborts them without waiting.
struct Background {
    worker: Option<domain::jobs::worker::Worker>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    async fn start(services: &Services, kinds: Kinds, settings: &Serve) -> Result<Self> {
        use domain::jobs::{schedule, worker};
        let owner = domain::jobs::owner_name();
        let schedules = schedules(services, settings).await?;
        let scheduler = schedule::spawn(services.pool.clone(), owner.clone(), schedules);
        let worker = match settings.job_slots {
            0 => {
                tracing::info!("this replica runs no background jobs (GATEHOUSE_JOB_SLOTS=0)");
                None
            }
            slots => Some(worker::spawn(
                services.clone(),
                kinds,
                worker::Settings {
                    slots: usize::try_from(slots).unwrap_or(4),
                    lease: Duration::from_secs(settings.job_lease_seconds),
                    ..worker::Settings::default()
                },
                &owner,
            )),
        };
        let sender = services
            .webhooks
            .clone()
            .spawn(Duration::from_secs(settings.webhook_poll_seconds));
        let appliances = services.appliances.clone();
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                appliances.upkeep().await;
                // Free pages back to the system (crate::memory): a few milliseconds at most.
                tokio::task::spawn_blocking(crate::memory::trim);
            }
        });
        let give_way = tokio::spawn(services.appliances.clone().give_way(services.pool.clone()));
        let tasks = [scheduler, sender, Some(upkeep), Some(give_way)]
            .into_iter()
            .flatten()
            .collect();
        Ok(Self { worker, tasks })
    }

    /// Stops every task and the jobs running here, and waits until they have let go of what
    /// they held (SSH sessions, database connections): the database is closed after this.
    async fn stop(mut self) {
        if let Some(worker) = self.worker.take() {
            worker.stop().await;
        }
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
