//! The servers a cluster's nodes must trust that are no node of the inventory: third-party
//! gadget and script servers an admin lists, and the proxy map's HTTPS hosts. The console reads
//! what each serves (a TLS handshake) when an admin asks, and keeps the chain.

use super::{matrix, Refused};
use crate::audit::store::{record, record_alone};
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::proxy_maps::rollout::https_host;
use crate::trust::matrix::{parse_server, Matrix, Server};
use crate::{Error, Services};
use certs::CertInfo;
use sqlx::PgConnection;
use std::collections::HashMap;

/// The most servers an admin may list for one cluster.
const MOST: i64 = 50;

/// The servers of a cluster the console reads itself, with the chains they served.
pub(super) struct Listed {
    pub servers: Vec<Server>,
    /// The labels of those an admin listed.
    pub third_party: Vec<String>,
    /// The labels of the proxy map's HTTPS hosts.
    pub map_hosts: Vec<String>,
    /// What each served at its last good read, leaf first, by label.
    pub chains: HashMap<String, Vec<CertInfo>>,
}

impl Listed {
    pub async fn load(db: &mut PgConnection, cluster_id: i64) -> Result<Self, Error> {
        let uris: Vec<String> = sqlx::query_scalar!(
            r#"select unnest(config_uris) as "uri!" from proxy_map where cluster_id = $1 order by id"#,
            cluster_id
        )
        .fetch_all(&mut *db)
        .await?;
        let mut map_hosts: Vec<(String, u16)> = Vec::new();
        // Taken as a listed server would be (a name the nodes can fetch from, nothing else).
        let hosts = uris
            .iter()
            .filter_map(|u| https_host(u))
            .filter_map(|(h, p)| parse_server(&Server::label(&h, p)).ok());
        for (host, port) in hosts {
            if !map_hosts.iter().any(|(h, p)| *h == host && *p == port) {
                map_hosts.push((host, port));
            }
        }
        let rows = sqlx::query!(
            "select host, port, source, chain, read_at, error from trust_server where cluster_id = $1 order by host, port",
            cluster_id
        )
        .fetch_all(&mut *db)
        .await?;
        let shas: Vec<String> = rows.iter().flat_map(|r| r.chain.clone()).collect();
        let mut certificates: HashMap<String, CertInfo> = HashMap::new();
        for row in sqlx::query!(
            "select sha256, info from certificate where sha256 = any($1)",
            &shas
        )
        .fetch_all(&mut *db)
        .await?
        {
            let info = serde_json::from_value(row.info).map_err(Error::internal)?;
            certificates.insert(row.sha256, info);
        }
        let mut listed = Listed {
            servers: Vec::new(),
            third_party: Vec::new(),
            map_hosts: map_hosts
                .iter()
                .map(|(h, p)| Server::label(h, *p))
                .collect(),
            chains: HashMap::new(),
        };
        for (host, port) in &map_hosts {
            let known = rows
                .iter()
                .any(|r| r.host == *host && r.port == i32::from(*port));
            if !known {
                listed.servers.push(Server {
                    host: host.clone(),
                    port: *port,
                    source: "proxy_map".into(),
                    read_at: None,
                    error: None,
                    subject_cn: None,
                    chain_length: 0,
                });
            }
        }
        for r in rows {
            let port = u16::try_from(r.port).map_err(Error::internal)?;
            let label = Server::label(&r.host, port);
            let in_map = map_hosts.iter().any(|(h, p)| *h == r.host && *p == port);
            // A map host the map no longer names is no longer needed.
            if r.source == "proxy_map" && !in_map {
                continue;
            }
            if r.source == "admin" {
                listed.third_party.push(label.clone());
            }
            let chain: Vec<CertInfo> = r
                .chain
                .iter()
                .filter_map(|sha| certificates.get(sha).cloned())
                .collect();
            listed.servers.push(Server {
                host: r.host,
                port,
                source: r.source,
                read_at: r.read_at.map(rfc3339),
                error: r.error,
                subject_cn: chain.first().and_then(|c| c.subject_cn.clone()),
                chain_length: chain.len(),
            });
            listed.chains.insert(label, chain);
        }
        Ok(listed)
    }
}

