//! What monitoring systems poll: the alert state of every served certificate
//! (`GET /api/v1/alerts`) and Prometheus metrics (`GET /metrics`). Both read the latest probe of
//! each endpoint; expiry is judged at the time of the request.

use app::error::AppError;
use certs::lints::{AlertState, Thresholds};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;
use sqlx::PgPool;
use std::sync::atomic::AtomicU64;

/// One certificate as an endpoint serves it now.
#[derive(Debug, Clone)]
pub struct Served {
    pub endpoint_id: i64,
    pub node_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub kind: String,
    pub version: String,
    /// The probe's chain verified against the system roots.
    pub publicly_trusted: bool,
    pub port: i32,
    pub position: i32,
    pub info: certs::CertInfo,
    pub state: AlertState,
}

/// The latest probe of one endpoint.
#[derive(Debug, Clone)]
pub struct LatestProbe {
    pub node: String,
    pub port: i32,
    pub ok: bool,
    pub handshake_ms: Option<f64>,
}

/// Every endpoint's latest probe, and every certificate those probes were served.
pub async fn current(pool: &PgPool, now: i64) -> Result<(Vec<LatestProbe>, Vec<Served>), AppError> {
    let rows = sqlx::query!(
        r#"with latest as (
               select distinct on (endpoint_id) id, endpoint_id, ok, handshake_ms, public_trust_error
               from probe order by endpoint_id, probed_at desc, id desc
           )
           select l.id as probe_id, l.ok, l.handshake_ms, e.id as endpoint_id, e.port, n.id as node_id, n.fqdn, n.kind, n.version,
                  l.public_trust_error is null as "publicly_trusted!", c.name as cluster,
                  pc.position as "position?", cert.info as "info?"
           from latest l
           join endpoint e on e.id = l.endpoint_id
           join node n on n.id = e.node_id
           join cluster c on c.id = n.cluster_id
           left join probe_chain pc on pc.probe_id = l.id
           left join certificate cert on cert.sha256 = pc.sha256
           order by n.fqdn, e.port, pc.position"#
    )
    .fetch_all(pool)
    .await?;
    let thresholds = Thresholds::default();
    let mut probes: Vec<LatestProbe> = Vec::new();
    let mut served = Vec::new();
    let mut last_probe = None;
    for row in rows {
        if last_probe != Some(row.probe_id) {
            last_probe = Some(row.probe_id);
            probes.push(LatestProbe {
                node: row.fqdn.clone(),
                port: row.port,
                ok: row.ok,
                handshake_ms: row.handshake_ms,
            });
        }
        if let (Some(position), Some(info)) = (row.position, row.info) {
            let info: certs::CertInfo = serde_json::from_value(info).map_err(AppError::internal)?;
            let state = AlertState::of(&info, now, &thresholds);
            served.push(Served {
                endpoint_id: row.endpoint_id,
                node_id: row.node_id,
                cluster: row.cluster,
                fqdn: row.fqdn,
                kind: row.kind,
                version: row.version,
                publicly_trusted: row.publicly_trusted,
                port: row.port,
                position,
                info,
                state,
            });
        }
    }
    Ok((probes, served))
}

/// The findings for a certificate where it is served: one place decides the lint context, for
/// the node report and the certificate list alike.
pub fn findings(cert: &certs::CertInfo, served_at: &Where<'_>, now: i64) -> Vec<certs::Finding> {
    let context = certs::lints::Context {
        now,
        fqdn: Some(served_at.fqdn),
        node_kind: Some(served_at.kind),
        node_version: Some(served_at.version),
        chain_position: usize::try_from(served_at.position).unwrap_or_default(),
        public_endpoint: served_at.kind == "reverse_proxy" && served_at.port == 443,
        publicly_trusted: served_at.publicly_trusted,
        thresholds: Thresholds::default(),
    };
    let mut findings = certs::lints::lint(cert, &context);
    findings.sort_by_key(|f| f.severity);
    findings
}

/// Where a certificate is served, as the lints need it.
pub struct Where<'a> {
    pub fqdn: &'a str,
    pub kind: &'a str,
    pub version: &'a str,
    pub port: i32,
    pub position: i32,
    pub publicly_trusted: bool,
}

/// `GET /api/v1/alerts`: one entry per served certificate that is not ok.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub node_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub port: i32,
    pub chain_position: i32,
    pub fingerprint_sha256: String,
    pub subject_cn: Option<String>,
    /// `warning`, `critical` or `expired`.
    pub state: String,
    pub days_left: i64,
    pub not_after: String,
    pub muted: bool,
    /// Present while muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mute: Option<Mute>,
}

/// Who silenced an alert, why, and until when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Mute {
    pub owner: String,
    pub note: String,
    pub until: String,
    pub muted_by: String,
}

/// Mutes in force, by (endpoint, fingerprint).
pub async fn mutes(
    pool: &PgPool,
) -> Result<std::collections::HashMap<(i64, String), Mute>, AppError> {
    let rows = sqlx::query!("select endpoint_id, sha256, owner, note, until, muted_by from alert_mute where until > now()")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let until = r
                .until
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            (
                (r.endpoint_id, r.sha256),
                Mute {
                    owner: r.owner,
                    note: r.note,
                    until,
                    muted_by: r.muted_by,
                },
            )
        })
        .collect())
}

