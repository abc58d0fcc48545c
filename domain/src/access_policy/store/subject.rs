//! The access policy as a subject of the reconciliation engine.

use crate::access_policy::drive::DRIVEN;
use crate::reconcile::drive::Drive;
use crate::reconcile::subject::Subject;
use crate::reconcile::About;
use crate::Error;
use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};

/// An access policy (`plan.subject_id`: the policy's id), shared by the clusters that follow it.
pub struct AccessPolicy;

impl Subject for AccessPolicy {
    fn name(&self) -> &'static str {
        crate::access_policy::SUBJECT
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
            Ok(sqlx::query_scalar!(
                "select coalesce(max(version), 0) as \"v!\" from access_policy_version where policy_id = $1",
                id
            )
            .fetch_one(connection)
            .await?)
        })
    }

    /// Every node of the clusters that follow the policy now.
    fn managed<'a>(&'a self, pool: &'a PgPool, id: i64) -> BoxFuture<'a, Result<Vec<i64>, Error>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar!(
                "select n.id from node n join access_policy_cluster c on c.cluster_id = n.cluster_id
                 where c.policy_id = $1 order by n.id",
                id
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// A policy may be followed by several clusters: the page of the cluster in question.
    fn about(&self, _id: i64, cluster: Option<i64>) -> About {
        About {
            of: "policy".into(),
            href: cluster.map_or("/access-policy".to_owned(), |c| {
                format!("/access-policy/{c}")
            }),
            link: "The cluster's policy".into(),
        }
    }
}
