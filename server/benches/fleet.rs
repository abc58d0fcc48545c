//! `./x bench`: the performance goals, measured on this machine against real parts (the
//! embedded PostgreSQL, real TLS servers on loopback, the whole HTTP application).
//!
//! 1. Scan: 1,000 TLS endpoints on loopback (250 nodes × 4 ports, RSA-2048 leaves made by the
//!    openssl CLI when it is there, else ECDSA P-256) scanned by the real scanner, against a bare
//!    tokio-rustls handshake loop over the same endpoints with the same concurrency, in the same
//!    run. Goals: ≤ 5 s, and ≤ 1.5× the bare loop.
//! 2. Dashboard: 1,000 nodes, 10,000 endpoints, 10,010 certificates (recorded through the
//!    scanner's own `record`), 20 signed-in sessions loading `/` at once, each as soon as its
//!    previous page arrived. Goal: server time p95 ≤ 50 ms (from a request's arrival to the end
//!    of its response body); the client's latency is reported beside it.
//! 3. Inventory CSV import of 100,000 rows over REST (dry run, then for real).
//! 4. Appliances: a simulated fleet of 200 Finesse nodes (gatehouse-sim, real SSH on loopback):
//!    Gatehouse reads every node's certificate stores and connected users over REST, all at once
//!    (its own bound: `--ssh-concurrency`, 16; 2 shells per node). Goal: ≤ 30 s. Then the
//!    driver alone runs the same commands, each timed: commands per second and p95 latency.
//!
//! Prints a Markdown report (also written to `target/bench/fleet.md`). `./x bench scan`,
//! `./x bench dashboard` or `./x bench appliances` runs one part. Runs only under `cargo bench` (`cargo test` builds it
//! and returns at once).

use domain::scans::probe::{Handshake, Prober};
use futures::StreamExt;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
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

// ---------------------------------------------------------------------------------------------
// 1. Scan

struct Pki {
    ca: rcgen::Certificate,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    /// One leaf key for every leaf (key generation is not what is measured).
    leaf_key: rcgen::KeyPair,
    key_kind: &'static str,
}

impl Pki {
    fn new() -> anyhow::Result<Self> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Bench Issuing CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate()?;
        let ca = params.self_signed(&ca_key)?;
        let (leaf_key, key_kind) = match rsa_2048() {
            Some(key) => (key, "RSA-2048"),
            None => (rcgen::KeyPair::generate()?, "ECDSA P-256"),
        };
        Ok(Self {
            ca,
            issuer: rcgen::Issuer::new(params, ca_key),
            leaf_key,
            key_kind,
        })
    }

    /// A leaf for `fqdn` valid for `days` more days; served with the CA after it.
    fn leaf(&self, fqdn: &str, cn: &str, days: i64) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut params = rcgen::CertificateParams::new(vec![fqdn.to_owned()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(300);
        params.not_after = now + time::Duration::days(days);
        let leaf = params.signed_by(&self.leaf_key, &self.issuer)?;
        Ok(vec![leaf.der().to_vec(), self.ca.der().to_vec()])
    }
}

/// An RSA-2048 key from the openssl CLI (rcgen cannot generate RSA keys), as appliances serve.
fn rsa_2048() -> Option<rcgen::KeyPair> {
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .ok()?;
    let pem = String::from_utf8(out.stdout).ok()?;
    rcgen::KeyPair::from_pem(&pem).ok()
}

/// A TLS server on a loopback port serving `chain`, completing handshakes until the process ends.
async fn tls_server(chain: Vec<Vec<u8>>, key: &rcgen::KeyPair) -> anyhow::Result<u16> {
    let chain = chain.into_iter().map(CertificateDer::from).collect();
    let key = PrivateKeyDer::try_from(key.serialize_der()).map_err(anyhow::Error::msg)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.read(&mut [0u8; 1]).await;
                }
            });
        }
    });
    Ok(port)
}

