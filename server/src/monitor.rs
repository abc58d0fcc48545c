//! Prometheus metrics (`GET /metrics`): the latest probe of each endpoint and the certificates
//! it was served, judged at the time of the request, and the access policy's drift.

use crate::api::error::ApiError;
use domain::scans::stats::MonitoringFacts;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(String, String)>;

fn gauge_family(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> Family<Labels, Gauge<f64, AtomicU64>> {
    let family = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    registry.register(name, help, family.clone());
    family
}

/// The Prometheus text exposition of the current state.
pub fn metrics(facts: &MonitoringFacts) -> Result<String, ApiError> {
    let (endpoints, now) = (&facts.fleet.endpoints, facts.fleet.at);
    let mut registry = Registry::with_prefix("gatehouse");
    let not_after = gauge_family(
        &mut registry,
        "cert_not_after_seconds",
        "When a served certificate expires (Unix seconds).",
    );
    let not_before = gauge_family(
        &mut registry,
        "cert_not_before_seconds",
        "When a served certificate became valid (Unix seconds).",
    );
    let state = gauge_family(
        &mut registry,
        "cert_alert_state",
        "Alert state of a served certificate: 0 ok, 1 warning, 2 critical, 3 expired.",
    );
    for (e, position, cert) in endpoints
        .iter()
        .flat_map(|e| e.chain.iter().map(move |(p, c)| (e, p, c)))
    {
        let labels: Labels = vec![
            ("cluster".into(), e.cluster.clone()),
            ("node".into(), e.fqdn.clone()),
            ("endpoint".into(), e.port.to_string()),
            ("kind".into(), e.kind.clone()),
            (
                "subject_cn".into(),
                cert.subject_cn.clone().unwrap_or_default(),
            ),
            (
                "issuer_cn".into(),
                cert.issuer_cn.clone().unwrap_or_default(),
            ),
            ("serial".into(), cert.serial.clone()),
            ("fingerprint_sha256".into(), cert.sha256.clone()),
            ("chain_position".into(), position.to_string()),
        ];
        not_after.get_or_create(&labels).set(cert.not_after as f64);
        not_before
            .get_or_create(&labels)
            .set(cert.not_before as f64);
        state
            .get_or_create(&labels)
            .set(e.state_of(cert, now) as i64 as f64);
    }
    let success = gauge_family(
        &mut registry,
        "probe_success",
        "Whether the latest probe of an endpoint succeeded (1) or not (0).",
    );
    let duration = gauge_family(
        &mut registry,
        "probe_duration_seconds",
        "TLS handshake time of the latest successful probe.",
    );
    for (e, p) in endpoints
        .iter()
        .filter_map(|e| e.probe.as_ref().map(|p| (e, p)))
    {
        let labels: Labels = vec![
            ("node".into(), e.fqdn.clone()),
            ("endpoint".into(), e.port.to_string()),
        ];
        success
            .get_or_create(&labels)
            .set(if p.ok { 1.0 } else { 0.0 });
        if let Some(ms) = p.handshake_ms {
            duration.get_or_create(&labels).set(ms / 1000.0);
        }
    }
    let errors = Family::<Labels, prometheus_client::metrics::counter::Counter>::default();
    registry.register(
        "probe_errors",
        "Failed probes since records began, by reason code.",
        errors.clone(),
    );
    for (code, count) in &facts.probe_failures {
        errors
            .get_or_create(&vec![("reason".into(), code.clone())])
            .inc_by(u64::try_from(*count).unwrap_or_default());
    }
    let last_scan = gauge_family(
        &mut registry,
        "last_scan_timestamp_seconds",
        "When the last finished scan ended (Unix seconds).",
    );
    if let Some(at) = facts.last_scan {
        last_scan
            .get_or_create(&Vec::new())
            .set(at.unix_timestamp() as f64);
    }
    let drift = gauge_family(
        &mut registry,
        "policy_drift",
        "1 for each item of a managed node that differs from its access policy (as last checked).",
    );
    for d in &facts.drift {
        let labels: Labels = vec![
            ("cluster".into(), d.cluster.clone()),
            ("node".into(), d.fqdn.clone()),
            ("item".into(), d.item.clone()),
        ];
        drift.get_or_create(&labels).set(1.0);
    }
    let agents = gauge_family(
        &mut registry,
        "connected_agents",
        "Agents connected to a Finesse node as it last counted them, on the LAN or through a proxy.",
    );
    for (cluster, node, lan, proxy) in &facts.agents {
        for (via, count) in [("lan", lan), ("proxy", proxy)] {
            let labels: Labels = vec![
                ("cluster".into(), cluster.clone()),
                ("node".into(), node.clone()),
                ("via".into(), via.into()),
            ];
            agents.get_or_create(&labels).set(*count as f64);
        }
    }
    let bans = gauge_family(
        &mut registry,
        "proxy_bans",
        "Addresses and accounts a gatehouse-proxy instance bans, as it last reported.",
    );
    let sessions = gauge_family(
        &mut registry,
        "proxy_sessions",
        "Sessions (a user from an address) through a gatehouse-proxy instance, as it last reported.",
    );
    let behind = gauge_family(
        &mut registry,
        "proxy_config_behind",
        "1 when a gatehouse-proxy instance serves another configuration version than it was told to.",
    );
    for i in &facts.proxies {
        let labels: Labels = vec![
            ("pair".into(), i.pair.clone()),
            ("instance".into(), i.name.clone()),
        ];
        bans.get_or_create(&labels).set(i.bans as f64);
        sessions.get_or_create(&labels).set(i.sessions as f64);
        behind
            .get_or_create(&labels)
            .set(if i.in_force == i.published { 0.0 } else { 1.0 });
    }
    let mut text = String::new();
    encode(&mut text, &registry).map_err(ApiError::internal)?;
    Ok(text)
}
