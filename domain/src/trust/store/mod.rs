//! The required-trust matrix from what the console keeps: the inventory (every node of it may
//! be needed; the rows are the cluster's), the access policy's proxies, the proxy map's HTTPS
//! hosts and the servers an admin lists, judged against the trust stores as last read over
//! SSH. Its plan imports what is missing, publisher first, as a plan of the reconciliation
//! engine ([`TrustMatrix`]); the stores are read again once it is applied.

mod build;
mod regenerate;
mod servers;
pub mod upload;

pub use regenerate::regenerate;
pub use servers::{add_server, read_servers, remove_server};

use super::matrix::Matrix;
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::reconcile::drive::{certificate_label, Drive};
use crate::reconcile::store::PlanNode;
use crate::reconcile::subject::Subject;
use crate::reconcile::{About, State, States, Trusted};
use crate::{Error, Services};
use build::build;
use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};

/// Plans of a cluster's matrix (`plan.subject_id`: the cluster's id).
pub const SUBJECT: &str = "trust_matrix";

/// Why the matrix refuses.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("nothing to import: every cell a plan can fix is green (the others say why)")]
    NothingToFix,
    #[error("{0} is not listed for this cluster")]
    NoSuchServer(String),
    #[error("a cluster lists at most {0} servers: remove one first")]
    TooManyServers(i64),
}

impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::NothingToFix => crate::Failure::Conflict,
            Refused::NoSuchServer(_) => crate::Failure::NotFound,
            Refused::TooManyServers(_) => crate::Failure::Conflict,
        }
    }
}
crate::refusal!(Refused);

/// The matrix as the stores were last read (a read: nothing is probed or changed).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn matrix(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<Matrix, Error> {
    context.require_reader()?;
    Ok(build(&services.pool, cluster_id).await?.matrix)
}

/// Makes the plan that imports every certificate a red cell lacks into its holder's
/// tomcat-trust, the root first; the CA certificates a publisher imports are left off its
/// subscribers (they replicate; seed 002), whose stores are read again after the plan. The nodes are
/// read by a job; the plan waits for an admin's confirmation. Returns its id.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn plan(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<i64, Error> {
    context.require_admin()?;
    let built = build(&services.pool, cluster_id).await?;
    let mut per: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for cell in &built.matrix.cells {
        let list = per.entry(cell.holder).or_default();
        for sha in &cell.import {
            if !list.contains(sha) {
                list.push(sha.clone());
            }
        }
    }
    let imported_by: HashMap<i64, Vec<String>> = per.iter().map(|(k, v)| (*k, v.clone())).collect();
    for (holder, list) in per.iter_mut() {
        if let Some(from_publisher) = built.publisher.get(holder).and_then(|p| imported_by.get(p)) {
            // Only CA certificates replicate (seed 002); a peer's own is imported here too.
            list.retain(|sha| {
                !(built.ca_fingerprints.contains(sha) && from_publisher.contains(sha))
            });
        }
    }
    per.retain(|_, list| !list.is_empty());
    if per.is_empty() {
        return Err(Refused::NothingToFix.into());
    }
    let shas: Vec<String> = per.values().flatten().cloned().collect();
    let mut ders = built.ders;
    for row in sqlx::query!(
        "select sha256, der from certificate where sha256 = any($1)",
        &shas
    )
    .fetch_all(&services.pool)
    .await?
    {
        ders.insert(row.sha256, row.der);
    }
    let mut planned = Vec::new();
    let mut count = 0;
    for (node_id, list) in &per {
        let certificates = list
            .iter()
            .map(|sha| {
                let der = ders.get(sha).ok_or_else(|| {
                    Error::internal(anyhow::anyhow!("certificate {sha} is in no table"))
                })?;
                Ok(Trusted {
                    label: certificate_label(der),
                    der: der.clone(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        count += certificates.len();
        let mut desired = States::new();
        desired.insert(TOMCAT_TRUST.into(), State::Certificates(certificates));
        planned.push(PlanNode {
            node_id: *node_id,
            desired,
        });
    }
    let mut tx = services.pool.begin().await?;
    let id =
        crate::reconcile::store::create(&mut tx, context, &TrustMatrix, cluster_id, 0, &planned)
            .await?;
    record(
        &mut tx,
        context
            .event("plan.create", format!("cluster:{cluster_id}"))
            .detail(format!(
                "plan {id} of the trust matrix of {}: {count} imports into tomcat-trust on {} nodes",
                built.matrix.cluster,
                planned.len()
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

const TOMCAT_TRUST: &str = "tomcat-trust";

/// A cluster's trust matrix as a subject of the reconciliation engine: its plans import into
/// tomcat-trust and nothing else; not a standing desired state (drift does not watch it, the
/// matrix itself shows what is red).
pub struct TrustMatrix;

impl Subject for TrustMatrix {
    fn name(&self) -> &'static str {
        SUBJECT
    }

    fn items(&self) -> &'static [&'static dyn Drive] {
        &crate::appliances::store::trust::TOMCAT_TRUST
    }

    fn about(&self, id: i64, _cluster: Option<i64>) -> About {
        About {
            of: "the trust matrix".into(),
            href: format!("/clusters/{id}/trust"),
            link: "The trust matrix".into(),
        }
    }

    /// What a publisher imported replicates to its subscribers: their web service restarts too
    /// (seed 002, step 14). Then the stores of every node of the cluster are read again
    /// (subscribers included, for the replication), each a store-read job.
    fn applied<'a>(
        &'a self,
        pool: &'a sqlx::PgPool,
        context: &'a RequestContext,
        id: i64,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let subscribers = sqlx::query!(
                r#"select distinct sub.id, sub.kind from plan_step st
                   join node publisher on publisher.id = st.node_id and publisher.role in ('primary', 'side_a')
                   join node sub on sub.cluster_id = publisher.cluster_id and sub.kind = publisher.kind
                                and sub.role in ('secondary', 'side_b')
                   where st.state = 'done'
                     and st.plan_id = (select id from plan where subject = $1 and subject_id = $2 order by id desc limit 1)"#,
                SUBJECT,
                id
            )
            .fetch_all(pool)
            .await?;
            let store: &dyn crate::reconcile::Item = &crate::appliances::store::trust::STORES[0];
            for sub in subscribers {
                let kind = crate::inventory::model::NodeKind::parse(&sub.kind)
                    .unwrap_or(crate::inventory::model::NodeKind::Other);
                for service in store.restarts(kind) {
                    sqlx::query!(
                        "insert into restart_pending (node_id, service) values ($1, $2) on conflict do nothing",
                        sub.id,
                        service
                    )
                    .execute(pool)
                    .await?;
                }
            }
            let nodes = sqlx::query_scalar!(
                "select n.id from node n join node_credential a on a.node_id = n.id where n.cluster_id = $1 order by n.id",
                id
            )
            .fetch_all(pool)
            .await?;
            for node_id in nodes {
                crate::appliances::store::queue_store_read(pool, context, node_id).await?;
            }
            Ok(())
        })
    }
}