async fn scan_benchmark(pool: &PgPool) -> anyhow::Result<String> {
    let pki = Pki::new()?;
    let cluster: i64 =
        sqlx::query_scalar("insert into cluster (name) values ('bench') returning id")
            .fetch_one(pool)
            .await?;
    let mut targets = Vec::new();
    for n in 0..ENDPOINTS / PORTS_PER_NODE {
        let fqdn = format!("finesse{n:04}.bench.example.com");
        let chain = pki.leaf(&fqdn, &fqdn, 200)?;
        let node: i64 = sqlx::query_scalar(
            "insert into node (cluster_id, kind, fqdn, address) values ($1, 'finesse', $2, '127.0.0.1') returning id",
        )
        .bind(cluster)
        .bind(&fqdn)
        .fetch_one(pool)
        .await?;
        for _ in 0..PORTS_PER_NODE {
            let port = tls_server(chain.clone(), &pki.leaf_key).await?;
            sqlx::query("insert into endpoint (node_id, port) values ($1, $2)")
                .bind(node)
                .bind(i32::from(port))
                .execute(pool)
                .await?;
            targets.push((fqdn.clone(), port));
        }
    }

    let prober = Prober::new(domain::scans::probe::system_roots(), Duration::from_secs(5))
        .map_err(anyhow::Error::msg)?;
    let scanner = domain::scans::scan::Scanner::new(pool.clone(), prober, CONCURRENCY);
    let connector = bare_connector();
    // Warm up both (first connections, the system roots parsed once).
    bare_loop(&connector, &targets).await?;
    scan(pool, &scanner).await?;

    let mut bare = Vec::new();
    let mut scans = Vec::new();
    for round in 0..ROUNDS {
        eprintln!("scan benchmark: round {}", round + 1);
        bare.push(bare_loop(&connector, &targets).await?);
        scans.push(scan(pool, &scanner).await?);
    }
    bare.sort();
    scans.sort();
    let (bare, scan) = (bare[ROUNDS / 2], scans[ROUNDS / 2]);
    let ratio = scan.as_secs_f64() / bare.as_secs_f64();
    let mut out = String::new();
    writeln!(
        out,
        "### Scan: {ENDPOINTS} loopback TLS endpoints, concurrency {CONCURRENCY}, {} leaves\n",
        pki.key_kind
    )?;
    writeln!(out, "| | median of {ROUNDS} | goal |\n|---|---|---|")?;
    writeln!(out, "| bare tokio-rustls handshake loop | {} | |", ms(bare))?;
    writeln!(
        out,
        "| Gatehouse scan (probe, parse, chain check, record in PostgreSQL) | {} | ≤ 5,000 ms {} |",
        ms(scan),
        verdict(scan <= Duration::from_secs(5))
    )?;
    writeln!(
        out,
        "| ratio scan / bare | {ratio:.2}× | ≤ 1.5× {} |\n",
        verdict(ratio <= 1.5)
    )?;
    Ok(out)
}

