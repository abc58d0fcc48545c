//! 5. Access policy: a one-proxy change planned and applied across a simulated fleet of
//!    Finesse, CUIC, LiveData and IdS nodes (gatehouse-sim, real SSH on loopback), through the
//!    REST API and the job queue, with the SSH bounds in force (16 sessions, 2 per node).

use super::*;
use crate::appliances::in_inventory;
use crate::dashboard::{serve, signed_in};
use serde_json::{json, Value};

const KINDS: [&str; 4] = ["finesse", "cuic", "livedata", "ids"];
const PROXIES: [(&str, &str); 2] = [
    ("proxy-a.bench.test", "127.0.0.10"),
    ("proxy-b.bench.test", "127.0.0.11"),
];

pub(super) async fn policy_benchmark(pool: PgPool) -> anyhow::Result<String> {
    let clusters = POLICY_NODES / (2 * KINDS.len());
    let mut spec = String::from("share_keys = true\n[hosts]\n");
    for (name, address) in PROXIES {
        writeln!(spec, "\"{name}\" = \"{address}\"")?;
    }
    for c in 0..clusters {
        writeln!(spec, "[[cluster]]\nname = \"Policy {c:03}\"")?;
        for kind in KINDS {
            for (n, role) in ["primary", "secondary"].iter().enumerate() {
                writeln!(
                    spec,
                    "[[cluster.node]]\nfqdn = \"{kind}{n}-{c:03}.bench.example.com\"\nkind = \"{kind}\"\nrole = \"{role}\"\npassword = \"Bench!pass1\"\nrestart_ms = 10"
                )?;
            }
        }
    }
    let running = sim::start_toml(&spec, None).await?;
    let (origin, _) = serve(pool.clone()).await?;
    let client = signed_in(&origin).await?;
    // The proxies in the inventory with their addresses: their names resolve for Gatehouse.
    let mut proxies = String::new();
    for (name, address) in PROXIES {
        writeln!(
            proxies,
            "Policy 000,reverse_proxy,none,{name},{address},,bench,"
        )?;
    }
    let nodes = in_inventory(&client, &origin, &running, &proxies)
        .await?
        .len();
    let listed: Vec<Value> = client
        .get(format!("{origin}/api/v1/clusters"))
        .send()
        .await?
        .json()
        .await?;
    let ids: Vec<i64> = listed.iter().filter_map(|c| c["id"].as_i64()).collect();
    let leader = *ids.first().ok_or_else(|| anyhow::anyhow!("no cluster"))?;
    let api = Api {
        client: &client,
        origin: &origin,
    };

    // Before the measure: proxy A trusted everywhere, every cluster following one policy.
    let proxy = |name: &str, host: &str, origin: &str| json!({"name": name, "hosts": [host], "origins": [origin]});
    let mut policy = json!({
        "proxies": [proxy("proxy A", PROXIES[0].0, "https://desk-a.bench.example.com")],
        "finesse": {"cors": "enable"}, "cuic": {"cors": "enable"}, "livedata": {"cors": "enable"},
    });
    api.send(
        reqwest::Method::PUT,
        &format!("/api/v1/clusters/{leader}/access-policy"),
        json!({"policy": policy, "base_version": 0}),
    )
    .await?;
    for id in &ids[1..] {
        api.send(
            reqwest::Method::POST,
            &format!("/api/v1/clusters/{id}/access-policy/follow"),
            json!({"cluster_id": leader}),
        )
        .await?;
    }
    let (setup, ..) = api.plan_and_apply(leader).await?;
    anyhow::ensure!(
        setup["state"] == "applied",
        "setup plan: {}",
        setup["state"]
    );

    // The measure: proxy B added (its host, origins and frame-ancestors on every node).
    policy["proxies"]
        .as_array_mut()
        .ok_or_else(|| anyhow::anyhow!("proxies"))?
        .push(proxy(
            "proxy B",
            PROXIES[1].0,
            "https://desk-b.bench.example.com",
        ));
    let version = api
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/clusters/{leader}/access-policy"),
            Value::Null,
        )
        .await?["version"]
        .as_i64()
        .unwrap_or_default();
    api.send(
        reqwest::Method::PUT,
        &format!("/api/v1/clusters/{leader}/access-policy"),
        json!({"policy": policy, "base_version": version}),
    )
    .await?;
    let (plan, planned, applied) = api.plan_and_apply(leader).await?;
    let plan_id = plan["id"].as_i64().unwrap_or_default();
    let verified = plan["nodes"]
        .as_array()
        .map_or(0, |n| n.iter().filter(|n| n["state"] == "verified").count());
    let commands = plan["nodes"].as_array().map_or(0, |n| {
        n.iter()
            .map(|n| n["steps"].as_array().map_or(0, Vec::len))
            .sum()
    });
    let mut per_node: Vec<Duration> = sqlx::query_scalar(
        "select extract(epoch from p.updated_at - min(s.started_at))::float8
         from plan_node p join plan_step s using (plan_id, node_id)
         where p.plan_id = $1 group by p.node_id, p.updated_at",
    )
    .bind(plan_id)
    .fetch_all(&pool)
    .await?
    .into_iter()
    .map(|s: f64| Duration::from_secs_f64(s.max(0.0)))
    .collect();
    per_node.sort();
    let total = planned + applied;

    let mut out = format!("### Access policy: one proxy added across {nodes} simulated nodes ({clusters} clusters of 2 Finesse, 2 CUIC, 2 LiveData, 2 IdS; one shared policy)\n\n");
    out += "| measure | result |\n|---|---|\n";
    writeln!(
        out,
        "| plan: `POST .../plan` to `ready` (every node read over SSH) | {} |",
        ms(planned)
    )?;
    writeln!(out, "| apply: confirm to `applied` ({commands} commands, every node read again and verified) | {} |", ms(applied))?;
    writeln!(
        out,
        "| plan and apply | {} {} (goal ≤ 30 s) |",
        ms(total),
        verdict(total <= Duration::from_secs(30) && verified == nodes)
    )?;
    writeln!(out, "| nodes verified | {verified} of {nodes} |")?;
    writeln!(
        out,
        "| per node, first command to verified: p50 / p95 / max | {} / {} / {} |",
        ms(percentile(&per_node, 50)),
        ms(percentile(&per_node, 95)),
        ms(per_node.last().copied().unwrap_or_default())
    )?;
    out.push('\n');
    Ok(out)
}