pub fn alerts(
    served: &[Served],
    mutes: &std::collections::HashMap<(i64, String), Mute>,
    now: i64,
) -> Vec<Alert> {
    served
        .iter()
        .filter(|s| s.state != AlertState::Ok)
        .map(|s| {
            (
                s,
                mutes.get(&(s.endpoint_id, s.info.sha256.clone())).cloned(),
            )
        })
        .map(|(s, mute)| Alert {
            node_id: s.node_id,
            cluster: s.cluster.clone(),
            fqdn: s.fqdn.clone(),
            port: s.port,
            chain_position: s.position,
            fingerprint_sha256: s.info.sha256.clone(),
            subject_cn: s.info.subject_cn.clone(),
            state: s.state.as_str().to_owned(),
            days_left: s.info.days_left(now),
            not_after: time::OffsetDateTime::from_unix_timestamp(s.info.not_after)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default(),
            muted: mute.is_some(),
            mute,
        })
        .collect()
}

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
pub async fn metrics(pool: &PgPool, now: i64) -> Result<String, AppError> {
    let (probes, served) = current(pool, now).await?;
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
    for s in &served {
        let labels: Labels = vec![
            ("cluster".into(), s.cluster.clone()),
            ("node".into(), s.fqdn.clone()),
            ("endpoint".into(), s.port.to_string()),
            ("kind".into(), s.kind.clone()),
            (
                "subject_cn".into(),
                s.info.subject_cn.clone().unwrap_or_default(),
            ),
            (
                "issuer_cn".into(),
                s.info.issuer_cn.clone().unwrap_or_default(),
            ),
            ("serial".into(), s.info.serial.clone()),
            ("fingerprint_sha256".into(), s.info.sha256.clone()),
            ("chain_position".into(), s.position.to_string()),
        ];
        not_after
            .get_or_create(&labels)
            .set(s.info.not_after as f64);
        not_before
            .get_or_create(&labels)
            .set(s.info.not_before as f64);
        state.get_or_create(&labels).set(s.state as i64 as f64);
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
    for p in &probes {
        let labels: Labels = vec![
            ("node".into(), p.node.clone()),
            ("endpoint".into(), p.port.to_string()),
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
    for row in sqlx::query!(r#"select error_code as "code!", count(*) as "count!" from probe where not ok and error_code is not null group by error_code"#)
        .fetch_all(pool)
        .await?
    {
        errors.get_or_create(&vec![("reason".into(), row.code)]).inc_by(u64::try_from(row.count).unwrap_or_default());
    }
    let last_scan = gauge_family(
        &mut registry,
        "last_scan_timestamp_seconds",
        "When the last finished scan ended (Unix seconds).",
    );
    if let Some(at) = sqlx::query_scalar!("select max(finished_at) from scan where state = 'done'")
        .fetch_one(pool)
        .await?
    {
        last_scan
            .get_or_create(&Vec::new())
            .set(at.unix_timestamp() as f64);
    }
    let mut text = String::new();
    encode(&mut text, &registry).map_err(AppError::internal)?;
    Ok(text)
}

/// `GET /api/v1/certificates`: every served certificate, where, its state and its findings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServedCertificateRow {
    pub fingerprint_sha256: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub not_after: String,
    pub days_left: i64,
    /// `ok`, `warning`, `critical` or `expired`.
    pub state: String,
    pub node_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub port: i32,
    pub chain_position: i32,
    /// `[{"id","severity"}]`, most severe first.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<serde_json::Value>,
}

/// Every served certificate with its findings (judged now; node kind and version from the inventory).
pub async fn certificates(pool: &PgPool, now: i64) -> Result<Vec<ServedCertificateRow>, AppError> {
    let (_, served) = current(pool, now).await?;
    let mut rows: Vec<ServedCertificateRow> = served
        .iter()
        .map(|s| {
            let served_at = Where {
                fqdn: &s.fqdn,
                kind: &s.kind,
                version: &s.version,
                port: s.port,
                position: s.position,
                publicly_trusted: s.publicly_trusted,
            };
            let findings = findings(&s.info, &served_at, now);
            ServedCertificateRow {
                fingerprint_sha256: s.info.sha256.clone(),
                subject_cn: s.info.subject_cn.clone(),
                issuer_cn: s.info.issuer_cn.clone(),
                not_after: time::OffsetDateTime::from_unix_timestamp(s.info.not_after)
                    .ok()
                    .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                    .unwrap_or_default(),
                days_left: s.info.days_left(now),
                state: s.state.as_str().to_owned(),
                node_id: s.node_id,
                cluster: s.cluster.clone(),
                fqdn: s.fqdn.clone(),
                port: s.port,
                chain_position: s.position,
                findings: findings
                    .into_iter()
                    .map(|f| serde_json::json!({"id": f.id, "severity": f.severity, "message": f.message, "remediation": f.remediation}))
                    .collect(),
            }
        })
        .collect();
    rows.sort_by_key(|r| (r.days_left, r.fqdn.clone(), r.port, r.chain_position));
    Ok(rows)
}
