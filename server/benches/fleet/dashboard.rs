//! 2. Dashboard (and 3. the inventory CSV import, on the same running server).

use super::*;
use crate::scan::Pki;

pub(super) async fn dashboard_benchmark(pool: &PgPool) -> anyhow::Result<String> {
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
pub(super) async fn serve(pool: PgPool) -> anyhow::Result<(String, Samples)> {
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
    serve.drift_interval_minutes = 0;
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

pub(super) async fn signed_in(origin: &str) -> anyhow::Result<reqwest::Client> {
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
