//! The fleet as the overview pages show it, judged once per change instead of once per request.
//!
//! Reading the fleet means every endpoint's latest chain (10,000 certificates in a large fleet),
//! each certificate linted in its context: far too much for every page load. [`FleetCache`]
//! keeps the last [`FleetView`] with the database's `fleet_version` it was read at; a request
//! reads that one row and reuses the view when nothing changed since.
//!
//! - Changes people make (inventory, thresholds, mutes and acknowledgements, a scan ending) are
//!   seen by the next request.
//! - Results of a running scan are read at most every [`PROBE_LAG`] (a scan records in batches
//!   many times a second; each would otherwise throw the view away), in the background: the
//!   requests meanwhile get the view they would have got a moment earlier.
//! - Time passing (a certificate crossing a threshold, a mute running out) is seen at most
//!   [`MAX_AGE`] later.
//!
//! Requests that must wait for a read wait for one read rather than each reading the fleet.
//! Webhook transitions are judged on a fresh read of the fleet, never on this view.

use super::store::{fleet, mutes, served_rows, EndpointNow};
use super::{Dashboard, Filter, LintCount, ServedCertificate, StateCounts};
use crate::Error;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How late a running scan's results may show.
pub const PROBE_LAG: Duration = Duration::from_secs(2);
/// How long a view is used at all (its states are judged at the time it was read).
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Overviews kept per view (one per filter asked for).
const OVERVIEWS: usize = 64;

/// The fleet now, judged at [`FleetView::at`].
pub struct FleetView {
    /// When the states and findings were judged (Unix seconds).
    pub at: i64,
    pub endpoints: Vec<EndpointNow>,
    by_endpoint: HashMap<i64, usize>,
    pub clusters: Vec<(i64, String)>,
    /// Every served certificate, soonest expiry first, with its findings and mute.
    pub rows: Vec<ServedCertificate>,
    overviews: Mutex<HashMap<Filter, Arc<Overview>>>,
}

/// The overview of the fleet narrowed by a filter.
pub struct Overview {
    /// Without the scans (`last_scan`, `running`), which are read per request.
    pub dashboard: Dashboard,
    /// The rows in the filter, as indices into [`FleetView::rows`].
    pub rows: Vec<usize>,
}

impl FleetView {
    /// Reads and judges the whole fleet at `now`.
    pub async fn load(pool: &PgPool, now: i64) -> Result<Self, Error> {
        let endpoints = fleet(pool, None).await?;
        let mutes = mutes(pool).await?;
        let clusters = sqlx::query!("select id, name from cluster order by lower(name)")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        let rows = served_rows(&endpoints, &mutes, now);
        let by_endpoint = endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (e.endpoint_id, i))
            .collect();
        Ok(Self {
            at: now,
            endpoints,
            by_endpoint,
            clusters,
            rows,
            overviews: Mutex::new(HashMap::new()),
        })
    }

    pub fn endpoint(&self, id: i64) -> Option<&EndpointNow> {
        self.by_endpoint.get(&id).map(|&i| &self.endpoints[i])
    }

    /// The overview for `filter`, computed once per view.
    pub fn overview(&self, filter: &Filter) -> Arc<Overview> {
        let lock = || self.overviews.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(done) = lock().get(filter) {
            return done.clone();
        }
        let overview = Arc::new(self.summarize(filter));
        let mut overviews = lock();
        if overviews.len() >= OVERVIEWS {
            overviews.clear();
        }
        overviews.insert(filter.clone(), overview.clone());
        overview
    }

    fn summarize(&self, filter: &Filter) -> Overview {
        let now = self.at;
        let rows: Vec<usize> = (0..self.rows.len())
            .filter(|&i| filter.admits(&self.rows[i]))
            .collect();
        let in_view = || rows.iter().map(|&i| &self.rows[i]);

        // Endpoints: by the state filter itself, or by having a row the lint filter admits.
        let with_rows: HashSet<(i64, i32)> = in_view().map(|r| (r.node_id, r.port)).collect();
        let mut counts = StateCounts::default();
        let mut nodes = HashSet::new();
        let mut shown = 0;
        for e in self.endpoints.iter().filter(|e| filter.admits_endpoint(e)) {
            let state = e.state(now);
            if filter.state.as_ref().is_some_and(|s| s != state)
                || (filter.lint.is_some() && !with_rows.contains(&(e.node_id, e.port)))
            {
                continue;
            }
            shown += 1;
            nodes.insert(e.node_id);
            let slot = match state {
                "expired" => &mut counts.expired,
                "critical" => &mut counts.critical,
                "warning" => &mut counts.warning,
                "ok" => &mut counts.ok,
                "unreachable" => &mut counts.unreachable,
                _ => &mut counts.not_scanned,
            };
            *slot += 1;
        }

        // Each distinct certificate once, at its worst state across the places it is served.
        let mut distinct: HashMap<&str, (i64, &str)> = HashMap::new();
        for r in in_view() {
            let entry = distinct
                .entry(&r.fingerprint_sha256)
                .or_insert((r.days_left, &r.state));
            if super::store::rank(&r.state) > super::store::rank(entry.1) {
                entry.1 = &r.state;
            }
        }
        let timeline = super::store::timeline(distinct.values().copied(), now);

        let mut severities = [0u32; 3];
        let mut lints: HashMap<&str, LintCount> = HashMap::new();
        for finding in in_view().flat_map(|r| &r.findings) {
            severities[finding.severity as usize] += 1;
            lints
                .entry(&finding.id)
                .or_insert_with(|| LintCount {
                    id: finding.id.clone(),
                    severity: finding.severity,
                    count: 0,
                })
                .count += 1;
        }
        let mut lints: Vec<LintCount> = lints.into_values().collect();
        lints.sort_by(|a, b| {
            (a.severity, std::cmp::Reverse(a.count), &a.id).cmp(&(
                b.severity,
                std::cmp::Reverse(b.count),
                &b.id,
            ))
        });

        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let dashboard = Dashboard {
            clusters: self.clusters.clone(),
            nodes: count(nodes.len()),
            endpoints: shown,
            counts,
            certificates: count(distinct.len()),
            timeline,
            soonest: in_view().take(10).cloned().collect(),
            severities,
            lints,
            last_scan: None,
            running: None,
            filter: filter.clone(),
        };
        Overview { dashboard, rows }
    }
}

