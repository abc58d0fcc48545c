//! `gatehouse serve --demo`: the simulated demo fleet (`sim/demo-fleet.toml`) runs inside the
//! server on loopback and is registered in the inventory (clusters named `Demo: ...`, nodes
//! tagged `simulated`, their platform admin accounts stored), so that a new user sees live
//! appliances at once. Registration only adds what is missing: what an admin changed or
//! deleted since is left as it is, until the next start adds missing nodes back.
//!
//! Then, in the background, the demo nodes are looked at as an admin would: their endpoints
//! probed (one scan), their certificate stores read over SSH; the sampler reads the Finesse
//! nodes' connected users. A new user's first page shows live data, not "not scanned yet".
//!
//! On the first start, the Finesse, Reporting and Identity clusters are put under one shared
//! access policy (the demo's proxy pair), planned and applied through the reconciliation engine, and
//! then one node is changed by hand on purpose (a host added on finesse2), so the drift shows
//! on the policy page at once: the whole loop in one look.

use anyhow::{Context, Result};
use domain::appliances::CredentialsInput;
use domain::auth::principal::RequestContext;
use domain::auth::Role;
use domain::inventory::model::{NodeKind, NodeRole};
use domain::inventory::{ClusterInput, EndpointSpec, NodeInput};
use domain::reconcile::PlanState;
use domain::Services;
use std::path::Path;

pub mod vpnless;

/// Starts the demo fleet and registers it; the fleet runs as long as the returned value lives.
pub async fn start(
    state: &Services,
    data_dir: &Path,
    console: vpnless::Console,
) -> Result<sim::Running> {
    let state_file = data_dir.join("demo-fleet.state.json");
    let running = sim::start_toml(sim::DEMO_FLEET, Some(state_file))
        .await
        .context(
            "starting the demo fleet (run without --demo if its ports 27201-27428 are taken)",
        )?;
    let ids = register(state, &running).await?;
    let (looking, policy, posture_state) = (state.clone(), state.clone(), state.clone());
    let fleet = running.fleet.clone();
    tokio::spawn(async move {
        tokio::join!(look_at(looking, ids.clone()), under_policy(policy, fleet));
        postures(posture_state, ids).await;
    });
    tokio::spawn(vpnless::set_up(
        state.clone(),
        demo_context(),
        running.fleet.clone(),
        data_dir.to_path_buf(),
        console,
    ));
    tracing::info!(
        nodes = running.nodes.len(),
        "demo fleet running (simulated appliances)"
    );
    Ok(running)
}

fn demo_context() -> RequestContext {
    RequestContext::system("demo", Role::Admin, "local")
}

/// Probes the demo nodes' endpoints and reads their certificate stores (each failure is in
/// the node's page and the audit log, as for any node).
async fn look_at(state: Services, ids: Vec<i64>) {
    if let Err(error) = state
        .scans
        .start("system:demo".into(), Some(ids.clone()))
        .await
    {
        tracing::warn!(error = %format!("{error:#}"), "scanning the demo fleet");
    }
    let context = demo_context();
    // A BroadWorks node has no VOS certificate stores (its CTI page reads its settings).
    let broadworks: Vec<i64> =
        match domain::inventory::store::list_nodes(&state.pool, &context, None).await {
            Ok(nodes) => nodes
                .iter()
                .filter(|n| n.kind == NodeKind::BroadWorks)
                .map(|n| n.id)
                .collect(),
            Err(_) => Vec::new(),
        };
    let ids: Vec<i64> = ids
        .into_iter()
        .filter(|id| !broadworks.contains(id))
        .collect();
    let reads = ids
        .iter()
        .map(|id| domain::appliances::store::read_stores(&state, &context, *id));
    for (id, read) in ids.iter().zip(futures::future::join_all(reads).await) {
        if let Err(error) = read {
            tracing::warn!(node = id, %error, "reading a demo node's certificate stores");
        }
    }
}