/// One fleet scan through the real scanner; its wall time from start to `done`.
async fn scan(pool: &PgPool, scanner: &domain::scans::scan::Scanner) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let id = scanner.start("bench".into(), None).await?;
    loop {
        let (state, done, total): (String, i32, i32) =
            sqlx::query_as("select state, done, total from scan where id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?;
        if state != "running" {
            anyhow::ensure!(
                state == "done" && done == total,
                "scan {id} ended {state} at {done}/{total}"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let failed: i64 =
        sqlx::query_scalar("select count(*) from probe where scan_id = $1 and not ok")
            .bind(id)
            .fetch_one(pool)
            .await?;
    anyhow::ensure!(failed == 0, "{failed} probes of scan {id} failed");
    Ok(elapsed)
}

/// The probe's own TLS client settings, without the rest of the probe.
fn bare_connector() -> tokio_rustls::TlsConnector {
    let config = domain::scans::probe::client_config().expect("TLS 1.2 and 1.3 are supported");
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Connect and handshake with every endpoint, `CONCURRENCY` at a time; nothing else.
async fn bare_loop(
    connector: &tokio_rustls::TlsConnector,
    targets: &[(String, u16)],
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let results: Vec<anyhow::Result<usize>> = futures::stream::iter(targets)
        .map(|(fqdn, port)| async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", *port)).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from(fqdn.clone())?;
            let tls = connector.connect(name, tcp).await?;
            Ok(tls.get_ref().1.peer_certificates().map_or(0, |c| c.len()))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    for result in results {
        anyhow::ensure!(
            result? == 2,
            "the bare loop saw a chain other than leaf + CA"
        );
    }
    Ok(elapsed)
}

// ---------------------------------------------------------------------------------------------
// 2. Dashboard (and 3. CSV import, on the same running server)

async fn dashboard_benchmark(pool: &PgPool) -> anyhow::Result<String> {
    let started = Instant::now();
    let seeded = seed_fleet(pool).await?;
    let seeding = started.elapsed();

    let mut reads = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        domain::certificates::cache::FleetView::load(pool, domain::dates::now()).await?;
        reads.push(started.elapsed());
    }
    reads.sort();
    let (origin, server_times) = serve(pool.clone()).await?;
    let mut clients = Vec::new();
    for _ in 0..SESSIONS {
        clients.push(signed_in(&origin).await?);
    }
    // Warm up: every session loads the page once.
    for client in &clients {
        page(client, &origin, "/").await?;
    }
    let size = clients[0]
        .get(format!("{origin}/"))
        .send()
        .await?
        .bytes()
        .await?
        .len();
    eprintln!("dashboard benchmark: loading pages");

    take(&server_times);
    let alone = latencies(&clients[..1], &origin, "/", PAGES_PER_SESSION).await?;
    let alone_server = take(&server_times);
    let together = latencies(&clients, &origin, "/", PAGES_PER_SESSION).await?;
    let together_server = take(&server_times);
    let certificates_page =
        latencies(&clients[..1], &origin, "/certificates?state=critical", 10).await?;
    let certificates_server = take(&server_times);
    let alerts = latencies(&clients[..1], &origin, "/api/v1/alerts", 10).await?;
    let alerts_server = take(&server_times);

    let mut out = String::new();
    writeln!(
        out,
        "### Dashboard: {DASHBOARD_NODES} nodes, {} endpoints, {seeded} certificates\n",
        DASHBOARD_NODES * ENDPOINTS_PER_NODE
    )?;
    writeln!(
        out,
        "Making the certificates and recording them through `scan::record`: {} ({:.0} probes/s). \
         The dashboard page is {:.0} KB. Server time runs from a request's arrival to the end of \
         its response body; the client's time adds the loopback round trip and the client's own \
         work, on the same two cores. Reading and judging the whole fleet, which the pages do \
         once per change (see `app/src/certificates/cache.rs`), takes {} (median of 5).\n",
        ms(seeding),
        (DASHBOARD_NODES * ENDPOINTS_PER_NODE) as f64 / seeding.as_secs_f64(),
        size as f64 / 1024.0,
        ms(reads[2])
    )?;
    writeln!(
        out,
        "| page | sessions at once | requests | server p50 | server p95 | client p50 | client p95 | client max | goal |\n|---|---|---|---|---|---|---|---|---|"
    )?;
    row(&mut out, "`/` (dashboard)", 1, &alone_server, &alone, "")?;
    let goal = format!(
        "server p95 ≤ 50 ms {}",
        verdict(percentile(&together_server, 95) <= Duration::from_millis(50))
    );
    row(
        &mut out,
        "`/` (dashboard)",
        SESSIONS,
        &together_server,
        &together,
        &goal,
    )?;
    row(
        &mut out,
        "`/certificates?state=critical`",
        1,
        &certificates_server,
        &certificates_page,
        "",
    )?;
    row(
        &mut out,
        "`/api/v1/alerts` (JSON)",
        1,
        &alerts_server,
        &alerts,
        "",
    )?;
    out.push('\n');
    out += &csv_benchmark(&clients[0], &origin).await?;
    Ok(out)
}

fn row(
    out: &mut String,
    page: &str,
    sessions: usize,
    server: &[Duration],
    client: &[Duration],
    goal: &str,
) -> std::fmt::Result {
    writeln!(
        out,
        "| {page} | {sessions} | {} | {} | {} | {} | {} | {} | {goal} |",
        client.len(),
        ms(percentile(server, 50)),
        ms(percentile(server, 95)),
        ms(percentile(client, 50)),
        ms(percentile(client, 95)),
        ms(percentile(client, 100)),
    )
}

/// 10 clusters × 100 nodes × 10 endpoints, each endpoint serving its own leaf and its cluster's
/// CA; expiry spread from 20 days ago to 400 days ahead, one leaf in ten with its CN outside
/// its SANs. Returns the number of distinct certificates.
async fn seed_fleet(pool: &PgPool) -> anyhow::Result<i64> {
    let scan: i64 = sqlx::query_scalar(
        "insert into scan (requested_by, state, total, done, finished_at) values ('bench', 'done', $1, $1, now()) returning id",
    )
    .bind(i32::try_from(DASHBOARD_NODES * ENDPOINTS_PER_NODE)?)
    .fetch_one(pool)
    .await?;
    let mut jobs = Vec::new();
    for c in 0..CLUSTERS {
        let pki = Pki::new()?;
        let cluster: i64 =
            sqlx::query_scalar("insert into cluster (name) values ($1) returning id")
                .bind(format!("Cluster {c:02}"))
                .fetch_one(pool)
                .await?;
        for n in 0..DASHBOARD_NODES / CLUSTERS {
            let fqdn = format!("node{n:03}.cluster{c:02}.example.com");
            let kind = ["finesse", "cuic", "livedata", "ids", "uccx"][n % 5];
            let node: i64 = sqlx::query_scalar(
                "insert into node (cluster_id, kind, fqdn, version) values ($1, $2, $3, '12.6(2)') returning id",
            )
            .bind(cluster)
            .bind(kind)
            .bind(&fqdn)
            .fetch_one(pool)
            .await?;
            let ports: Vec<i32> = (0..ENDPOINTS_PER_NODE as i32).map(|p| 8440 + p).collect();
            let endpoints: Vec<i64> = sqlx::query_scalar(
                "insert into endpoint (node_id, port) select $1, unnest($2::int[]) returning id",
            )
            .bind(node)
            .bind(&ports)
            .fetch_all(pool)
            .await?;
            for (i, endpoint) in endpoints.into_iter().enumerate() {
                let seq = (c * 1000 + n) * ENDPOINTS_PER_NODE + i;
                let days = (seq as i64 * 37) % 420 - 20;
                let cn = if seq.is_multiple_of(10) {
                    format!("legacy-{seq}")
                } else {
                    fqdn.clone()
                };
                jobs.push((endpoint, pki.leaf(&fqdn, &cn, days)?));
            }
        }
    }
    let recorded: Vec<domain::scans::record::Recorded> = jobs
        .into_iter()
        .map(|(endpoint, chain)| {
            let handshake = Handshake {
                chain,
                protocol: "TLSv1.3".into(),
                cipher_suite: "TLS_AES_256_GCM_SHA384".into(),
                alpn: None,
                client_certificate_requested: false,
                handshake_time: Duration::from_millis(3),
                public_trust: Err(certs::tls::TrustFailure::UnknownIssuer),
                cluster_trust: None,
                signature_error: None,
            };
            domain::scans::record::Recorded::new(endpoint, Ok(handshake), &[])
        })
        .collect();
    for batch in recorded.chunks(256) {
        domain::scans::record::record(pool, scan, batch).await?;
    }
    Ok(sqlx::query_scalar("select count(*) from certificate")
        .fetch_one(pool)
        .await?)
}

/// Server times: from a request's arrival to the end of its response body.
type Samples = Arc<std::sync::Mutex<Vec<Duration>>>;

/// The whole application on a loopback port, as `gatehouse serve` builds it, timing every
/// request on the server's side.
async fn serve(pool: PgPool) -> anyhow::Result<(String, Samples)> {
    let mut cli = <server::config::Cli as clap::Parser>::parse_from(["gatehouse", "serve"]);
    let server::config::Command::Serve(ref mut serve) = cli.command else {
        anyhow::bail!("the serve command");
    };
    serve.listen = "127.0.0.1:0".parse()?;
    serve.bootstrap_admin = Some(format!("{ADMIN}:{PASSWORD}").into());
    serve.secret_key_file = Some(std::env::temp_dir().join("gatehouse-bench-secret.key"));
    // The scans and samples the benches start themselves.
    serve.scan_interval_hours = 0.0;
    serve.sample_interval_seconds = 0;
    let database = server::Database {
        pool,
        embedded: None,
    };
    let samples = Samples::default();
    let timing = samples.clone();
    let app = server::startup::Application::build_on((**serve).clone(), database)
        .await?
        .wrap_router(move |router| {
            router.layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    timed(timing.clone(), request, next)
                },
            ))
        });
    let addr = app.local_addr()?;
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok((format!("http://{addr}"), samples))
}

/// Records the time from now until the response body has been sent (the body is dropped).
async fn timed(
    samples: Samples,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    struct Record(Instant, Samples);
    impl Drop for Record {
        fn drop(&mut self) {
            let elapsed = self.0.elapsed();
            self.1
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(elapsed);
        }
    }
    let record = Record(Instant::now(), samples);
    let response = next.run(request).await;
    response.map(|body| {
        axum::body::Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _ = &record;
            chunk
        }))
    })
}

