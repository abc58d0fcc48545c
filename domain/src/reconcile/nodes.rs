//! A plan's nodes as its jobs read them.

use super::{NodePlan, NodeState, States};
use crate::inventory::model::NodeKind;
use crate::Error;
use sqlx::PgPool;

/// Nodes read or applied at once across clusters (each also bound by the SSH limits).
pub const CONCURRENCY: usize = 8;

/// A node of a plan as its jobs need it.
pub(super) struct Row {
    pub node_id: i64,
    pub fqdn: String,
    pub kind: NodeKind,
    pub cluster_id: i64,
    pub state: NodeState,
    pub observed: Option<States>,
    pub desired: States,
    pub plan: Option<NodePlan>,
}

/// A state as stored: a word no state is named by is a bug.
pub(super) fn stored<T: std::str::FromStr<Err = String>>(word: &str) -> Result<T, Error> {
    word.parse()
        .map_err(|e: String| Error::internal(anyhow::anyhow!(e)))
}

pub(super) async fn rows(pool: &PgPool, plan_id: i64) -> Result<Vec<Row>, Error> {
    let rows = sqlx::query!(
        "select p.node_id, n.fqdn, n.kind, n.cluster_id, p.state, p.observed, p.desired, p.node_plan
         from plan_node p join node n on n.id = p.node_id
         where p.plan_id = $1 order by n.cluster_id, p.position, n.fqdn",
        plan_id
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            fn json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, Error> {
                serde_json::from_value(v).map_err(Error::internal)
            }
            Ok(Row {
                node_id: r.node_id,
                fqdn: r.fqdn,
                kind: NodeKind::parse(&r.kind).map_err(|e| Error::internal(anyhow::anyhow!(e)))?,
                cluster_id: r.cluster_id,
                state: stored(&r.state)?,
                observed: r.observed.map(json).transpose()?,
                desired: json(r.desired)?,
                plan: r.node_plan.map(json).transpose()?,
            })
        })
        .collect()
}