/// Each demo cluster's security posture, once the look and the policy are done and the jobs
/// they queued (the scan's probes, the store reads after the policy's imports) have run, a
/// minute at most.
async fn postures(state: Services, ids: Vec<i64>) {
    let context = demo_context();
    for _ in 0..60 {
        let pending = sqlx::query_scalar!(
            r#"select count(*) as "n!" from job where state in ('queued', 'running')
               and kind in ('scan', 'fleet_scan', 'store_read', 'plan_read', 'plan_apply') and run_after <= now()"#
        )
        .fetch_one(&state.pool)
        .await;
        if !matches!(pending, Ok(n) if n > 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let clusters = sqlx::query_scalar!(
        "select distinct cluster_id from node where id = any($1) order by cluster_id",
        &ids
    )
    .fetch_all(&state.pool)
    .await
    .unwrap_or_default();
    for cluster in clusters {
        if let Err(error) = domain::posture::store::scan(&state, &context, cluster).await {
            tracing::warn!(cluster, %error, "the demo cluster's posture");
        }
    }
}

/// Adds what is missing of the demo fleet; returns the ids of its nodes in the inventory.
async fn register(state: &Services, running: &sim::Running) -> Result<Vec<i64>> {
    let context = demo_context();
    let pool = &state.pool;
    let mut ids = Vec::new();
    let clusters = domain::inventory::store::list_clusters(pool, &context).await?;
    let nodes = domain::inventory::store::list_nodes(pool, &context, None).await?;
    for cluster in &running.fleet.spec.clusters {
        let cluster_id = match clusters.iter().find(|c| c.name == cluster.name) {
            Some(c) => c.id,
            None => {
                domain::inventory::store::create_cluster(
                    pool,
                    &context,
                    ClusterInput {
                        name: cluster.name.clone(),
                        description: Some(
                            "Simulated appliances of the demo fleet (gatehouse serve --demo)"
                                .into(),
                        ),
                    },
                )
                .await?
            }
        };
        for node in &cluster.nodes {
            if let Some(known) = nodes.iter().find(|n| n.fqdn == node.fqdn) {
                ids.push(known.id);
                continue;
            }
            let Some(addr) = running.node(&node.fqdn) else {
                continue;
            };
            let kind = NodeKind::parse(&node.kind).map_err(anyhow::Error::msg)?;
            let role = NodeRole::parse(&node.role).map_err(anyhow::Error::msg)?;
            let saved = domain::inventory::store::create_node(
                pool,
                &context,
                NodeInput {
                    cluster_id,
                    kind,
                    role: Some(role),
                    fqdn: node.fqdn.clone(),
                    address: Some(addr.ssh.ip().to_string()),
                    version: Some(node.version.clone()),
                    tags: Some(vec!["simulated".into(), "demo".into()]),
                    endpoints: Some(
                        addr.https
                            .iter()
                            .map(|a| EndpointSpec {
                                port: a.port(),
                                purpose: Some("simulated".into()),
                            })
                            .collect(),
                    ),
                },
            )
            .await?;
            domain::appliances::store::set_credentials(
                state,
                &context,
                saved.id,
                CredentialsInput {
                    username: node.username.clone(),
                    password: node.password.clone(),
                    port: Some(addr.ssh.port()),
                },
            )
            .await?;
            // Where its plain ports are (the posture's HTTP, HSTS and notification probes).
            let mut ports = std::collections::BTreeMap::new();
            let named = [
                ("http", addr.http.first()),
                ("http_alt", addr.http.get(1)),
                ("xmpp", addr.insecure.first()),
                ("bosh", addr.insecure.get(1)),
                ("cti", addr.cti.first()),
            ];
            for (service, at) in named {
                if let Some(at) = at {
                    ports.insert(service.to_owned(), at.port());
                }
            }
            if let (Some(desktop), true) = (addr.https.first(), kind == NodeKind::Finesse) {
                ports.insert("desktop".to_owned(), desktop.port());
            }
            if !ports.is_empty() {
                domain::posture::store::set_ports(state, &context, saved.id, &ports).await?;
            }
            // The first connection pins the simulated node's host key (as an admin's test of
            // the connection does): reads pin nothing, and the sampler starts at once.
            domain::appliances::store::test_connection(state, &context, saved.id).await?;
            ids.push(saved.id);
        }
    }
    Ok(ids)
}

/// The clusters the demo puts under its access policy.
const POLICY_CLUSTERS: [&str; 3] = ["Demo: Finesse", "Demo: Reporting", "Demo: Identity"];

/// Puts the demo clusters under the proxy pair's policy and applies it (first start only),
/// then drifts one node on purpose and checks.
async fn under_policy(state: Services, fleet: std::sync::Arc<sim::Fleet>) {
    match apply_policy(&state, &fleet).await {
        Ok(false) => return,
        Ok(true) => {}
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "putting the demo clusters under an access policy");
            return;
        }
    }
    if let Some(node) = fleet.index("finesse2.demo.example.com") {
        fleet.change_by_hand(node, |s| s.allowed_hosts.push("198.51.100.23".into()));
    }
    if let Err(error) = domain::reconcile::drift::check_now(&state, &demo_context()).await {
        tracing::warn!(%error, "checking the demo fleet's drift");
    }
}

