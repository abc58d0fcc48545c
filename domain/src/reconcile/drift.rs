//! Drift: what a managed node has that its desired state does not say, as the periodic drift
//! job last read it, for every subject the engine reconciles. A node's desired state for a
//! subject is what the newest applied plan of that subject covering the node wanted, while the
//! subject still manages the node ([`super::subject::Subject::managed`]; a saved version not yet
//! applied is a pending change, not drift). A drifted item is one row; a new row and a removed
//! row are transitions, sent to the webhooks once each (a node that stays drifted sends nothing
//! more).

use super::drive::{differences, read_node};
use super::nodes::CONCURRENCY;
use super::subject::Subject;
use super::{Drift, States};
use crate::auth::principal::RequestContext;
use crate::auth::Role;
use crate::dates::rfc3339;
use crate::inventory::model::NodeKind;
use crate::webhooks::store::notify;
use crate::{Error, Services};
use futures::StreamExt;
use sqlx::PgPool;
use std::collections::HashMap;

/// Reads every managed node and records what differs (the drift job).
pub async fn check_all(services: &Services) -> Result<(), Error> {
    let applied = sqlx::query!(
        r#"select distinct on (p.subject, pn.node_id) p.subject, p.subject_id, pn.node_id, n.kind, pn.desired
           from plan p join plan_node pn on pn.plan_id = p.id join node n on n.id = pn.node_id
           where p.confirmed_at is not null
           order by p.subject, pn.node_id, p.confirmed_at desc"#
    )
    .fetch_all(&services.pool)
    .await?;
    let mut managed: HashMap<(&str, i64), Vec<i64>> = HashMap::new();
    let mut targets: Vec<Target> = Vec::new();
    for row in applied {
        // A plan of a subject this replica does not reconcile is left to one that does.
        let Ok(subject) = services.subjects.get(&row.subject) else {
            continue;
        };
        let Ok(kind) = NodeKind::parse(&row.kind) else {
            continue;
        };
        let nodes = match managed.entry((subject.name(), row.subject_id)) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(subject.managed(&services.pool, row.subject_id).await?)
            }
        };
        if !nodes.contains(&row.node_id) {
            continue;
        }
        let desired: States = serde_json::from_value(row.desired).map_err(Error::internal)?;
        if !desired.is_empty() {
            targets.push(Target {
                subject,
                subject_id: row.subject_id,
                node_id: row.node_id,
                kind,
                desired,
            });
        }
    }
    let kept: Vec<(i64, &str)> = targets
        .iter()
        .flat_map(|t| t.subject.items().iter().map(|i| (t.node_id, i.key())))
        .collect();
    forget_unmanaged(&services.pool, &kept).await?;
    // The job acts as the system (its reads are audited as `system:drift-check`).
    let context = RequestContext::system("drift-check", Role::Admin, "local");
    let results: Vec<Result<(), Error>> = futures::stream::iter(targets)
        .map(|target| check_node(services, &context, target))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

/// One node to check for one subject.
struct Target {
    subject: &'static dyn Subject,
    subject_id: i64,
    node_id: i64,
    kind: NodeKind,
    desired: States,
}

/// Reads one node's items of its subject and records what differs from its desired state.
async fn check_node(
    services: &Services,
    context: &RequestContext,
    target: Target,
) -> Result<(), Error> {
    let Target {
        subject,
        subject_id,
        node_id,
        kind,
        desired,
    } = target;
    let items = subject.items();
    let wanted = desired.clone();
    let read = crate::appliances::store::with_node(
        services,
        context,
        node_id,
        crate::appliances::store::Purpose::Read,
        |driver| async move {
            read_node(items, &*driver, kind, &wanted)
                .await
                .map_err(|(_, e)| e)
        },
    )
    .await?;
    let found = read
        .map(|observed| differences(items, kind, &desired, &observed))
        .map_err(|failure| failure.to_string());
    record(&services.pool, subject, subject_id, node_id, found).await
}

/// Reads every node a subject manages and records its drift (periodic, and on an admin's
/// "check now").
pub struct DriftCheck;

impl crate::jobs::Kind for DriftCheck {
    const NAME: &'static str = "drift";
    type Payload = crate::jobs::Nothing;

    async fn run(
        services: &Services,
        _: &crate::jobs::Job,
        _: crate::jobs::Nothing,
    ) -> anyhow::Result<()> {
        anyhow::Context::context(check_all(services).await, "checking drift")
    }
}