struct Api<'a> {
    client: &'a reqwest::Client,
    origin: &'a str,
}

impl Api<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.origin))
            .header("Origin", self.origin);
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn wait(&self, plan: i64, states: &[&str]) -> anyhow::Result<Value> {
        let started = Instant::now();
        loop {
            let view = self
                .send(
                    reqwest::Method::GET,
                    &format!("/api/v1/plans/{plan}"),
                    Value::Null,
                )
                .await?;
            if states.iter().any(|s| view["state"] == *s) {
                return Ok(view);
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(300),
                "plan {plan} stays {}",
                view["state"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Plans the leader's policy, waits until it is ready, applies it and waits until it
    /// ended: the plan as it ended, the time to ready and the time to the end.
    async fn plan_and_apply(&self, leader: i64) -> anyhow::Result<(Value, Duration, Duration)> {
        let started = Instant::now();
        let made = self
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/clusters/{leader}/access-policy/plan"),
                Value::Null,
            )
            .await?;
        let id = made["id"]
            .as_i64()
            .ok_or_else(|| anyhow::anyhow!("plan: {made}"))?;
        let ready = self.wait(id, &["ready", "failed"]).await?;
        anyhow::ensure!(ready["state"] == "ready", "plan {id}: {}", ready["state"]);
        let planned = started.elapsed();
        let started = Instant::now();
        self.send(
            reqwest::Method::POST,
            &format!("/api/v1/plans/{id}/apply"),
            Value::Null,
        )
        .await?;
        let ended = self.wait(id, &["applied", "failed", "cancelled"]).await?;
        Ok((ended, planned, started.elapsed()))
    }
}
