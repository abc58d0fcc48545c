//! 1. Scan: the real scanner over 1,000 TLS endpoints on loopback, against a bare handshake loop.

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
