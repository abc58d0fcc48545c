//! The queries behind the certificate pages, the REST API and monitoring.
//!
//! Everything reads the latest probe of each endpoint and judges it at the time of the request:
//! expiry moves with the clock, the findings with it. Whether a served chain reaches a trusted
//! anchor does not, so it is judged once when the probe is recorded (`probe.chain_incomplete`).

use super::{
    Alert, CertificateReport, ChainCertificate, ClusterCa, Dashboard, EffectiveThresholds,
    EndpointReport, Filter, HistoryEntry, Mute, NodeReport, Placement, ProbeSummary, ScanProgress,
    ScanResult, ScanStatus, ServedCertificate, ThresholdsInput, Timeline, TimelineWeek,
};
use crate::audit::store::{record, record_alone};
use crate::auth::store::RequestContext;
use crate::dates::{now, rfc3339, unix_rfc3339};
use crate::Error;
use crate::Services;
use certs::lints::{AlertState, Thresholds};
use certs::tls::TrustFailure;
use certs::{CertInfo, Finding};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------------
// Thresholds

/// Warning days, critical days, lifetime percent, as stored (null: inherit).
type Stored = (Option<i32>, Option<i32>, Option<i32>);

fn effective(own: Stored, inherited: Stored) -> Thresholds {
    let default = Thresholds::default();
    let pick = |own: Option<i32>, inherited: Option<i32>, fallback: i64| {
        own.or(inherited).map_or(fallback, i64::from)
    };
    Thresholds {
        warning_days: pick(own.0, inherited.0, default.warning_days),
        critical_days: pick(own.1, inherited.1, default.critical_days),
        warning_lifetime_percent: pick(own.2, inherited.2, default.warning_lifetime_percent),
    }
}

/// Which thresholds to change.
#[derive(Debug, Clone, Copy)]
pub enum ThresholdsOf {
    Cluster(i64),
    Node(i64),
}

fn number(field: &str, value: Option<String>) -> Result<Option<i64>, Error> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| Error::field(field, "enter a whole number, or leave empty to inherit")),
    }
}

/// Form fields (empty: inherit) to thresholds.
pub fn thresholds_from_form(
    warning_days: Option<String>,
    critical_days: Option<String>,
    warning_lifetime_percent: Option<String>,
) -> Result<ThresholdsInput, Error> {
    Ok(ThresholdsInput {
        warning_days: number("warning_days", warning_days)?,
        critical_days: number("critical_days", critical_days)?,
        warning_lifetime_percent: number("warning_lifetime_percent", warning_lifetime_percent)?,
    })
}

fn checked(input: &ThresholdsInput) -> Result<Stored, Error> {
    let mut errors = crate::FieldErrors::new();
    let mut within = |field: &str, value: Option<i64>, low: i64, high: i64| {
        let value = value.filter(|v| {
            let ok = (low..=high).contains(v);
            if !ok {
                errors
                    .entry(field.to_owned())
                    .or_default()
                    .push(format!("use {low} to {high}, or leave empty to inherit"));
            }
            ok
        });
        value.and_then(|v| i32::try_from(v).ok())
    };
    let warning = within("warning_days", input.warning_days, 1, 3650);
    let critical = within("critical_days", input.critical_days, 0, 3650);
    let percent = within(
        "warning_lifetime_percent",
        input.warning_lifetime_percent,
        0,
        100,
    );
    if errors.is_empty() {
        Ok((warning, critical, percent))
    } else {
        Err(Error::Validation(errors))
    }
}