/// What one check of a node's items of `subject` found: `Ok` its differences `(item, expected,
/// actual)`, `Err` why it could not be read (its drift rows stay as they were). Drift of other
/// subjects' items is left as it is.
pub async fn record(
    pool: &PgPool,
    subject: &dyn Subject,
    subject_id: i64,
    node_id: i64,
    found: Result<Vec<(String, String, String)>, String>,
) -> Result<(), Error> {
    let items: Vec<String> = subject.items().iter().map(|i| i.key().to_owned()).collect();
    let mut tx = pool.begin().await?;
    let error = found.as_ref().err().cloned();
    sqlx::query!(
        "insert into drift_check (node_id, checked_at, error) values ($1, now(), $2)
         on conflict (node_id) do update set checked_at = now(), error = $2",
        node_id,
        error
    )
    .execute(&mut *tx)
    .await?;
    let Ok(found) = found else {
        return Ok(tx.commit().await?);
    };
    let node = sqlx::query!(
        "select n.fqdn, n.cluster_id, c.name as cluster from node n join cluster c on c.id = n.cluster_id where n.id = $1",
        node_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let before = sqlx::query!(
        "select item from drift where node_id = $1 and item = any($2) for update",
        node_id,
        &items
    )
    .fetch_all(&mut *tx)
    .await?;
    let message = |item: &str, expected: &str, actual: &str, to: &str| {
        serde_json::json!({
            "event": "policy_drift", "subject": subject.name(), "to": to, "node_id": node_id, "fqdn": node.fqdn,
            "cluster_id": node.cluster_id, "cluster": node.cluster,
            "item": item, "expected": expected, "actual": actual,
        })
    };
    for (item, expected, actual) in &found {
        let new = sqlx::query_scalar!(
            "insert into drift (node_id, item, expected, actual, subject, subject_id) values ($1, $2, $3, $4, $5, $6)
             on conflict (node_id, item) do update set expected = $3, actual = $4, subject = $5, subject_id = $6, checked_at = now()
             returning (xmax = 0) as \"inserted!\"",
            node_id,
            item,
            expected,
            actual,
            subject.name(),
            subject_id
        )
        .fetch_one(&mut *tx)
        .await?;
        if new {
            let detail = message(item, expected, actual, "drifted");
            notify(&mut tx, None, None, Some("in_sync"), "drifted", &detail).await?;
        }
    }
    for gone in before
        .iter()
        .filter(|b| !found.iter().any(|(item, ..)| *item == b.item))
    {
        sqlx::query!(
            "delete from drift where node_id = $1 and item = $2",
            node_id,
            gone.item
        )
        .execute(&mut *tx)
        .await?;
        let detail = message(&gone.item, "", "", "resolved");
        notify(&mut tx, None, None, Some("drifted"), "resolved", &detail).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every drifted item, for a reader or a monitor.
pub async fn drift(
    services: &Services,
    context: &crate::auth::principal::RequestContext,
) -> Result<Vec<Drift>, Error> {
    context.require_monitor()?;
    list(services).await
}

/// Checks every managed node now (the drift job, queued once across replicas, waited for up to
/// a minute), then lists the drift.
pub async fn check_now(
    services: &crate::Services,
    context: &crate::auth::principal::RequestContext,
) -> Result<Vec<Drift>, Error> {
    context.require_admin()?;
    use crate::jobs::Kind;
    let job = DriftCheck::job(crate::jobs::Nothing {}, context.actor()).once_at_a_time("drift");
    let ended = crate::jobs::queue::enqueue_and_wait(
        &services.pool,
        &job,
        std::time::Duration::from_secs(60),
    )
    .await
    .map_err(Error::internal)?;
    match ended {
        Some(ended) if ended.state == "done" => list(services).await,
        Some(ended) => Err(CheckRefused::Ended(
            ended
                .error
                .unwrap_or_else(|| format!("the drift check ended {}", ended.state)),
        )
        .into()),
        None => Err(CheckRefused::StillRunning.into()),
    }
}

/// Why a drift check asked for now gave no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckRefused {
    #[error("{0}")]
    Ended(String),
    #[error("the drift check is still running after a minute; its result shows when it ends")]
    StillRunning,
}

impl crate::error::Refusal for CheckRefused {
    fn failure(&self) -> crate::Failure {
        crate::Failure::Conflict
    }
}

crate::refusal!(CheckRefused);

/// Every drifted item, by cluster and node, with where each is set right.
pub async fn list(services: &Services) -> Result<Vec<Drift>, Error> {
    let rows = sqlx::query!(
        "select d.node_id, n.fqdn, n.cluster_id, c.name as cluster, d.subject, d.subject_id, d.item, d.expected, d.actual, d.since, d.checked_at
         from drift d join node n on n.id = d.node_id join cluster c on c.id = n.cluster_id
         order by c.name, n.fqdn, d.item"
    )
    .fetch_all(&services.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Drift {
            about: services
                .subjects
                .get(&r.subject)
                .ok()
                .map(|subject| subject.about(r.subject_id.unwrap_or_default(), Some(r.cluster_id))),
            cluster_id: r.cluster_id,
            cluster: r.cluster,
            node_id: r.node_id,
            fqdn: r.fqdn,
            subject: r.subject,
            item: r.item,
            expected: r.expected,
            actual: r.actual,
            since: rfc3339(r.since),
            checked_at: rfc3339(r.checked_at),
        })
        .collect())
}

/// Forgets the drift of items no subject manages on a node any more (its cluster left its
/// policy, the node's kind changed, the map moved to another cluster): `kept` are the (node,
/// item) pairs still managed.
async fn forget_unmanaged(pool: &PgPool, kept: &[(i64, &str)]) -> Result<(), Error> {
    let nodes: Vec<i64> = kept.iter().map(|(node, _)| *node).collect();
    let items: Vec<String> = kept.iter().map(|(_, item)| (*item).to_owned()).collect();
    sqlx::query!(
        "delete from drift d where not exists (
             select 1 from unnest($1::bigint[], $2::text[]) as k(node_id, item)
             where k.node_id = d.node_id and k.item = d.item)",
        &nodes,
        &items
    )
    .execute(pool)
    .await?;
    sqlx::query!("delete from drift_check where node_id <> all($1)", &nodes)
        .execute(pool)
        .await?;
    Ok(())
}
