//! 4. Appliances: a simulated fleet of Finesse nodes read over SSH and REST, then the driver alone.

use super::*;
use crate::dashboard::{serve, signed_in};

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

pub(super) async fn appliances_benchmark(pool: PgPool) -> anyhow::Result<String> {
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
    let running = sim::start_toml(&spec, None).await?;

    let (origin, _) = serve(pool).await?;
    let client = signed_in(&origin).await?;
    let ids = in_inventory(&client, &origin, &running, "").await?;

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

/// Imports the simulated fleet into Gatehouse's inventory over REST (its kinds and roles, each
/// node at 127.0.0.1, plus the rows in `extra_csv`) and gives every simulated node its
/// credentials. Returns the ids of the simulated nodes.
pub(super) async fn in_inventory(
    client: &reqwest::Client,
    origin: &str,
    running: &sim::Running,
    extra_csv: &str,
) -> anyhow::Result<Vec<i64>> {
    let mut csv = String::from("cluster,kind,role,fqdn,address,version,tags,ports\n");
    for cluster in &running.fleet.spec.clusters {
        for node in &cluster.nodes {
            writeln!(
                csv,
                "{},{},{},{},127.0.0.1,12.6(2),bench,8443",
                cluster.name, node.kind, node.role, node.fqdn
            )?;
        }
    }
    csv += extra_csv;
    let imported = client
        .post(format!("{origin}/api/v1/inventory/import"))
        .header("Origin", origin)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await?;
    anyhow::ensure!(
        imported.status().is_success(),
        "import: {} {}",
        imported.status(),
        imported.text().await.unwrap_or_default()
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
        let Some(addr) = running.node(fqdn) else {
            continue;
        };
        let spec = running
            .fleet
            .spec
            .clusters
            .iter()
            .flat_map(|c| &c.nodes)
            .find(|n| n.fqdn == fqdn)
            .ok_or_else(|| anyhow::anyhow!("{fqdn} not in the fleet"))?;
        let id = node["id"].as_i64().unwrap_or_default();
        let saved = client
            .put(format!("{origin}/api/v1/nodes/{id}/credentials"))
            .header("Origin", origin)
            .json(&serde_json::json!({"username": spec.username, "password": spec.password, "port": addr.ssh.port()}))
            .send()
            .await?;
        anyhow::ensure!(
            saved.status().is_success(),
            "credentials: {}",
            saved.status()
        );
        ids.push(id);
    }
    Ok(ids)
}
