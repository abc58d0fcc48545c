//! The drift check of the access policy: every node the last applied plan of its policy
//! covered, read and compared with that plan's version (a saved version not yet applied is a
//! pending change, not drift; a cluster that joined a shared policy is checked once a plan
//! that includes it was applied).

use crate::access_policy::drive::DRIVEN;
use crate::access_policy::AccessPolicy;
use crate::auth::principal::RequestContext;
use crate::auth::Role;
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{differences, read_node};
use crate::reconcile::{drift, store::CONCURRENCY, States};
use crate::{Error, Services};
use futures::StreamExt;

/// Reads every managed node and records what differs (the drift job).
pub async fn check_all(services: &Services) -> Result<(), Error> {
    let applied = sqlx::query!(
        r#"select distinct on (subject_id) id, subject_id as "policy_id!", subject_version as "version!"
           from plan where subject = 'access_policy' and confirmed_at is not null
           order by subject_id, confirmed_at desc"#
    )
    .fetch_all(&services.pool)
    .await?;
    let mut nodes: Vec<(i64, NodeKind, States)> = Vec::new();
    for policy in applied {
        let document = sqlx::query_scalar!(
            "select document from access_policy_version where policy_id = $1 and version = $2",
            policy.policy_id,
            policy.version
        )
        .fetch_one(&services.pool)
        .await?;
        let document: AccessPolicy = serde_json::from_value(document).map_err(Error::internal)?;
        let members = sqlx::query!(
            "select n.id, n.kind from node n join access_policy_cluster c on c.cluster_id = n.cluster_id
             where c.policy_id = $1 and exists (select 1 from plan_node p where p.plan_id = $2 and p.node_id = n.id)",
            policy.policy_id,
            policy.id
        )
        .fetch_all(&services.pool)
        .await?;
        for node in members {
            let Ok(kind) = NodeKind::parse(&node.kind) else {
                continue;
            };
            let desired = crate::access_policy::desired(&document, kind);
            if !desired.is_empty() {
                nodes.push((node.id, kind, desired));
            }
        }
    }
    let managed: Vec<i64> = nodes.iter().map(|(id, ..)| *id).collect();
    drift::forget_unmanaged(&services.pool, &managed).await?;
    // The job acts as the system (its reads are audited as `system:drift-check`).
    let context = RequestContext::system("drift-check", Role::Admin, "local");
    let results: Vec<Result<(), Error>> = futures::stream::iter(nodes)
        .map(|(node_id, kind, desired)| {
            let context = &context;
            async move {
                let wanted = desired.clone();
                let read = crate::appliances::store::with_node(
                    services,
                    context,
                    node_id,
                    crate::appliances::store::Purpose::Read,
                    |driver| async move {
                        read_node(&DRIVEN, &driver, kind, &wanted)
                            .await
                            .map_err(|(_, e)| e)
                    },
                )
                .await?;
                let found = read
                    .map(|observed| differences(&DRIVEN, kind, &desired, &observed))
                    .map_err(|failure| failure.to_string());
                let keys: Vec<&str> = DRIVEN.iter().map(|i| i.key()).collect();
                drift::record(&services.pool, node_id, &keys, found).await
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Reads every node under an applied access policy and records its drift (periodic, and on
/// an admin's "check now").
pub struct Drift;

impl crate::jobs::Kind for Drift {
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
