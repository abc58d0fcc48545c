//! A cluster's posture scans: looking at every node (`observe.rs`), judging (`super::rules`),
//! adding the certificate findings and the trust matrix's red cells, storing the report with
//! its score (the trend), and the plan that fixes what the console can set.

mod cti;
mod findings;
mod observe;

/// Where a node's other services listen (the inventory keeps them; the posture probes them).
pub use crate::inventory::store::ports::{ports, set_ports, SERVICES};

use super::items::PLANNED;
use super::{Fix, PosturePoint, PostureReport, Severity};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::Drive;
use crate::reconcile::store::PlanNode;
use crate::reconcile::subject::Subject;
use crate::reconcile::{About, State, States};
use crate::{Error, Services};
use futures::StreamExt;
use observe::{observe, Looked};
use std::collections::BTreeMap;

/// Plans of a cluster's posture (`plan.subject_id`: the cluster's id).
pub const SUBJECT: &str = "posture";

/// Nodes looked at at once.
const CONCURRENCY: usize = 4;

/// Why a posture request is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("this cluster's posture has not been scanned yet: scan it first")]
    NeverScanned,
    #[error("nothing to plan: no finding of the latest scan is one the console sets (the others say how to fix them)")]
    NothingToFix,
    #[error("a scan of this cluster is running: its report is the next one")]
    Running,
}

impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::NeverScanned => crate::Failure::NotFound,
            Refused::NothingToFix | Refused::Running => crate::Failure::Conflict,
        }
    }
}
crate::refusal!(Refused);

/// Looks at every node of the cluster now, judges what it saw and stores the report (a scan
/// opens SSH sessions and writes the trend, so it is an admin's). One scan of a cluster at a
/// time, across replicas; it runs to its end (report and audit entry stored) even when the
/// caller stops waiting.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn scan(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<PostureReport, Error> {
    context.require_admin()?;
    cluster_name(&services.pool, cluster_id).await?;
    // A session-level advisory lock on a connection of its own, held for the scan.
    let key = 0x706f_7374_0000_0000_i64 ^ cluster_id;
    let mut lock = services.pool.acquire().await?;
    let locked: bool = sqlx::query_scalar!(r#"select pg_try_advisory_lock($1) as "locked!""#, key)
        .fetch_one(&mut *lock)
        .await?;
    if !locked {
        return Err(Refused::Running.into());
    }
    let (services_, context_) = (services.clone(), context.clone());
    let scanned = tokio::spawn(async move {
        let result = scan_now(&services_, &context_, cluster_id).await;
        let _ = sqlx::query_scalar!("select pg_advisory_unlock($1)", key)
            .fetch_one(&mut *lock)
            .await;
        result
    })
    .await;
    scanned.map_err(|e| Error::internal(anyhow::anyhow!("the posture scan stopped: {e}")))?
}

