//! A node's tomcat certificate regenerated (self-signed again), and who must trust it again:
//! the nodes whose trust matrix needs it (each cluster's matrix plans the import once the
//! stores are read again) and the browsers that accepted the old one.

use crate::auth::principal::RequestContext;
use crate::trust::csr::{Regenerated, TrustedBy};
use crate::trust::{requirements, Extra, Member, Needed};
use crate::{Error, Services};

/// Regenerates the node's tomcat certificate (admins; VOS's warning stands: a CA-signed
/// certificate is replaced) and lists who must trust the new one.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id))]
pub async fn regenerate(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Regenerated, Error> {
    context.require_admin()?;
    let operation = crate::appliances::store::regenerate_tomcat(services, context, node_id).await?;
    let nodes = sqlx::query!(
        "select n.id, n.cluster_id, c.name as cluster, n.kind, n.role, n.fqdn
         from node n join cluster c on c.id = n.cluster_id order by c.name, n.fqdn"
    )
    .fetch_all(&services.pool)
    .await?;
    let members: Vec<Member> = nodes
        .iter()
        .filter_map(|n| Member::of(n.id, n.cluster_id, &n.kind, &n.role, &n.fqdn))
        .collect();
    let trusted_by = requirements(&members, &Extra::default())
        .into_iter()
        .filter(|r| matches!(r.needed, Needed::Node { id, .. } if id == node_id))
        .filter_map(|r| nodes.iter().find(|n| n.id == r.holder))
        .map(|n| TrustedBy {
            node_id: n.id,
            fqdn: n.fqdn.clone(),
            cluster_id: n.cluster_id,
            cluster: n.cluster.clone(),
        })
        .collect();
    Ok(Regenerated {
        operation,
        trusted_by,
        browsers: "Browsers that accepted the old self-signed certificate (agents' and supervisors' desktops, admins') warn again: each must accept or trust the new one (seed 002: Trust Self-Signed Certificate), or give the node a CA-signed certificate.".into(),
    })
}