fn take(samples: &Samples) -> Vec<Duration> {
    let mut taken = std::mem::take(&mut *samples.lock().unwrap_or_else(|e| e.into_inner()));
    taken.sort();
    taken
}

async fn signed_in(origin: &str) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client
        .post(format!("{origin}/api/v1/session"))
        .header("Origin", origin)
        .json(&serde_json::json!({"username": ADMIN, "password": PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "sign-in: {}",
        response.status()
    );
    Ok(client)
}

async fn page(client: &reqwest::Client, origin: &str, path: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = client.get(format!("{origin}{path}")).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        status.is_success() && !body.is_empty(),
        "GET {path}: {status}"
    );
    Ok(elapsed)
}

/// Every client loads `path` `count` times, one after the other, all clients at once.
async fn latencies(
    clients: &[reqwest::Client],
    origin: &str,
    path: &str,
    count: usize,
) -> anyhow::Result<Vec<Duration>> {
    let runs = clients.iter().map(|client| async move {
        let mut samples = Vec::with_capacity(count);
        for _ in 0..count {
            samples.push(page(client, origin, path).await?);
        }
        anyhow::Ok(samples)
    });
    let mut all = Vec::new();
    for samples in futures::future::join_all(runs).await {
        all.extend(samples?);
    }
    all.sort();
    Ok(all)
}