async fn scan_now(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<PostureReport, Error> {
    let pool = &services.pool;
    let cluster = cluster_name(pool, cluster_id).await?;
    let nodes = looked(pool, cluster_id).await?;
    let observed: Vec<_> = futures::stream::iter(nodes.clone())
        .map(|node| observe(services, context, node))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut findings: Vec<_> = observed
        .iter()
        .flat_map(|o| super::judge(o, cluster_id))
        .collect();
    let mut gaps: Vec<_> = observed.iter().flat_map(|o| o.gaps.clone()).collect();
    for (more, missed) in [
        findings::certificates(pool, cluster_id).await?,
        findings::trust(services, context, cluster_id).await?,
        cti::findings(services, context, &nodes).await?,
    ] {
        findings.extend(more);
        gaps.extend(missed);
    }
    findings::hold_back_trust_all(&mut findings, cluster_id);
    findings.sort_by(|a, b| (a.severity, &a.node, a.port).cmp(&(b.severity, &b.node, b.port)));
    let (score, grade) = super::score(&findings);
    let mut report = PostureReport {
        id: None,
        cluster_id,
        cluster,
        scanned_at: String::new(),
        score,
        grade,
        findings,
        complete: gaps.is_empty(),
        gaps,
        nodes: nodes.iter().map(|n| n.fqdn.clone()).collect(),
    };
    let count = |s: Severity| i32::try_from(report.count(s)).unwrap_or(i32::MAX);
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "insert into posture_scan (cluster_id, score, critical, high, medium, low, report, created_by)
         values ($1, $2, $3, $4, $5, $6, '{}', $7) returning id, created_at",
        cluster_id,
        score as i32,
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        context.actor()
    )
    .fetch_one(&mut *tx)
    .await?;
    report.id = Some(row.id);
    report.scanned_at = crate::dates::rfc3339(row.created_at);
    sqlx::query!(
        "update posture_scan set report = $2 where id = $1",
        row.id,
        serde_json::to_value(&report).map_err(Error::internal)?
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("posture.scan", format!("cluster:{cluster_id}"))
            .detail(format!(
                "posture of {}: score {score}, {} findings, {} not looked at",
                report.cluster,
                report.findings.len(),
                report.gaps.len()
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// The latest report (`None`: never scanned). A read.
pub async fn latest(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<Option<PostureReport>, Error> {
    context.require_reader()?;
    cluster_name(&services.pool, cluster_id).await?;
    let report = sqlx::query_scalar!(
        "select report from posture_scan where cluster_id = $1 order by created_at desc, id desc limit 1",
        cluster_id
    )
    .fetch_optional(&services.pool)
    .await?;
    report
        .map(|r| serde_json::from_value(r).map_err(Error::internal))
        .transpose()
}

/// The page: the cluster, its latest report and its trend. A read.
pub async fn view(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<super::PostureView, Error> {
    context.require_reader()?;
    Ok(super::PostureView {
        cluster_id,
        cluster: cluster_name(&services.pool, cluster_id).await?,
        report: latest(services, context, cluster_id).await?,
        trend: history(services, context, cluster_id).await?,
    })
}

/// Every scan's score and counts, oldest first (the newest 200). A read.
pub async fn history(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<Vec<PosturePoint>, Error> {
    context.require_reader()?;
    cluster_name(&services.pool, cluster_id).await?;
    let rows = sqlx::query!(
        "select id, score, critical, high, medium, low, created_at from posture_scan
         where cluster_id = $1 order by created_at desc, id desc limit 200",
        cluster_id
    )
    .fetch_all(&services.pool)
    .await?;
    let n = |v: i32| u32::try_from(v).unwrap_or_default();
    Ok(rows
        .into_iter()
        .rev()
        .map(|r| PosturePoint {
            id: r.id,
            scanned_at: crate::dates::rfc3339(r.created_at),
            score: n(r.score),
            critical: n(r.critical),
            high: n(r.high),
            medium: n(r.medium),
            low: n(r.low),
        })
        .collect())
}

/// Makes the plan that sets what the latest scan found and the console can set (a plan of
/// the reconciliation engine: the nodes are read again, then an admin confirms). Its id.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn plan(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<i64, Error> {
    context.require_admin()?;
    let report = latest(services, context, cluster_id)
        .await?
        .ok_or(Refused::NeverScanned)?;
    let mut per: BTreeMap<i64, States> = BTreeMap::new();
    // A new TLS minimum reboots the node: one node of a cluster per plan, so that a cluster
    // never reboots whole (the next scan plans the next).
    let mut rebooting = None;
    for finding in &report.findings {
        if let Fix::Plan { item, to } = &finding.fix {
            if item == super::rules::TLS_MIN
                && *rebooting.get_or_insert(finding.node_id) != finding.node_id
            {
                continue;
            }
            if PLANNED.iter().any(|i| i.key() == item) {
                per.entry(finding.node_id)
                    .or_default()
                    .insert(item.clone(), State::Setting(to.clone()));
            }
        }
    }
    // Nodes gone since the scan are left out.
    let known = sqlx::query_scalar!(
        "select id from node where cluster_id = $1 and id = any($2)",
        cluster_id,
        &per.keys().copied().collect::<Vec<_>>()
    )
    .fetch_all(&services.pool)
    .await?;
    per.retain(|id, _| known.contains(id));
    if per.is_empty() {
        return Err(Refused::NothingToFix.into());
    }
    let planned: Vec<PlanNode> = per
        .into_iter()
        .map(|(node_id, desired)| PlanNode { node_id, desired })
        .collect();
    let settings: usize = planned.iter().map(|p| p.desired.len()).sum();
    let mut tx = services.pool.begin().await?;
    let id = crate::reconcile::store::create(&mut tx, context, &Posture, cluster_id, 0, &planned)
        .await?;
    record(
        &mut tx,
        context
            .event("plan.create", format!("cluster:{cluster_id}"))
            .detail(format!(
                "plan {id} of the posture of {}: {settings} settings on {} nodes",
                report.cluster,
                planned.len()
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The cluster's name, or why there is no such cluster.
async fn cluster_name(pool: &sqlx::PgPool, cluster_id: i64) -> Result<String, Error> {
    Ok(
        sqlx::query_scalar!("select name from cluster where id = $1", cluster_id)
            .fetch_optional(pool)
            .await?
            .ok_or(crate::inventory::Refused::NoSuchCluster(cluster_id))?,
    )
}

/// The nodes of a cluster as the posture looks at them.
async fn looked(pool: &sqlx::PgPool, cluster_id: i64) -> Result<Vec<Looked>, Error> {
    let rows = sqlx::query!(
        r#"select n.id, n.fqdn, n.kind, n.address,
                  coalesce(array_agg(e.port order by e.port) filter (where e.port is not null), '{}') as "endpoints!"
           from node n left join endpoint e on e.node_id = n.id
           where n.cluster_id = $1 group by n.id order by n.fqdn"#,
        cluster_id
    )
    .fetch_all(pool)
    .await?;
    let mut all_ports = crate::inventory::store::ports::all(pool, cluster_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| Looked {
            id: r.id,
            kind: NodeKind::parse(&r.kind).unwrap_or(NodeKind::Other),
            fqdn: r.fqdn,
            address: r.address,
            endpoints: r
                .endpoints
                .into_iter()
                .filter_map(|p| u16::try_from(p).ok())
                .collect(),
            ports: all_ports.remove(&r.id).unwrap_or_default(),
        })
        .collect())
}

/// A cluster's posture as a subject of the reconciliation engine: its plans set three
/// Finesse properties and the lowest TLS version; not a standing desired state (the next
/// scan shows what is left).
pub struct Posture;

impl Subject for Posture {
    fn name(&self) -> &'static str {
        SUBJECT
    }

    fn items(&self) -> &'static [&'static dyn Drive] {
        &PLANNED
    }

    fn about(&self, id: i64, _cluster: Option<i64>) -> About {
        About {
            of: "the security posture".into(),
            href: format!("/clusters/{id}/posture"),
            link: "The cluster's security posture".into(),
        }
    }
}
