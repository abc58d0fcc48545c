//! A proxy map's rollout as a subject of the reconciliation engine.

use crate::inventory::model::NodeKind;
use crate::proxy_maps::drive::DRIVEN;
use crate::proxy_maps::items::reads_map;
use crate::reconcile::drive::Drive;
use crate::reconcile::subject::Subject;
use crate::reconcile::About;
use crate::Error;
use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};

/// A map's rollout settings (`plan.subject_id`: the map's id), for the nodes of its cluster
/// that fetch maps.
pub struct ProxyMapRollout;

impl Subject for ProxyMapRollout {
    fn name(&self) -> &'static str {
        crate::proxy_maps::SUBJECT
    }

    fn items(&self) -> &'static [&'static dyn Drive] {
        &DRIVEN
    }

    fn latest_version<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        id: i64,
    ) -> BoxFuture<'a, Result<i32, Error>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar!("select rollout_version from proxy_map where id = $1", id)
                    .fetch_optional(connection)
                    .await?
                    .unwrap_or(-1),
            )
        })
    }

    /// The Finesse, IdS and CUIC nodes of the map's cluster now.
    fn managed<'a>(&'a self, pool: &'a PgPool, id: i64) -> BoxFuture<'a, Result<Vec<i64>, Error>> {
        Box::pin(async move {
            let nodes = sqlx::query!(
                "select n.id, n.kind from node n join proxy_map m on m.cluster_id = n.cluster_id
                 where m.id = $1 order by n.id",
                id
            )
            .fetch_all(pool)
            .await?;
            Ok(nodes
                .into_iter()
                .filter(|n| NodeKind::parse(&n.kind).is_ok_and(reads_map))
                .map(|n| n.id)
                .collect())
        })
    }

    fn about(&self, id: i64, _cluster: Option<i64>) -> About {
        About {
            of: "the map's rollout settings".into(),
            href: format!("/proxy-map/{id}"),
            link: "The proxy map".into(),
        }
    }
}