async fn csv_benchmark(client: &reqwest::Client, origin: &str) -> anyhow::Result<String> {
    let mut csv = String::from("cluster,kind,role,fqdn,address,version,tags,ports\n");
    for i in 0..CSV_ROWS {
        writeln!(
            csv,
            "Imported {:02},finesse,none,agent{i:06}.import.example.com,,12.6(2),imported;bench,",
            i % 10
        )?;
    }
    let size = csv.len();
    let mut out = format!("### Inventory CSV import: {CSV_ROWS} rows ({:.1} MB), default endpoints per node\n\n| step | time |\n|---|---|\n", size as f64 / 1e6);
    for (step, dry_run) in [
        ("dry run (every row checked, nothing written)", true),
        ("import (one transaction)", false),
    ] {
        let started = Instant::now();
        let response = client
            .post(format!(
                "{origin}/api/v1/inventory/import?dry_run={dry_run}"
            ))
            .header("Origin", origin)
            .header("Content-Type", "text/csv")
            .body(csv.clone())
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(status.is_success(), "CSV import ({step}): {status} {body}");
        writeln!(out, "| {step} | {} |", ms(elapsed))?;
    }
    out.push('\n');
    Ok(out)
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

/// A driver that times every command of the one it wraps.
struct Timed<'a> {
    inner: &'a vos::ssh::VosSsh,
    samples: &'a std::sync::Mutex<Vec<Duration>>,
}

impl vos::driver::Driver for Timed<'_> {
    async fn run(&self, command: vos::driver::Command) -> Result<String, vos::driver::DriverError> {
        let started = Instant::now();
        let result = self.inner.run(command).await;
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(started.elapsed());
        result
    }
}

