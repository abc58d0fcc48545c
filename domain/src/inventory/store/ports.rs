//! Where a node's other services listen when not at the product's defaults (a node behind
//! NAT, the simulator's loopback ports): HTTP 80, 8082, XMPP 5222, BOSH 7071, the desktop
//! 8445, the CTI interface 8012.

use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::{Error, Services};
use std::collections::{BTreeMap, HashMap};

/// The services a port can be set for, with their defaults.
pub const SERVICES: [(&str, u16); 6] = [
    ("http", 80),
    ("http_alt", 8082),
    ("xmpp", 5222),
    ("bosh", 7071),
    ("desktop", 8445),
    ("cti", 8012),
];

/// Every node's ports of the cluster that differ from the defaults.
pub(crate) async fn all(
    pool: &sqlx::PgPool,
    cluster_id: i64,
) -> Result<HashMap<i64, HashMap<String, u16>>, Error> {
    let rows = sqlx::query!(
        "select p.node_id, p.service, p.port from node_port p join node n on n.id = p.node_id where n.cluster_id = $1",
        cluster_id
    )
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<i64, HashMap<String, u16>> = HashMap::new();
    for row in rows {
        if let Ok(port) = u16::try_from(row.port) {
            out.entry(row.node_id)
                .or_default()
                .insert(row.service, port);
        }
    }
    Ok(out)
}

/// A node's ports, every service with its port (set or default). A read.
pub async fn ports(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<BTreeMap<String, u16>, Error> {
    context.require_reader()?;
    let set: HashMap<String, i32> = sqlx::query!(
        "select service, port from node_port where node_id = $1",
        node_id
    )
    .fetch_all(&services.pool)
    .await?
    .into_iter()
    .map(|r| (r.service, r.port))
    .collect();
    Ok(SERVICES
        .iter()
        .map(|(service, default)| {
            let port = set
                .get(*service)
                .and_then(|p| u16::try_from(*p).ok())
                .unwrap_or(*default);
            ((*service).to_owned(), port)
        })
        .collect())
}

/// Sets where `node_id`'s services listen (a default port removes the entry); an unknown
/// service is refused.
pub async fn set_ports(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
    wanted: &BTreeMap<String, u16>,
) -> Result<(), Error> {
    context.require_admin()?;
    let mut errors = crate::field_errors::FieldErrors::new();
    for (service, port) in wanted {
        let why = if !SERVICES.iter().any(|(s, _)| s == service) {
            "no such service: http, http_alt, xmpp, bosh, desktop or cti"
        } else if *port == 0 {
            "a port is 1 to 65535"
        } else {
            continue;
        };
        errors.entry(service.clone()).or_default().push(why.into());
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = services.pool.begin().await?;
    let fqdn = sqlx::query_scalar!("select fqdn from node where id = $1 for update", node_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(crate::inventory::Refused::NoSuchNode(node_id))?;
    for (service, port) in wanted {
        let default = SERVICES.iter().any(|(s, d)| s == service && d == port);
        if default {
            sqlx::query!(
                "delete from node_port where node_id = $1 and service = $2",
                node_id,
                service
            )
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query!(
                "insert into node_port (node_id, service, port) values ($1, $2, $3)
                 on conflict (node_id, service) do update set port = excluded.port",
                node_id,
                service,
                i32::from(*port)
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    let said: Vec<String> = wanted.iter().map(|(s, p)| format!("{s} {p}")).collect();
    record(
        &mut tx,
        context
            .event("node.ports", format!("node:{node_id}"))
            .detail(format!("ports of {fqdn}: {}", said.join(", "))),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