/// Sets (or, with empty values, clears) a cluster's or a node's own thresholds. The result must
/// keep critical below warning once inherited values are filled in.
pub async fn set_thresholds(
    pool: &PgPool,
    context: &RequestContext,
    of: ThresholdsOf,
    input: ThresholdsInput,
) -> Result<(), Error> {
    context.require_admin()?;
    let own = checked(&input)?;
    let mut tx = pool.begin().await?;
    let (inherited, before, target) = match of {
        ThresholdsOf::Cluster(id) => {
            let row = sqlx::query!(
                "select warning_days, critical_days, warning_lifetime_percent from cluster where id = $1 for update",
                id
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no cluster with id {id}")))?;
            (
                (None, None, None),
                (
                    row.warning_days,
                    row.critical_days,
                    row.warning_lifetime_percent,
                ),
                format!("cluster:{id}"),
            )
        }
        ThresholdsOf::Node(id) => {
            let row = sqlx::query!(
                "select n.warning_days, n.critical_days, n.warning_lifetime_percent,
                        c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent
                 from node n join cluster c on c.id = n.cluster_id where n.id = $1 for update of n",
                id
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no node with id {id}")))?;
            (
                (row.c_warning, row.c_critical, row.c_percent),
                (
                    row.warning_days,
                    row.critical_days,
                    row.warning_lifetime_percent,
                ),
                format!("node:{id}"),
            )
        }
    };
    let result = effective(own, inherited);
    if result.critical_days >= result.warning_days {
        return Err(Error::field(
            "critical_days",
            format!(
                "critical ({} days) must be fewer days than warning ({} days)",
                result.critical_days, result.warning_days
            ),
        ));
    }
    match of {
        ThresholdsOf::Cluster(id) => {
            sqlx::query!(
                "update cluster set warning_days = $2, critical_days = $3, warning_lifetime_percent = $4 where id = $1",
                id, own.0, own.1, own.2
            )
            .execute(&mut *tx)
            .await?;
        }
        ThresholdsOf::Node(id) => {
            sqlx::query!(
                "update node set warning_days = $2, critical_days = $3, warning_lifetime_percent = $4 where id = $1",
                id, own.0, own.1, own.2
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    let as_json = |t: (Option<i32>, Option<i32>, Option<i32>)| json!({"warning_days": t.0, "critical_days": t.1, "warning_lifetime_percent": t.2});
    record(
        &mut tx,
        context
            .event("thresholds.set", target)
            .before(as_json(before))
            .after(as_json(own)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The fleet now

/// The latest probe of an endpoint.
#[derive(Debug, Clone)]
pub struct ProbeNow {
    pub ok: bool,
    pub error_code: Option<String>,
    pub handshake_ms: Option<f64>,
    pub publicly_trusted: bool,
    /// The chain's finding as recorded: rule id and message.
    pub chain: Option<(String, String)>,
    /// Why the handshake signature did not verify with the leaf's key.
    pub signature_error: Option<String>,
}

/// One endpoint with its latest probe and the chain that probe was served.
#[derive(Debug, Clone)]
pub struct EndpointNow {
    pub endpoint_id: i64,
    pub node_id: i64,
    pub cluster_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub kind: String,
    pub version: String,
    pub port: i32,
    /// What the endpoint is for (`public listener`, `status`, ...; empty when not known).
    pub purpose: String,
    pub thresholds: Thresholds,
    /// `None` before the first probe.
    pub probe: Option<ProbeNow>,
    /// (position, certificate), leaf first.
    pub chain: Vec<(i32, CertInfo)>,
}

impl EndpointNow {
    /// The alert state of one served certificate here.
    pub fn state_of(&self, cert: &CertInfo, now: i64) -> AlertState {
        AlertState::of(cert, now, &self.thresholds)
    }

    /// `not_scanned`, `unreachable`, or the worst state of the served chain.
    pub fn state(&self, now: i64) -> &'static str {
        match &self.probe {
            None => "not_scanned",
            Some(p) if !p.ok => "unreachable",
            Some(_) => self
                .chain
                .iter()
                .map(|(_, c)| self.state_of(c, now))
                .max()
                .unwrap_or(AlertState::Ok)
                .as_str(),
        }
    }

    /// The findings for the certificate at `position` of the served chain: one place decides the
    /// lint context, for every page and API alike.
    pub fn findings(&self, position: i32, cert: &CertInfo, now: i64) -> Vec<Finding> {
        let probe = self.probe.as_ref();
        let context = certs::lints::Context {
            now,
            fqdn: Some(&self.fqdn),
            node_kind: Some(&self.kind),
            node_version: Some(&self.version),
            chain_position: usize::try_from(position).unwrap_or_default(),
            public_endpoint: crate::inventory::model::NodeKind::parse(&self.kind)
                .is_ok_and(|kind| kind.is_public_listener(&self.purpose)),
            publicly_trusted: probe.is_some_and(|p| p.publicly_trusted),
            thresholds: self.thresholds,
        };
        let mut findings = certs::lints::lint(cert, &context);
        // The chain as a whole is reported on the leaf, where admins look.
        if position == 0 {
            if let Some((rule, message)) = probe.and_then(|p| p.chain.clone()) {
                findings.push(certs::lints::chain_finding(&rule, message));
            }
            if let Some(reason) = probe.and_then(|p| p.signature_error.as_deref()) {
                findings.push(certs::lints::handshake_signature_unverified(reason));
            }
        }
        findings.sort_by_key(|f| f.severity);
        findings
    }
}

/// Every endpoint of the fleet now, or of one node.
pub async fn fleet(pool: &PgPool, node: Option<i64>) -> Result<Vec<EndpointNow>, Error> {
    let rows = sqlx::query!(
        r#"select e.id as endpoint_id, e.port, e.purpose, n.id as node_id, n.fqdn, n.kind, n.version,
                  c.id as cluster_id, c.name as cluster,
                  n.warning_days, n.critical_days, n.warning_lifetime_percent,
                  c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent,
                  l.id as "probe_id?", l.ok as "ok?", l.error_code, l.handshake_ms,
                  l.public_trust_error is null as "publicly_trusted?", l.chain_incomplete,
                  l.chain_rule, l.handshake_signature_error,
                  pc.position as "position?", cert.info as "info?"
           from endpoint e
           join node n on n.id = e.node_id
           join cluster c on c.id = n.cluster_id
           left join lateral (
               select p.id, p.ok, p.error_code, p.handshake_ms, p.public_trust_error, p.chain_incomplete,
                      p.chain_rule, p.handshake_signature_error
               from probe p where p.endpoint_id = e.id order by p.probed_at desc, p.id desc limit 1
           ) l on true
           left join probe_chain pc on pc.probe_id = l.id
           left join certificate cert on cert.sha256 = pc.sha256
           where ($1::bigint is null or n.id = $1)
           order by n.fqdn, e.port, pc.position"#,
        node
    )
    .fetch_all(pool)
    .await?;
    let mut endpoints: Vec<EndpointNow> = Vec::new();
    for row in rows {
        if endpoints
            .last()
            .is_none_or(|e| e.endpoint_id != row.endpoint_id)
        {
            endpoints.push(EndpointNow {
                endpoint_id: row.endpoint_id,
                node_id: row.node_id,
                cluster_id: row.cluster_id,
                cluster: row.cluster,
                fqdn: row.fqdn,
                kind: row.kind,
                version: row.version,
                port: row.port,
                purpose: row.purpose,
                thresholds: effective(
                    (
                        row.warning_days,
                        row.critical_days,
                        row.warning_lifetime_percent,
                    ),
                    (row.c_warning, row.c_critical, row.c_percent),
                ),
                probe: row.probe_id.map(|_| ProbeNow {
                    ok: row.ok.unwrap_or_default(),
                    error_code: row.error_code,
                    handshake_ms: row.handshake_ms,
                    publicly_trusted: row.publicly_trusted.unwrap_or_default(),
                    chain: row.chain_incomplete.map(|message| {
                        let rule = row.chain_rule.unwrap_or_else(|| "chain_incomplete".into());
                        (rule, message)
                    }),
                    signature_error: row.handshake_signature_error,
                }),
                chain: Vec::new(),
            });
        }
        if let (Some(position), Some(info), Some(endpoint)) =
            (row.position, row.info, endpoints.last_mut())
        {
            let info: CertInfo = serde_json::from_value(info).map_err(Error::internal)?;
            endpoint.chain.push((position, info));
        }
    }
    Ok(endpoints)
}

/// Mutes in force, by (endpoint, fingerprint).
pub async fn mutes(pool: &PgPool) -> Result<HashMap<(i64, String), Mute>, Error> {
    let rows = sqlx::query!(
        "select endpoint_id, sha256, kind, owner, note, until, muted_by from alert_mute where until > now()"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mute = Mute {
                kind: r.kind,
                owner: r.owner,
                note: r.note,
                until: rfc3339(r.until),
                muted_by: r.muted_by,
            };
            ((r.endpoint_id, r.sha256), mute)
        })
        .collect())
}

fn served_row(
    endpoint: &EndpointNow,
    position: i32,
    cert: &CertInfo,
    mutes: &HashMap<(i64, String), Mute>,
    now: i64,
) -> ServedCertificate {
    ServedCertificate {
        fingerprint_sha256: cert.sha256.clone(),
        subject_cn: cert.subject_cn.clone(),
        issuer_cn: cert.issuer_cn.clone(),
        not_after: unix_rfc3339(cert.not_after),
        days_left: cert.days_left(now),
        state: endpoint.state_of(cert, now).as_str().to_owned(),
        node_id: endpoint.node_id,
        cluster_id: endpoint.cluster_id,
        cluster: endpoint.cluster.clone(),
        fqdn: endpoint.fqdn.clone(),
        kind: endpoint.kind.clone(),
        port: endpoint.port,
        chain_position: position,
        findings: endpoint.findings(position, cert, now),
        mute: mutes
            .get(&(endpoint.endpoint_id, cert.sha256.clone()))
            .cloned(),
    }
}

/// Every served certificate, soonest expiry first.
pub(super) fn served_rows<'a>(
    endpoints: impl IntoIterator<Item = &'a EndpointNow>,
    mutes: &HashMap<(i64, String), Mute>,
    now: i64,
) -> Vec<ServedCertificate> {
    let mut rows: Vec<ServedCertificate> = endpoints
        .into_iter()
        .flat_map(|e| {
            e.chain
                .iter()
                .map(move |(position, cert)| served_row(e, *position, cert, mutes, now))
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.days_left, &a.fqdn, a.port, a.chain_position).cmp(&(
            b.days_left,
            &b.fqdn,
            b.port,
            b.chain_position,
        ))
    });
    rows
}

impl Filter {
    pub(super) fn admits_endpoint(&self, e: &EndpointNow) -> bool {
        self.cluster.is_none_or(|c| c == e.cluster_id)
            && self.kind.as_ref().is_none_or(|k| *k == e.kind)
    }

    /// The row's endpoint and the row itself are in the filter.
    pub(super) fn admits(&self, row: &ServedCertificate) -> bool {
        self.cluster.is_none_or(|c| c == row.cluster_id)
            && self.kind.as_ref().is_none_or(|k| *k == row.kind)
            && self.state.as_ref().is_none_or(|s| *s == row.state)
            && self
                .lint
                .as_ref()
                .is_none_or(|l| row.findings.iter().any(|f| f.id == *l))
    }
}

/// `GET /api/v1/certificates`: served certificates in the filter, soonest expiry first.
pub async fn certificates(
    app: &Services,
    filter: &Filter,
) -> Result<Vec<ServedCertificate>, Error> {
    let view = app.fleet.view(&app.pool).await?;
    let overview = view.overview(filter);
    Ok(overview
        .rows
        .iter()
        .map(|&i| view.rows[i].clone())
        .collect())
}

/// `GET /api/v1/alerts`: one entry per served certificate that is not ok.
pub async fn alerts(app: &Services) -> Result<Vec<Alert>, Error> {
    let view = app.fleet.view(&app.pool).await?;
    Ok(view
        .rows
        .iter()
        .filter(|r| r.state != AlertState::Ok.as_str())
        .map(|r| Alert {
            node_id: r.node_id,
            cluster: r.cluster.clone(),
            fqdn: r.fqdn.clone(),
            port: r.port,
            chain_position: r.chain_position,
            fingerprint_sha256: r.fingerprint_sha256.clone(),
            subject_cn: r.subject_cn.clone(),
            state: r.state.clone(),
            days_left: r.days_left,
            not_after: r.not_after.clone(),
            muted: r.mute.as_ref().is_some_and(|m| m.kind == "mute"),
            acknowledged: r.mute.as_ref().is_some_and(|m| m.kind == "ack"),
            mute: r.mute.clone(),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The overview

/// The fleet overview, narrowed by `filter`.
pub async fn dashboard(app: &Services, filter: Filter) -> Result<Dashboard, Error> {
    Ok(overview(app, filter, 0).await?.0)
}

/// The overview and the first `limit` served certificates in the filter, soonest expiry first
/// (the Certificates page shows both), and how many there are in all.
pub async fn overview(
    app: &Services,
    filter: Filter,
    limit: usize,
) -> Result<(Dashboard, Vec<ServedCertificate>, usize), Error> {
    let view = app.fleet.view(&app.pool).await?;
    let overview = view.overview(&filter);
    let mut dashboard = overview.dashboard.clone();
    (dashboard.last_scan, dashboard.running) = latest_scans(&app.pool).await?;
    let rows = overview
        .rows
        .iter()
        .take(limit)
        .map(|&i| view.rows[i].clone())
        .collect();
    Ok((dashboard, rows, overview.rows.len()))
}

/// Each distinct certificate (days left, worst state) placed on the year ahead.
pub(super) fn timeline<'a>(certs: impl Iterator<Item = (i64, &'a str)>, now: i64) -> Timeline {
    let today = OffsetDateTime::from_unix_timestamp(now)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    let day = |offset: i64| today + time::Duration::days(offset);
    let mut timeline = Timeline {
        weeks: (0..53)
            .map(|w| TimelineWeek {
                starts: day(w * 7).to_string(),
                counts: [0; 3],
            })
            .collect(),
        ..Timeline::default()
    };
    for offset in 1..365 {
        let date = day(offset);
        if date.day() == 1 {
            let label = format!("{} {}", &date.month().to_string()[..3], date.year());
            timeline.months.push((offset as u32, label));
        }
    }
    for (days, state) in certs {
        if state == "expired" {
            timeline.expired += 1;
            continue;
        }
        for (slot, limit) in timeline.within.iter_mut().zip([30, 90, 365]) {
            if days < limit {
                *slot += 1;
            }
        }
        if days >= 365 {
            timeline.later += 1;
            continue;
        }
        let week = usize::try_from(days.max(0) / 7).unwrap_or_default().min(52);
        let slot = match state {
            "critical" => 0,
            "warning" => 1,
            _ => 2,
        };
        timeline.weeks[week].counts[slot] += 1;
    }
    timeline
}

pub(super) fn rank(state: &str) -> u8 {
    match state {
        "expired" => 3,
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Scans

struct ScanRow {
    id: i64,
    state: String,
    done: i32,
    total: i32,
    failed: i64,
    requested_by: String,
    node_ids: Option<Vec<i64>>,
    started_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

impl From<ScanRow> for ScanStatus {
    fn from(r: ScanRow) -> Self {
        ScanStatus {
            id: r.id,
            state: r.state,
            done: r.done,
            total: r.total,
            failed: r.failed,
            requested_by: r.requested_by,
            node_ids: r.node_ids,
            started_at: rfc3339(r.started_at),
            finished_at: r.finished_at.map(rfc3339),
        }
    }
}

/// The latest finished scan and the latest running one, in one query.
async fn latest_scans(pool: &PgPool) -> Result<(Option<ScanStatus>, Option<ScanStatus>), Error> {
    let rows = sqlx::query_as!(
        ScanRow,
        r#"select s.id, s.state, s.done, s.total, s.requested_by, s.node_ids, s.started_at, s.finished_at,
                  (select count(*) from probe p where p.scan_id = s.id and not p.ok) as "failed!"
           from scan s
           where s.id in ((select id from scan where state = 'done' order by started_at desc, id desc limit 1),
                          (select id from scan where state = 'running' order by started_at desc, id desc limit 1))"#
    )
    .fetch_all(pool)
    .await?;
    let (mut done, mut running) = (None, None);
    for row in rows {
        let slot = if row.state == "running" {
            &mut running
        } else {
            &mut done
        };
        *slot = Some(row.into());
    }
    Ok((done, running))
}

pub async fn scan_status(pool: &PgPool, id: i64) -> Result<ScanStatus, Error> {
    let row = sqlx::query_as!(
        ScanRow,
        r#"select s.id, s.state, s.done, s.total, s.requested_by, s.node_ids, s.started_at, s.finished_at,
                  (select count(*) from probe p where p.scan_id = s.id and not p.ok) as "failed!"
           from scan s where s.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no scan with id {id}")))?;
    Ok(row.into())
}

/// A scan and its most recent results, for live progress.
pub async fn scan_progress(pool: &PgPool, id: i64, now: i64) -> Result<ScanProgress, Error> {
    let scan = scan_status(pool, id).await?;
    let rows = sqlx::query!(
        r#"select p.id, n.id as node_id, n.fqdn, e.port, p.ok, p.error_code, p.error_message, cert.info as "info?",
                  n.warning_days, n.critical_days, n.warning_lifetime_percent,
                  c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent
           from probe p
           join endpoint e on e.id = p.endpoint_id
           join node n on n.id = e.node_id
           join cluster c on c.id = n.cluster_id
           left join probe_chain pc on pc.probe_id = p.id and pc.position = 0
           left join certificate cert on cert.sha256 = pc.sha256
           where p.scan_id = $1 order by p.id desc limit 50"#,
        id
    )
    .fetch_all(pool)
    .await?;
    let mut results = Vec::with_capacity(rows.len());
    for r in rows {
        let leaf: Option<CertInfo> = r
            .info
            .map(serde_json::from_value)
            .transpose()
            .map_err(Error::internal)?;
        let thresholds = effective(
            (r.warning_days, r.critical_days, r.warning_lifetime_percent),
            (r.c_warning, r.c_critical, r.c_percent),
        );
        results.push(ScanResult {
            probe_id: r.id,
            node_id: r.node_id,
            fqdn: r.fqdn,
            port: r.port,
            ok: r.ok,
            error_code: r.error_code,
            error_message: r.error_message,
            state: leaf
                .as_ref()
                .map(|c| AlertState::of(c, now, &thresholds).as_str().to_owned()),
            subject_cn: leaf.and_then(|c| c.subject_cn),
        });
    }
    Ok(ScanProgress { scan, results })
}

/// Starts a scan of some nodes (or the fleet), audited. A second fleet scan while one runs is
/// refused, naming the running one.
pub async fn start_scan(
    app: &Services,
    context: &RequestContext,
    node_ids: Option<Vec<i64>>,
) -> Result<i64, Error> {
    let principal = context.require_admin()?;
    let node_ids = node_ids.filter(|ids| !ids.is_empty());
    match &node_ids {
        Some(ids) => {
            let known: Vec<i64> =
                sqlx::query_scalar!("select id from node where id = any($1)", ids)
                    .fetch_all(&app.pool)
                    .await?;
            if let Some(missing) = ids.iter().find(|id| !known.contains(id)) {
                return Err(Error::NotFound(format!("no node with id {missing}")));
            }
        }
        None => {
            if let Some(running) = sqlx::query_scalar!(
                "select id from scan where state = 'running' and node_ids is null order by id desc limit 1"
            )
            .fetch_optional(&app.pool)
            .await?
            {
                return Err(Error::Conflict(format!(
                    "a scan of the whole fleet is already running (scan {running})"
                )));
            }
        }
    }
    let id = app
        .scans
        .start(principal.actor(), node_ids.clone())
        .await
        .map_err(Error::internal)?;
    record_alone(
        &app.pool,
        context
            .event("scan.start", format!("scan:{id}"))
            .after(json!({"node_ids": node_ids})),
    )
    .await?;
    Ok(id)
}

pub async fn cancel_scan(app: &Services, context: &RequestContext, id: i64) -> Result<(), Error> {
    context.require_admin()?;
    if !app.scans.cancel(id) {
        scan_status(&app.pool, id).await?;
        return Err(Error::Conflict(format!("scan {id} is not running")));
    }
    record_alone(
        &app.pool,
        context.event("scan.cancel", format!("scan:{id}")),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A node, a certificate

fn probe_summary(p: &NodeProbeRow) -> Option<ProbeSummary> {
    Some(ProbeSummary {
        ok: p.ok?,
        probed_at: rfc3339(p.probed_at?),
        error_code: p.error_code.clone(),
        error_message: p.error_message.clone(),
        protocol: p.protocol.clone(),
        cipher_suite: p.cipher_suite.clone(),
        alpn: p.alpn.clone(),
        client_certificate_requested: p.client_certificate_requested,
        handshake_ms: p.handshake_ms,
        publicly_trusted: p.ok == Some(true) && p.public_trust_error.is_none(),
        public_trust_error: p.public_trust_error.as_deref().map(TrustFailure::parse),
        cluster_trusted: p.cluster_trusted,
        cluster_trust_error: p.cluster_trust_error.as_deref().map(TrustFailure::parse),
    })
}

struct NodeProbeRow {
    endpoint_id: i64,
    port: i32,
    purpose: String,
    ok: Option<bool>,
    probed_at: Option<OffsetDateTime>,
    error_code: Option<String>,
    error_message: Option<String>,
    protocol: Option<String>,
    cipher_suite: Option<String>,
    alpn: Option<String>,
    client_certificate_requested: Option<bool>,
    handshake_ms: Option<f64>,
    public_trust_error: Option<String>,
    cluster_trusted: Option<bool>,
    cluster_trust_error: Option<String>,
}

/// The node page: every endpoint with its latest probe and served chain, findings judged now.
pub async fn node_report(pool: &PgPool, id: i64, now: i64) -> Result<NodeReport, Error> {
    let node = crate::inventory::store::get_node(pool, id).await?;
    let probes = sqlx::query_as!(
        NodeProbeRow,
        r#"select e.id as endpoint_id, e.port, e.purpose, l.ok as "ok?", l.probed_at as "probed_at?", l.error_code, l.error_message,
                  l.protocol, l.cipher_suite, l.alpn, l.client_certificate_requested, l.handshake_ms,
                  l.public_trust_error, l.cluster_trusted, l.cluster_trust_error
           from endpoint e
           left join lateral (
               select * from probe p where p.endpoint_id = e.id order by p.probed_at desc, p.id desc limit 1
           ) l on true
           where e.node_id = $1 order by e.port"#,
        id
    )
    .fetch_all(pool)
    .await?;
    let fleet: HashMap<i64, EndpointNow> = fleet(pool, Some(id))
        .await?
        .into_iter()
        .map(|e| (e.endpoint_id, e))
        .collect();
    let mutes = mutes(pool).await?;
    let endpoints = probes
        .iter()
        .map(|p| {
            let chain = fleet
                .get(&p.endpoint_id)
                .map(|e| {
                    e.chain
                        .iter()
                        .map(|(position, cert)| ChainCertificate {
                            position: *position,
                            fingerprint_sha256: cert.sha256.clone(),
                            subject_cn: cert.subject_cn.clone(),
                            issuer_cn: cert.issuer_cn.clone(),
                            not_after: unix_rfc3339(cert.not_after),
                            days_left: cert.days_left(now),
                            state: e.state_of(cert, now).as_str().to_owned(),
                            findings: e.findings(*position, cert, now),
                            mute: mutes.get(&(e.endpoint_id, cert.sha256.clone())).cloned(),
                            details: cert.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            EndpointReport {
                port: p.port,
                purpose: p.purpose.clone(),
                probe: probe_summary(p),
                chain,
            }
        })
        .collect();
    let history = sqlx::query!(
        r#"select p.probed_at, p.scan_id, e.port, p.ok, p.error_code, c.sha256 as "sha256?", c.subject_cn
           from probe p
           join endpoint e on e.id = p.endpoint_id
           left join probe_chain pc on pc.probe_id = p.id and pc.position = 0
           left join certificate c on c.sha256 = pc.sha256
           where e.node_id = $1 order by p.probed_at desc, p.id desc limit 50"#,
        id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| HistoryEntry {
        probed_at: rfc3339(r.probed_at),
        scan_id: r.scan_id,
        port: r.port,
        ok: r.ok,
        error_code: r.error_code,
        fingerprint_sha256: r.sha256,
        subject_cn: r.subject_cn,
    })
    .collect();
    let thresholds = node_thresholds(pool, id).await?;
    Ok(NodeReport {
        node_id: node.id,
        fqdn: node.fqdn.clone(),
        node,
        endpoints,
        history,
        thresholds,
    })
}

async fn node_thresholds(pool: &PgPool, id: i64) -> Result<EffectiveThresholds, Error> {
    let r = sqlx::query!(
        "select n.warning_days, n.critical_days, n.warning_lifetime_percent,
                c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent
         from node n join cluster c on c.id = n.cluster_id where n.id = $1",
        id
    )
    .fetch_one(pool)
    .await?;
    let t = effective(
        (r.warning_days, r.critical_days, r.warning_lifetime_percent),
        (r.c_warning, r.c_critical, r.c_percent),
    );
    let from = |own: Option<i32>, cluster: Option<i32>| {
        match (own, cluster) {
            (Some(_), _) => "node",
            (None, Some(_)) => "cluster",
            _ => "default",
        }
        .to_owned()
    };
    Ok(EffectiveThresholds {
        warning_days: t.warning_days,
        warning_days_from: from(r.warning_days, r.c_warning),
        critical_days: t.critical_days,
        critical_days_from: from(r.critical_days, r.c_critical),
        warning_lifetime_percent: t.warning_lifetime_percent,
        warning_lifetime_percent_from: from(r.warning_lifetime_percent, r.c_percent),
    })
}

/// PEM text of a DER certificate.
pub use certs::analyze::pem;

fn valid_fingerprint(sha256: &str) -> Result<String, Error> {
    let sha256 = sha256.trim().to_ascii_lowercase();
    if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha256)
    } else {
        Err(Error::NotFound(
            "a certificate is named by its SHA-256 fingerprint (64 hex digits)".into(),
        ))
    }
}

/// A stored certificate's DER and subject CN (for downloads).
pub async fn certificate_der(
    pool: &PgPool,
    sha256: &str,
) -> Result<(Vec<u8>, Option<String>), Error> {
    let sha256 = valid_fingerprint(sha256)?;
    let row = sqlx::query!(
        "select der, subject_cn from certificate where sha256 = $1",
        sha256
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound("no certificate with this fingerprint has been seen".into()))?;
    Ok((row.der, row.subject_cn))
}

/// The certificate page: its facts, and every place it is or was served.
pub async fn certificate_report(app: &Services, sha256: &str) -> Result<CertificateReport, Error> {
    let pool = &app.pool;
    let sha256 = valid_fingerprint(sha256)?;
    let row = sqlx::query!(
        "select der, info, not_before, not_after, first_seen_at from certificate where sha256 = $1",
        sha256
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound("no certificate with this fingerprint has been seen".into()))?;
    let details: CertInfo = serde_json::from_value(row.info).map_err(Error::internal)?;
    let view = app.fleet.view(pool).await?;
    let now = view.at;
    let placements = sqlx::query!(
        "select o.endpoint_id, o.position, o.first_seen_at, o.last_seen_at, e.port, n.id as node_id, n.fqdn, c.name as cluster
         from observation o join endpoint e on e.id = o.endpoint_id join node n on n.id = e.node_id join cluster c on c.id = n.cluster_id
         where o.sha256 = $1 order by o.last_seen_at desc, n.fqdn, e.port",
        sha256
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|o| {
        let now_served = view
            .endpoint(o.endpoint_id)
            .filter(|e| e.chain.iter().any(|(p, c)| *p == o.position && c.sha256 == sha256));
        Placement {
            node_id: o.node_id,
            cluster: o.cluster,
            fqdn: o.fqdn,
            port: o.port,
            chain_position: o.position,
            first_seen_at: rfc3339(o.first_seen_at),
            last_seen_at: rfc3339(o.last_seen_at),
            current: now_served.is_some(),
            findings: now_served
                .map(|e| e.findings(o.position, &details, now))
                .unwrap_or_default(),
            state: now_served.map(|e| e.state_of(&details, now).as_str().to_owned()),
        }
    })
    .collect();
    Ok(CertificateReport {
        not_before: rfc3339(row.not_before),
        not_after: rfc3339(row.not_after),
        days_left: details.days_left(now),
        first_seen_at: rfc3339(row.first_seen_at),
        pem: pem(&row.der),
        placements,
        details,
    })
}

// ---------------------------------------------------------------------------------------------
// Mutes

/// Which alert: a certificate served on one endpoint of a node.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertKey {
    pub node_id: i64,
    pub port: i32,
    pub fingerprint_sha256: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    pub node_id: i64,
    pub port: i32,
    pub fingerprint_sha256: String,
    /// Who is handling it.
    pub owner: String,
    #[serde(default)]
    pub note: String,
    /// RFC 3339 or YYYY-MM-DD (end of that day, UTC); in the future.
    pub until: String,
}

async fn endpoint_of(pool: &PgPool, node_id: i64, port: i32) -> Result<i64, Error> {
    sqlx::query_scalar!(
        "select id from endpoint where node_id = $1 and port = $2",
        node_id,
        port
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound(format!("node {node_id} has no endpoint on port {port}")))
}

fn alert_target(node_id: i64, port: i32, sha256: &str) -> String {
    format!("cert:{sha256}@node:{node_id}:{port}")
}

/// Silence the alert, or only say someone is on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MuteKind {
    Mute,
    Ack,
}

impl MuteKind {
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "mute" => Ok(Self::Mute),
            "ack" => Ok(Self::Ack),
            _ => Err(Error::field("kind", "use mute or ack")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Mute => "mute",
            Self::Ack => "ack",
        }
    }
}

/// Silences (mute) or acknowledges (ack) one alert until a date, with who handles it and why;
/// audited. Either replaces the other.
pub async fn mute(
    pool: &PgPool,
    context: &RequestContext,
    request: MuteRequest,
    kind: MuteKind,
) -> Result<(), Error> {
    let principal = context.require_admin()?;
    let owner = request.owner.trim().to_owned();
    let mut errors = crate::FieldErrors::new();
    if owner.is_empty() || owner.chars().count() > 100 {
        errors.insert(
            "owner".into(),
            vec!["name who handles it (1 to 100 characters)".into()],
        );
    }
    if request.note.chars().count() > 1000 {
        errors.insert("note".into(), vec!["use at most 1000 characters".into()]);
    }
    let until = crate::tokens::store::parse_expiry(&request.until);
    if let Err(message) = &until {
        errors.insert("until".into(), vec![message.clone()]);
    }
    let (Ok(until), true) = (until, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let endpoint = endpoint_of(pool, request.node_id, request.port).await?;
    let known = sqlx::query_scalar!(
        r#"select exists(select 1 from certificate where sha256 = $1) as "known!""#,
        request.fingerprint_sha256
    )
    .fetch_one(pool)
    .await?;
    if !known {
        return Err(Error::field(
            "fingerprint_sha256",
            "no certificate with this fingerprint has been seen",
        ));
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into alert_mute (endpoint_id, sha256, owner, note, until, muted_by, kind) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (endpoint_id, sha256) do update set owner = excluded.owner, note = excluded.note, until = excluded.until,
             muted_by = excluded.muted_by, kind = excluded.kind, created_at = now()",
        endpoint,
        request.fingerprint_sha256,
        owner,
        request.note,
        until,
        principal.actor(),
        kind.as_str()
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event(
                if kind == MuteKind::Mute {
                    "alert.mute"
                } else {
                    "alert.ack"
                },
                alert_target(request.node_id, request.port, &request.fingerprint_sha256),
            )
            .after(json!({"owner": owner, "note": request.note, "until": request.until})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unmute(pool: &PgPool, context: &RequestContext, key: AlertKey) -> Result<(), Error> {
    context.require_admin()?;
    let endpoint = endpoint_of(pool, key.node_id, key.port).await?;
    let mut tx = pool.begin().await?;
    let removed = sqlx::query_scalar!(
        "delete from alert_mute where endpoint_id = $1 and sha256 = $2 returning kind",
        endpoint,
        key.fingerprint_sha256
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound("this alert is neither muted nor acknowledged".into()))?;
    record(
        &mut tx,
        context.event(
            if removed == "mute" {
                "alert.unmute"
            } else {
                "alert.unack"
            },
            alert_target(key.node_id, key.port, &key.fingerprint_sha256),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Cluster CAs

/// The trusted CAs of one cluster, or of all (`None`).
pub async fn list_cluster_cas(
    pool: &PgPool,
    cluster_id: Option<i64>,
) -> Result<Vec<ClusterCa>, Error> {
    Ok(sqlx::query!(
        "select cluster_id, sha256, subject, not_after, added_by, added_at from cluster_ca
         where ($1::bigint is null or cluster_id = $1) order by cluster_id, subject",
        cluster_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| ClusterCa {
        cluster_id: r.cluster_id,
        fingerprint_sha256: r.sha256,
        subject: r.subject,
        not_after: rfc3339(r.not_after),
        added_by: r.added_by,
        added_at: rfc3339(r.added_at),
    })
    .collect())
}

/// Adds the CA certificates in `pem` to a cluster's trust (each must be a CA certificate that
/// has not expired); audited. Certificates already trusted are kept as they are.
pub async fn add_cluster_cas(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    pem: &str,
) -> Result<Vec<ClusterCa>, Error> {
    let principal = context.require_admin()?;
    let ders = certs::analyze::pem_certificates(pem).map_err(|m| Error::field("pem", m))?;
    let mut parsed = Vec::new();
    for (i, der) in ders.into_iter().enumerate() {
        let n = i + 1;
        let info = certs::analyze::parse(&der)
            .map_err(|e| Error::field("pem", format!("certificate {n}: {e}")))?;
        if !info.is_ca {
            return Err(Error::field(
                "pem",
                format!(
                    "certificate {n} ({}) is not a CA certificate (basicConstraints CA:FALSE or absent); upload the CA that issued the nodes' certificates",
                    info.subject
                ),
            ));
        }
        if info.not_after < now() {
            return Err(Error::field(
                "pem",
                format!(
                    "certificate {n} ({}) expired on {}",
                    info.subject,
                    unix_rfc3339(info.not_after)
                ),
            ));
        }
        parsed.push((der, info));
    }
    let mut tx = pool.begin().await?;
    let exists = sqlx::query_scalar!(
        "select id from cluster where id = $1 for update",
        cluster_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Err(Error::NotFound(format!("no cluster with id {cluster_id}")));
    }
    for (der, info) in &parsed {
        let not_after =
            OffsetDateTime::from_unix_timestamp(info.not_after).map_err(Error::internal)?;
        sqlx::query!(
            "insert into cluster_ca (cluster_id, sha256, der, subject, not_after, added_by) values ($1, $2, $3, $4, $5, $6)
             on conflict (cluster_id, sha256) do nothing",
            cluster_id,
            info.sha256,
            der,
            info.subject,
            not_after,
            principal.actor()
        )
        .execute(&mut *tx)
        .await?;
    }
    let added: Vec<_> = parsed
        .iter()
        .map(|(_, i)| json!({"sha256": i.sha256, "subject": i.subject}))
        .collect();
    record(
        &mut tx,
        context
            .event("cluster_ca.add", format!("cluster:{cluster_id}"))
            .after(json!({ "certificates": added })),
    )
    .await?;
    tx.commit().await?;
    let fingerprints: HashSet<String> = parsed.into_iter().map(|(_, i)| i.sha256).collect();
    Ok(list_cluster_cas(pool, Some(cluster_id))
        .await?
        .into_iter()
        .filter(|ca| fingerprints.contains(&ca.fingerprint_sha256))
        .collect())
}

pub async fn remove_cluster_ca(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    sha256: &str,
) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let removed = sqlx::query_scalar!(
        "delete from cluster_ca where cluster_id = $1 and sha256 = $2 returning subject",
        cluster_id,
        sha256
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        Error::NotFound("this cluster does not trust a CA with this fingerprint".into())
    })?;
    record(
        &mut tx,
        context
            .event("cluster_ca.remove", format!("cluster:{cluster_id}"))
            .before(json!({"sha256": sha256, "subject": removed})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The DER of every trusted CA, by cluster (for the scanner).
pub async fn cluster_anchors(pool: &PgPool) -> Result<HashMap<i64, Vec<Vec<u8>>>, Error> {
    let mut anchors: HashMap<i64, Vec<Vec<u8>>> = HashMap::new();
    for row in sqlx::query!("select cluster_id, der from cluster_ca")
        .fetch_all(pool)
        .await?
    {
        anchors.entry(row.cluster_id).or_default().push(row.der);
    }
    Ok(anchors)
}

/// Stores certificates once by fingerprint (those known already are left as they are).
/// `certificates` sorted by fingerprint, without repeats, so that concurrent writers take
/// their row locks in one order.
pub async fn insert_certificates(
    tx: &mut sqlx::PgConnection,
    certificates: &[(&CertInfo, &[u8])],
) -> Result<(), Error> {
    if certificates.is_empty() {
        return Ok(());
    }
    let mut c = CertificateColumns::default();
    for (info, der) in certificates {
        c.push(info, der)?;
    }
    sqlx::query!(
        "insert into certificate (sha256, der, subject_cn, issuer_cn, serial, not_before, not_after, info)
         select * from unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                              $7::timestamptz[], $8::jsonb[])
         order by 1 on conflict (sha256) do nothing",
        &c.sha256,
        &c.der,
        &c.subject_cn as &[Option<String>],
        &c.issuer_cn as &[Option<String>],
        &c.serial,
        &c.not_before,
        &c.not_after,
        &c.info
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The certificate table's columns for one batch.
#[derive(Default)]
struct CertificateColumns {
    sha256: Vec<String>,
    der: Vec<Vec<u8>>,
    subject_cn: Vec<Option<String>>,
    issuer_cn: Vec<Option<String>>,
    serial: Vec<String>,
    not_before: Vec<time::OffsetDateTime>,
    not_after: Vec<time::OffsetDateTime>,
    info: Vec<serde_json::Value>,
}

impl CertificateColumns {
    fn push(&mut self, info: &CertInfo, der: &[u8]) -> Result<(), Error> {
        let at = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .map_err(|e| Error::internal(anyhow::anyhow!("certificate validity: {e}")))
        };
        self.sha256.push(info.sha256.clone());
        self.der.push(der.to_vec());
        self.subject_cn.push(info.subject_cn.clone());
        self.issuer_cn.push(info.issuer_cn.clone());
        self.serial.push(info.serial.clone());
        self.not_before.push(at(info.not_before)?);
        self.not_after.push(at(info.not_after)?);
        self.info
            .push(serde_json::to_value(info).map_err(|e| Error::internal(anyhow::anyhow!(e)))?);
        Ok(())
    }
}