async fn appliances_benchmark(pool: PgPool) -> anyhow::Result<String> {
    use vos::driver::{Driver, Store};
    let mut spec = String::from("share_keys = true\n");
    for c in 0..APPLIANCE_NODES / 2 {
        writeln!(spec, "[[cluster]]\nname = \"Bench {c:03}\"")?;
        for (n, role) in ["primary", "secondary"].iter().enumerate() {
            writeln!(
                spec,
                "[[cluster.node]]\nfqdn = \"finesse{n}-{c:03}.bench.example.com\"\nkind = \"finesse\"\nrole = \"{role}\"\npassword = \"Bench!pass1\"\nconnected_users = {{ desktop = 10, proxy = 3 }}"
            )?;
        }
    }
    let spec: sim::fleet::FleetSpec = toml::from_str(&spec)?;
    let fleet = tokio::task::spawn_blocking(move || sim::Fleet::new(spec, None)).await??;
    let running = sim::start(fleet).await?;

    let (origin, _) = serve(pool).await?;
    let client = signed_in(&origin).await?;
    let mut csv = String::from("cluster,kind,role,fqdn,address,version,tags,ports\n");
    for cluster in &running.fleet.spec.clusters {
        for node in &cluster.nodes {
            writeln!(
                csv,
                "{},finesse,{},{},127.0.0.1,12.6(2),bench,8445",
                cluster.name, node.role, node.fqdn
            )?;
        }
    }
    let imported = client
        .post(format!("{origin}/api/v1/inventory/import"))
        .header("Origin", &origin)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await?;
    anyhow::ensure!(
        imported.status().is_success(),
        "import: {}",
        imported.status()
    );
    let nodes: Vec<serde_json::Value> = client
        .get(format!("{origin}/api/v1/nodes"))
        .send()
        .await?
        .json()
        .await?;
    let mut ids = Vec::new();
    for node in &nodes {
        let fqdn = node["fqdn"].as_str().unwrap_or_default();
        let addr = running
            .node(fqdn)
            .ok_or_else(|| anyhow::anyhow!("{fqdn} not simulated"))?;
        let id = node["id"].as_i64().unwrap_or_default();
        let saved = client
            .put(format!("{origin}/api/v1/nodes/{id}/credentials"))
            .header("Origin", &origin)
            .json(&serde_json::json!({"username": "admin", "password": "Bench!pass1", "port": addr.ssh.port()}))
            .send()
            .await?;
        anyhow::ensure!(
            saved.status().is_success(),
            "credentials: {}",
            saved.status()
        );
        ids.push(id);
    }

    // Through Gatehouse: every node's stores, then everyone's connected users.
    let started = Instant::now();
    let reads = ids.iter().map(|id| {
        let (client, origin) = (&client, &origin);
        async move {
            let response = client
                .post(format!("{origin}/api/v1/nodes/{id}/stores/read"))
                .header("Origin", origin)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "stores of {id}: {}",
                response.status()
            );
            anyhow::Ok(())
        }
    });
    for read in futures::future::join_all(reads).await {
        read?;
    }
    let stores_done = started.elapsed();
    // The page waits at most 4 s for the nodes; ask until every node has been read.
    loop {
        let agents: serde_json::Value = client
            .get(format!("{origin}/api/v1/connected-agents"))
            .send()
            .await?
            .json()
            .await?;
        let counted = agents["totals"]["total"].as_u64().unwrap_or_default();
        if counted == 10 * APPLIANCE_NODES as u64 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "connected agents: {agents}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let total = started.elapsed();

    // The driver alone, each command timed (a new session per node: pagination off included).
    let samples = std::sync::Mutex::new(Vec::new());
    let bound = Arc::new(tokio::sync::Semaphore::new(16));
    let started = Instant::now();
    let runs = running.nodes.iter().map(|node| {
        let driver = vos::ssh::VosSsh::new(
            vos::ssh::Target {
                host: node.ssh.ip().to_string(),
                port: node.ssh.port(),
                username: "admin".into(),
                password: "Bench!pass1".into(),
            },
            None,
            vos::ssh::Settings::default(),
            bound.clone(),
        );
        let samples = &samples;
        async move {
            let timed = Timed {
                inner: &driver,
                samples,
            };
            for store in [Store::Own, Store::Trust] {
                for entry in timed.cert_list(store).await? {
                    timed.cert_pem(store, &entry).await?;
                }
            }
            timed.connected_users().await?;
            anyhow::Ok(())
        }
    });
    for run in futures::future::join_all(runs).await {
        run?;
    }
    let driver_time = started.elapsed();
    let mut samples = samples.into_inner().unwrap_or_default();
    samples.sort();
    let commands = samples.len();
    let per_second = commands as f64 / driver_time.as_secs_f64();

    let mut out = format!(
        "### Appliances: {APPLIANCE_NODES} simulated Finesse nodes over SSH (loopback)\n\n"
    );
    out += "| measure | result |\n|---|---|\n";
    writeln!(
        out,
        "| Gatehouse: every node's certificate stores (REST `stores/read`, all at once) | {} |",
        ms(stores_done)
    )?;
    writeln!(
        out,
        "| Gatehouse: stores and connected users of all nodes | {} {} (goal ≤ 30 s) |",
        ms(total),
        verdict(total <= Duration::from_secs(30))
    )?;
    writeln!(out, "| driver alone: commands (cert lists, each file, connected users) | {commands} in {} = {per_second:.0} commands/s |", ms(driver_time))?;
    writeln!(out, "| driver alone: command latency p50 / p95 / max (with the wait for one of 16 sessions) | {} / {} / {} |", ms(percentile(&samples, 50)), ms(percentile(&samples, 95)), ms(samples.last().copied().unwrap_or_default()))?;
    out.push('\n');
    Ok(out)
}