/// Lists a third-party server for the cluster (its Finesse and UCCX nodes must trust it) and
/// reads its chain at once.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn add_server(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
    input: &str,
) -> Result<Matrix, Error> {
    context.require_admin()?;
    let (host, port) = parse_server(input).map_err(|e| Error::field("host", e))?;
    let mut tx = services.pool.begin().await?;
    sqlx::query_scalar!("select id from cluster where id = $1 for share", cluster_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(crate::inventory::Refused::NoSuchCluster(cluster_id))?;
    let listed = sqlx::query_scalar!(
        r#"select count(*) as "n!" from trust_server where cluster_id = $1 and source = 'admin'"#,
        cluster_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if listed >= MOST {
        return Err(Refused::TooManyServers(MOST).into());
    }
    sqlx::query!(
        "insert into trust_server (cluster_id, host, port, source, added_by) values ($1, $2, $3, 'admin', $4)
         on conflict (cluster_id, host, port) do update set source = 'admin'",
        cluster_id,
        host,
        i32::from(port),
        context.actor()
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("trust.server.add", format!("cluster:{cluster_id}"))
            .detail(format!(
                "{} must be trusted by the cluster's Finesse and UCCX nodes",
                Server::label(&host, port)
            )),
    )
    .await?;
    tx.commit().await?;
    read_server(services, cluster_id, &host, port, "admin").await?;
    matrix(services, context, cluster_id).await
}

/// Takes a third-party server off the cluster's list.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn remove_server(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
    input: &str,
) -> Result<Matrix, Error> {
    context.require_admin()?;
    let (host, port) = parse_server(input).map_err(|e| Error::field("host", e))?;
    let label = Server::label(&host, port);
    let mut tx = services.pool.begin().await?;
    let gone = sqlx::query!(
        "delete from trust_server where cluster_id = $1 and host = $2 and port = $3 and source = 'admin'",
        cluster_id,
        host,
        i32::from(port)
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if gone == 0 {
        return Err(Refused::NoSuchServer(label).into());
    }
    record(
        &mut tx,
        context
            .event("trust.server.remove", format!("cluster:{cluster_id}"))
            .detail(label),
    )
    .await?;
    tx.commit().await?;
    matrix(services, context, cluster_id).await
}

/// Reads the chain of every listed server and proxy-map host of the cluster now (a TLS
/// handshake each), then shows the matrix.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn read_servers(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<Matrix, Error> {
    context.require_admin()?;
    let servers = Listed::load(&mut *services.pool.acquire().await?, cluster_id)
        .await?
        .servers;
    for server in &servers {
        read_server(
            services,
            cluster_id,
            &server.host,
            server.port,
            &server.source,
        )
        .await?;
    }
    record_alone(
        &services.pool,
        context
            .event("trust.servers.read", format!("cluster:{cluster_id}"))
            .detail(format!("{} servers", servers.len())),
    )
    .await?;
    matrix(services, context, cluster_id).await
}

/// Reads what `host:port` serves and keeps it (a failure is kept as the server's error, the
/// last good chain stays).
async fn read_server(
    services: &Services,
    cluster_id: i64,
    host: &str,
    port: u16,
    source: &str,
) -> Result<(), Error> {
    let target = crate::scans::probe::Target {
        fqdn: host.to_owned(),
        address: None,
        port,
    };
    let probed = services.scans.prober().probe(&target, None).await;
    let mut tx = services.pool.begin().await?;
    match probed {
        Ok(handshake) => {
            // The leaf, then each certificate that signed the one before: whatever else a
            // server sends is never offered for import.
            let mut parsed: Vec<(CertInfo, &[u8])> = Vec::new();
            for der in &handshake.chain {
                let follows = parsed
                    .last()
                    .is_none_or(|(_, below)| certs::analyze::signed_by(below, der));
                match certs::analyze::parse(der) {
                    Ok(info) if follows => parsed.push((info, der.as_slice())),
                    _ => break,
                }
            }
            let pairs: Vec<(&CertInfo, &[u8])> = parsed.iter().map(|(i, d)| (i, *d)).collect();
            crate::certificates::store::insert_certificates(&mut tx, &pairs).await?;
            let chain: Vec<String> = parsed.iter().map(|(i, _)| i.sha256.clone()).collect();
            upsert(&mut tx, cluster_id, host, port, source, Some(&chain), None).await?;
        }
        Err(e) => {
            upsert(
                &mut tx,
                cluster_id,
                host,
                port,
                source,
                None,
                Some(&e.message),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn upsert(
    tx: &mut PgConnection,
    cluster_id: i64,
    host: &str,
    port: u16,
    source: &str,
    chain: Option<&[String]>,
    error: Option<&str>,
) -> Result<(), Error> {
    sqlx::query!(
        "insert into trust_server (cluster_id, host, port, source, added_by, chain, read_at, error)
         values ($1, $2, $3, $4, 'system:trust-matrix', coalesce($5::text[], '{}'), case when $5::text[] is null then null else now() end, $6)
         on conflict (cluster_id, host, port) do update set
             chain = coalesce($5, trust_server.chain),
             read_at = case when $5::text[] is null then trust_server.read_at else now() end,
             error = $6",
        cluster_id,
        host,
        i32::from(port),
        source,
        chain,
        error
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