/// The version of the fleet a view was read at (see the `fleet_version` migration).
#[derive(Debug, Clone, Copy)]
struct Version {
    edits: i64,
    probes: i64,
}

struct Cached {
    version: Version,
    /// When its read began.
    read_at: Instant,
    view: Arc<FleetView>,
}

/// The last view of the fleet, shared by every request (in [`crate::Services`]).
#[derive(Default)]
pub struct FleetCache {
    current: Mutex<Option<Cached>>,
    /// Held while reading the fleet, so that one read serves every request.
    reading: Arc<tokio::sync::Mutex<()>>,
}

/// What the cache holds, judged against the database's version.
enum Judged {
    Fresh(Arc<FleetView>),
    /// Only a running scan's results are missing: good enough while a fresh read runs.
    Behind(Arc<FleetView>),
    /// Missing what people changed, too old, or nothing cached: the request must wait.
    Unusable,
}

impl FleetCache {
    /// The fleet now: the cached view when it is still current, else a fresh read. A view
    /// that lacks only a running scan's latest results is returned at once while a read in the
    /// background renews it, so that scans never slow page loads.
    pub async fn view(self: &Arc<Self>, pool: &PgPool) -> Result<Arc<FleetView>, Error> {
        let version = sqlx::query_as!(Version, "select edits, probes from fleet_version")
            .fetch_one(pool)
            .await?;
        match self.judge(version) {
            Judged::Fresh(view) => return Ok(view),
            Judged::Behind(view) => {
                self.renew_in_background(pool.clone(), version);
                return Ok(view);
            }
            Judged::Unusable => {}
        }
        let _reading = self.reading.lock().await;
        if let Judged::Fresh(view) = self.judge(version) {
            return Ok(view);
        }
        self.read(pool, version).await
    }

    fn judge(&self, wanted: Version) -> Judged {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let Some(cached) = current.as_ref() else {
            return Judged::Unusable;
        };
        let age = cached.read_at.elapsed();
        if cached.version.edits < wanted.edits || age >= MAX_AGE {
            Judged::Unusable
        } else if cached.version.probes < wanted.probes && age >= PROBE_LAG {
            Judged::Behind(cached.view.clone())
        } else {
            Judged::Fresh(cached.view.clone())
        }
    }

    /// Reads the fleet and keeps it as at `version` (read before, so never newer than it is).
    async fn read(&self, pool: &PgPool, version: Version) -> Result<Arc<FleetView>, Error> {
        let read_at = Instant::now();
        let view = Arc::new(FleetView::load(pool, crate::dates::now()).await?);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            version,
            read_at,
            view: view.clone(),
        });
        Ok(view)
    }

    /// Starts a read unless one is running already.
    fn renew_in_background(self: &Arc<Self>, pool: PgPool, version: Version) {
        let Ok(reading) = self.reading.clone().try_lock_owned() else {
            return;
        };
        let cache = self.clone();
        tokio::spawn(async move {
            let _reading = reading;
            if let Err(error) = cache.read(&pool, version).await {
                tracing::warn!(%error, "renewing the fleet view");
            }
        });
    }
}