/// Saves the demo policy on the first cluster, the others follow it (one proxy pair, one
/// policy), then plans and applies it once (first start only); whether it did.
async fn apply_policy(state: &Services, fleet: &sim::Fleet) -> Result<bool> {
    use domain::access_policy::{
        store as policies, AccessPolicy, CorsMode, ProductAccess, Save, TrustedProxy,
    };
    let context = demo_context();
    let clusters = domain::inventory::store::list_clusters(&state.pool, &context).await?;
    // Each proxy's own certificate (the simulated proxy's tomcat certificate): the policy
    // imports it into every component's tomcat-trust (seed 004).
    let certificate = |host: &str| {
        fleet.index(host).and_then(|node| {
            fleet
                .state(node)
                .own
                .into_iter()
                .find(|c| c.unit == "tomcat")
                .map(|c| c.cert_pem)
        })
    };
    let proxy = |name: &str, host: &str, origin: &str| TrustedProxy {
        name: name.into(),
        hosts: vec![host.into()],
        origins: vec![origin.into()],
        client_certificate: certificate(host),
    };
    let only_allowed = ProductAccess {
        cors: CorsMode::Enable,
        ..ProductAccess::default()
    };
    let policy = AccessPolicy {
        proxies: vec![
            proxy(
                "proxy A",
                "proxy-a.demo.example.com",
                "https://desk-a.demo.example.com",
            ),
            proxy(
                "proxy B",
                "proxy-b.demo.example.com",
                "https://desk-b.demo.example.com",
            ),
        ],
        client_auth: true,
        finesse: only_allowed.clone(),
        cuic: only_allowed.clone(),
        livedata: only_allowed,
    };
    let mut members = POLICY_CLUSTERS
        .iter()
        .filter_map(|name| clusters.iter().find(|c| c.name == *name));
    let Some(leader) = members.next() else {
        return Ok(false);
    };
    if policies::policy(&state.pool, &context, leader.id)
        .await?
        .version
        > 0
    {
        return Ok(false);
    }
    let save = Save {
        policy,
        base_version: Some(0),
        reason: "demo: the VPN-less proxy pair".into(),
    };
    policies::save(&state.pool, &context, leader.id, save).await?;
    for member in members {
        policies::follow(&state.pool, &context, member.id, leader.id).await?;
    }
    let plan = policies::plan(&state.pool, &context, leader.id).await?;
    wait_for(state, plan, &[PlanState::Ready]).await?;
    domain::reconcile::store::apply(state, &context, plan).await?;
    wait_for(
        state,
        plan,
        &[PlanState::Applied, PlanState::Failed, PlanState::Cancelled],
    )
    .await?;
    Ok(true)
}

/// Waits (up to two minutes) for a plan to reach one of `states`.
async fn wait_for(state: &Services, plan: i64, states: &[PlanState]) -> Result<()> {
    for _ in 0..240 {
        let view = domain::reconcile::store::view(state, &demo_context(), plan).await?;
        if states.contains(&view.state) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    anyhow::bail!("the demo's plan {plan} did not reach {states:?} within two minutes")
}
