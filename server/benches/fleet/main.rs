//! `./x bench`: the performance goals, measured on this machine against real parts (the
//! embedded PostgreSQL, real TLS servers on loopback, the whole HTTP application).
//!
//! 1. Scan: 1,000 TLS endpoints on loopback (250 nodes × 4 ports, RSA-2048 leaves made by the
//!    openssl CLI when it is there, else ECDSA P-256) scanned through the job queue (asked over
//!    REST, run by one of two replicas' workers), against a bare tokio-rustls handshake loop over
//!    the same endpoints with the same concurrency, in the same run. Goals: ≤ 5 s, and ≤ 1.5× the
//!    bare loop. Then the queue with the two replicas idle: pickup latency (goal: p95 ≤ 1 s) and
//!    the overhead per job.
//! 2. Dashboard: 1,000 nodes, 10,000 endpoints, 10,010 certificates (recorded through the
//!    scanner's own `record`), 20 signed-in sessions loading `/` at once, each as soon as its
//!    previous page arrived. Goal: server time p95 ≤ 50 ms (from a request's arrival to the end
//!    of its response body); the client's latency is reported beside it.
//! 3. Inventory CSV import of 100,000 rows over REST (dry run, then for real).
//! 4. Appliances: a simulated fleet of 200 Finesse nodes (gatehouse-sim, real SSH on loopback):
//!    Gatehouse reads every node's certificate stores and connected users over REST, all at once
//!    (its own bound: `--ssh-concurrency`, 16; 2 shells per node). Goal: ≤ 30 s. Then the
//!    driver alone runs the same commands, each timed: commands per second and p95 latency.
//! 5. Access policy: 200 simulated nodes (25 clusters of 2 Finesse, 2 CUIC, 2 LiveData, 2 IdS)
//!    following one shared policy; a second proxy added, planned and applied over REST (the jobs
//!    under the same SSH bounds). Goal: plan and apply ≤ 30 s; per-node p95 reported.
//!
//! Prints a Markdown report (also written to `target/bench/fleet.md`). `./x bench scan`,
//! `./x bench dashboard`, `./x bench appliances` or `./x bench policy` runs one part. Runs only under `cargo bench` (`cargo test` builds it
//! and returns at once).

mod appliances;
mod dashboard;
mod policy;
mod scan;

use appliances::appliances_benchmark;
use dashboard::dashboard_benchmark;
use domain::scans::probe::Handshake;
use futures::StreamExt;
use policy::policy_benchmark;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use scan::scan_benchmark;
use sqlx::{ConnectOptions, PgPool};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const ENDPOINTS: usize = 1_000;
const PORTS_PER_NODE: usize = 4;
const CONCURRENCY: usize = 64;
const ROUNDS: usize = 3;

const DASHBOARD_NODES: usize = 1_000;
const ENDPOINTS_PER_NODE: usize = 10;
const CLUSTERS: usize = 10;
const SESSIONS: usize = 20;
const PAGES_PER_SESSION: usize = 50;

const CSV_ROWS: usize = 100_000;

const APPLIANCE_NODES: usize = 200;

const POLICY_NODES: usize = 200;

const ADMIN: &str = "admin";
const PASSWORD: &str = "correct horse battery";

fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        return Ok(());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-pg");
    let _ = server::pg::remove_data_dir(&dir);
    let pg = server::pg::EmbeddedPostgres::start(&dir).await?;
    let mut report = machine();
    // `./x bench scan` or `./x bench dashboard` runs one part; no name runs both.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| named.is_empty() || named.iter().any(|n| n == part);

    if wanted("scan") {
        eprintln!("scan benchmark: starting {ENDPOINTS} TLS servers");
        let pool = database(&pg, "bench_scan").await?;
        report += &scan_benchmark(&pool).await?;
        pool.close().await;
    }
    if wanted("dashboard") {
        eprintln!("dashboard benchmark: recording 10,000 endpoints");
        let pool = database(&pg, "bench_dashboard").await?;
        report += &dashboard_benchmark(&pool).await?;
        pool.close().await;
    }

    if wanted("appliances") {
        eprintln!("appliances benchmark: starting {APPLIANCE_NODES} simulated nodes");
        let pool = database(&pg, "bench_appliances").await?;
        report += &appliances_benchmark(pool.clone()).await?;
        pool.close().await;
    }

    if wanted("policy") {
        eprintln!("access policy benchmark: starting {POLICY_NODES} simulated nodes");
        let pool = database(&pg, "bench_policy").await?;
        report += &policy_benchmark(pool.clone()).await?;
        pool.close().await;
    }

    println!("{report}");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("fleet.md"), &report)?;
    pg.stop().await?;
    Ok(())
}

/// Date, CPU, cores and memory: the context every number needs.
fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = time::OffsetDateTime::now_utc().date();
    format!(
        "## Run of {date}\n\nMachine: {cpu}, {cores} cores, {memory} memory; release build.\n\n"
    )
}

async fn database(pg: &server::pg::EmbeddedPostgres, name: &str) -> anyhow::Result<PgPool> {
    let mut admin = pg.connect_options("postgres").connect().await?;
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await?;
    let pool = server::pool_options()
        .connect_with(pg.connect_options(name))
        .await?;
    server::MIGRATOR.run(&pool).await?;
    Ok(pool)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "(met)"
    } else {
        "(**not met**)"
    }
}
