//! 1. Scan: 1,000 TLS endpoints on loopback scanned through the job queue by two replicas,
//!    against a bare handshake loop; then the queue itself (pickup latency, overhead per job).

use super::*;

pub(super) struct Pki {
    ca: rcgen::Certificate,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    /// One leaf key for every leaf (key generation is not what is measured).
    leaf_key: rcgen::KeyPair,
    key_kind: &'static str,
}

impl Pki {
    pub(crate) fn new() -> anyhow::Result<Self> {
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
    pub(crate) fn leaf(&self, fqdn: &str, cn: &str, days: i64) -> anyhow::Result<Vec<Vec<u8>>> {
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

pub(super) async fn scan_benchmark(pool: &PgPool) -> anyhow::Result<String> {
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

    // Two replicas on the database, each with its job worker: a scan is asked over REST of
    // the first and runs on whichever takes its job.
    let (base, _) = super::dashboard::serve(pool.clone()).await?;
    let _second = super::dashboard::serve(pool.clone()).await?;
    let client = super::dashboard::signed_in(&base).await?;
    let connector = bare_connector();
    // Warm up both (first connections, the system roots parsed once).
    bare_loop(&connector, &targets).await?;
    scan(pool, &client, &base).await?;

    let mut bare = Vec::new();
    let mut scans = Vec::new();
    for round in 0..ROUNDS {
        eprintln!("scan benchmark: round {}", round + 1);
        bare.push(bare_loop(&connector, &targets).await?);
        scans.push(scan(pool, &client, &base).await?);
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
        "| Gatehouse scan through the job queue, 2 replicas (queue, probe, parse, chain check, record in PostgreSQL) | {} | ≤ 5,000 ms {} |",
        ms(scan),
        verdict(scan <= Duration::from_secs(5))
    )?;
    writeln!(
        out,
        "| ratio scan / bare | {ratio:.2}× | ≤ 1.5× {} |\n",
        verdict(ratio <= 1.5)
    )?;
    out += &queue_benchmark(pool).await?;
    Ok(out)
}

/// The queue with two idle replicas: how soon a queued job starts (one at a time, 20 ms apart),
/// and the cost of a job through the queue (1,000 queued at once, run by both replicas' 4 slots).
async fn queue_benchmark(pool: &PgPool) -> anyhow::Result<String> {
    use domain::jobs::{enqueue, Kind, Nothing, Ping};
    let ping = || Ping::job(Nothing {}, "bench");
    let wait_done = |first: i64, count: i64| async move {
        loop {
            let left: i64 = sqlx::query_scalar(
                "select count(*) from job where id >= $1 and id < $1 + $2 and state <> 'done'",
            )
            .bind(first)
            .bind(count)
            .fetch_one(pool)
            .await?;
            if left == 0 {
                return anyhow::Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    const SPACED: i64 = 200;
    let mut connection = pool.acquire().await?;
    let mut first = 0;
    for n in 0..SPACED {
        let id = enqueue(&mut connection, &ping()).await?;
        if n == 0 {
            first = id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_done(first, SPACED).await?;
    let mut pickup: Vec<Duration> = sqlx::query_scalar::<_, f64>(
        "select extract(epoch from started_at - created_at)::float8 from job where id >= $1 and id < $1 + $2",
    )
    .bind(first)
    .bind(SPACED)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|s| Duration::from_secs_f64(s.max(0.0)))
    .collect();
    pickup.sort();
    let (p50, p95) = (percentile(&pickup, 50), percentile(&pickup, 95));

    const BURST: i64 = 1_000;
    let started = Instant::now();
    let mut first = 0;
    for n in 0..BURST {
        let id = enqueue(&mut connection, &ping()).await?;
        if n == 0 {
            first = id;
        }
    }
    let queued = started.elapsed();
    wait_done(first, BURST).await?;
    let all = started.elapsed();
    let mut out = String::new();
    writeln!(
        out,
        "### Job queue: 2 idle replicas, 4 slots each
"
    )?;
    writeln!(
        out,
        "| | measured | goal |
|---|---|---|"
    )?;
    writeln!(
        out,
        "| pickup: queued → started, {SPACED} jobs 20 ms apart, p50 / p95 | {} / {} | p95 ≤ 1,000 ms {} |",
        ms(p50),
        ms(p95),
        verdict(p95 <= Duration::from_secs(1))
    )?;
    writeln!(
        out,
        "| {BURST} jobs queued at once: queueing / all done | {} / {} | |",
        ms(queued),
        ms(all)
    )?;
    writeln!(
        out,
        "| overhead per job (queue, claim, run nothing, finish) | {:.2} ms | |\n",
        all.as_secs_f64() * 1000.0 / BURST as f64
    )?;
    Ok(out)
}

/// One fleet scan asked over REST and run by a replica's job worker; its wall time from the
/// request to `done`.
async fn scan(pool: &PgPool, client: &reqwest::Client, base: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/v1/scans"))
        .header("Origin", base)
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == 202,
        "starting a scan: {}",
        response.status()
    );
    let id = response.json::<serde_json::Value>().await?["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("a scan id"))?;
    loop {
        let (state, done, total): (String, i32, i32) =
            sqlx::query_as("select state, done, total from scan where id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?;
        if state != "running" && state != "queued" {
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
