//! Connected users per Finesse node: read over the REST API when it answers the stored account,
//! else over the CLI; sampled in the background, kept 30 days for the fleet's history.

use super::*;

/// How old a sample may be before the page asks the node again.
const SAMPLE_AGE: Duration = Duration::from_secs(10);
/// How long a page waits for a node's answer.
const SAMPLE_WAIT: Duration = Duration::from_secs(4);

/// Connected users per Finesse node (only `node` when given, without the fleet's history);
/// with `refresh`, nodes with credentials whose last sample is older than [`SAMPLE_AGE`] are
/// asked now (all at once, within the fleet's SSH bound).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node = ?node))]
pub async fn connected_agents(
    state: &Services,
    context: &RequestContext,
    refresh: bool,
    node: Option<i64>,
) -> Result<ConnectedAgents, Error> {
    context.require_reader()?;
    let nodes = sqlx::query!(
        r#"select n.id, n.fqdn, c.id as cluster_id, c.name as cluster,
                  (select max(read_at) from connected_sample s where s.node_id = n.id) as last_read,
                  exists (select 1 from node_credential k where k.node_id = n.id) as "has_credentials!"
           from node n join cluster c on c.id = n.cluster_id
           where n.kind = 'finesse' and ($1::bigint is null or n.id = $1)
           order by lower(c.name), n.fqdn"#,
        node
    )
    .fetch_all(&state.pool)
    .await?;
    let mut errors: HashMap<i64, String> = HashMap::new();
    if refresh {
        let due: Vec<i64> = nodes
            .iter()
            .filter(|n| n.has_credentials)
            .filter(|n| {
                n.last_read.is_none_or(|t| {
                    (OffsetDateTime::now_utc() - t).whole_seconds() >= SAMPLE_AGE.as_secs() as i64
                })
            })
            .map(|n| n.id)
            .collect();
        // A slow node shows its last sample, or none yet, until a later refresh.
        errors = sample_nodes(state, due, SAMPLE_WAIT).await;
    }
    let latest = sqlx::query!(
        "select distinct on (node_id) node_id, read_at, desktop, fippa, third_party, total, lan, proxy, source
         from connected_sample where $1::bigint is null or node_id = $1 order by node_id, read_at desc",
        node
    )
    .fetch_all(&state.pool)
    .await?;
    let latest: HashMap<i64, (OffsetDateTime, Counts, String)> = latest
        .into_iter()
        .map(|r| {
            let n = |v: i32| u32::try_from(v).unwrap_or_default();
            (
                r.node_id,
                (
                    r.read_at,
                    Counts {
                        desktop: n(r.desktop),
                        fippa: n(r.fippa),
                        third_party: n(r.third_party),
                        total: n(r.total),
                        lan: n(r.lan),
                        proxy: n(r.proxy),
                    },
                    r.source,
                ),
            )
        })
        .collect();
    let mut totals = Counts::default();
    let mut clusters: Vec<ClusterAgents> = Vec::new();
    let mut newest: Option<OffsetDateTime> = None;
    let mut out = Vec::new();
    for n in nodes {
        let sample = latest.get(&n.id);
        if let Some((at, counts, _)) = sample {
            totals.add(counts);
            newest = newest.max(Some(*at));
            match clusters.iter_mut().find(|c| c.cluster_id == n.cluster_id) {
                Some(cluster) => cluster.counts.add(counts),
                None => clusters.push(ClusterAgents {
                    cluster_id: n.cluster_id,
                    cluster: n.cluster.clone(),
                    counts: *counts,
                }),
            }
        }
        out.push(NodeAgents {
            node_id: n.id,
            fqdn: n.fqdn,
            cluster_id: n.cluster_id,
            cluster: n.cluster,
            counts: sample.map(|(_, c, _)| *c),
            read_at: sample.map(|(at, _, _)| rfc3339(*at)),
            source: sample.map(|(_, _, source)| source.clone()),
            error: errors
                .remove(&n.id)
                .or_else(|| (!n.has_credentials).then(|| "no credentials stored".to_owned())),
        });
    }
    Ok(ConnectedAgents {
        nodes: out,
        clusters,
        totals,
        read_at: newest.map(rfc3339),
        history: match node {
            None => history(&state.pool).await?,
            Some(_) => Vec::new(),
        },
        proxied: match node {
            None => crate::proxies::store::proxied_agents(&state.pool).await?,
            Some(_) => Vec::new(),
        },
    })
}

/// Reads the connected users of `ids` now, each in a task of its own that keeps its sample
/// whenever it ends (one read per node at a time: a node already being read, by the sampler
/// or another page, is waited for rather than read twice), waiting at most `wait`. Returns,
/// per node, why its read failed or has not ended yet.
async fn sample_nodes(state: &Services, ids: Vec<i64>, wait: Duration) -> HashMap<i64, String> {
    let deadline = tokio::time::Instant::now() + wait;
    let (ours, theirs): (Vec<i64>, Vec<i64>) = ids
        .into_iter()
        .partition(|id| state.appliances.begin_sample(*id));
    let reads: Vec<_> = ours
        .into_iter()
        .map(|id| {
            let state = state.clone();
            let read = tokio::spawn(async move {
                let result = sample(&state, id).await;
                state.appliances.end_sample(id);
                result
            });
            (id, read)
        })
        .collect();
    let mut errors = HashMap::new();
    for (id, read) in reads {
        let message = match tokio::time::timeout_at(deadline, read).await {
            Ok(Ok(Ok(()))) => continue,
            Ok(Ok(Err(message))) => message,
            Ok(Err(failed)) => format!("the read failed: {failed}"),
            Err(_) => format!("no answer within {} s yet", wait.as_secs()),
        };
        errors.insert(id, message);
    }
    for id in theirs {
        while state.appliances.is_sampling(id) {
            if tokio::time::Instant::now() >= deadline {
                errors.insert(id, format!("no answer within {} s yet", wait.as_secs()));
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    errors
}

/// How long samples are kept.
const SAMPLE_RETENTION_DAYS: i32 = 30;

/// One sampling round for the background sampler: every Finesse node with credentials (and no
/// unaccepted host key) is read. Returns the failures (node FQDN, why).
pub async fn sample_fleet(
    state: &Services,
    wait: Duration,
) -> Result<Vec<(String, String)>, Error> {
    let nodes = sqlx::query!(
        "select n.id, n.fqdn from node n join node_credential c on c.node_id = n.id
         left join node_host_key k on k.node_id = n.id
         where n.kind = 'finesse' and k.presented_fingerprint is null order by n.id"
    )
    .fetch_all(&state.pool)
    .await?;
    let mut names: HashMap<i64, String> = nodes.into_iter().map(|n| (n.id, n.fqdn)).collect();
    let errors = sample_nodes(state, names.keys().copied().collect(), wait).await;
    Ok(errors
        .into_iter()
        .map(|(id, why)| (names.remove(&id).unwrap_or_default(), why))
        .collect())
}

/// Deletes samples older than the retention; returns how many.
pub async fn prune_samples(pool: &PgPool) -> Result<u64, Error> {
    let deleted = sqlx::query!(
        "delete from connected_sample where read_at < now() - make_interval(days => $1)",
        SAMPLE_RETENTION_DAYS
    )
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

/// The fleet total over the last 24 hours: each node's samples carried forward, summed per
/// minute in which any node was sampled (at most 300 points).
async fn history(pool: &PgPool) -> Result<Vec<HistoryPoint>, Error> {
    let rows = sqlx::query!(
        r#"with minutes as (
               select distinct date_trunc('minute', read_at) as at from connected_sample
               where read_at > now() - interval '24 hours'
           )
           select extract(epoch from m.at)::bigint as "at!",
                  coalesce(sum(s.total), 0)::bigint as "total!", coalesce(sum(s.proxy), 0)::bigint as "proxy!"
           from minutes m
           left join lateral (
               select distinct on (node_id) node_id, total, proxy from connected_sample
               where read_at < m.at + interval '1 minute' order by node_id, read_at desc
           ) s on true
           group by m.at order by m.at"#
    )
    .fetch_all(pool)
    .await?;
    let step = rows.len().div_ceil(300).max(1);
    Ok(rows
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == rows.len())
        .map(|(_, r)| HistoryPoint {
            at: r.at,
            total: u32::try_from(r.total).unwrap_or(u32::MAX),
            proxy: u32::try_from(r.proxy).unwrap_or(u32::MAX),
        })
        .collect())
}

/// How long the REST API may take to answer.
const REST_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads one Finesse node's connected users and keeps the sample: from the ConnectedUsersInfo
/// REST API when it answers the stored account (one HTTPS request to the certificate last
/// scanned there; no SSH login in the appliance's logs every minute), else from the CLI
/// (`utils finesse show_connected_users summary`).
async fn sample(state: &Services, node_id: i64) -> Result<(), String> {
    let node = node_row(&state.pool, node_id)
        .await
        .map_err(|e| e.to_string())?;
    let (users, source) = match rest_sample(state, node_id, &node).await {
        Ok(users) => (users, "rest"),
        Err(rest) => {
            let context = RequestContext {
                principal: None,
                source: "sampler".into(),
            };
            let result = with_driver(
                state,
                &context,
                node_id,
                &node,
                Purpose::Read,
                |driver| async move { driver.connected_users().await },
            )
            .await
            .map_err(|e| e.to_string())?;
            let users = result.map_err(|cli| format!("{cli} (REST API: {rest})"))?;
            (users, "cli")
        }
    };
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    sqlx::query!(
        "insert into connected_sample (node_id, desktop, fippa, third_party, total, lan, proxy, source)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
        node_id,
        n(users.desktop),
        n(users.fippa),
        n(users.third_party),
        n(users.total),
        n(users.lan),
        n(users.proxy),
        source
    )
    .execute(&state.pool)
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The node's REST endpoint (8445, else its first endpoint), pinned to the node's own tomcat
/// certificate as its last store read found it. That read went through the SSH session whose
/// host key is pinned, so the certificate is the node's own, whatever a probe of its address
/// saw: Basic credentials never go to a listener that merely took the node's address.
/// `Err`: why the REST API was not asked or did not answer.
async fn rest_sample(
    state: &Services,
    node_id: i64,
    node: &NodeRow,
) -> Result<vos::ConnectedUsers, String> {
    let Some((username, nonce, sealed, _)) = &node.credentials else {
        return Err("no credentials stored".into());
    };
    if let Some(changed) = node.identity_changed() {
        return Err(changed.to_string());
    }
    if node.pin.is_none() || node.presented.is_some() {
        return Err("the node's host key is not pinned, or changed".into());
    }
    let endpoint = sqlx::query!(
        r#"select e.port,
                  (select s.sha256 from store_entry s
                   where s.node_id = e.node_id and s.store = 'own' and s.unit = 'tomcat' and s.sha256 is not null
                   limit 1) as pin
           from endpoint e where e.node_id = $1 order by (e.port = 8445) desc, e.id limit 1"#,
        node_id
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(|e| e.to_string())?
    .ok_or("the node has no HTTPS endpoint")?;
    let pin = endpoint
        .pin
        .ok_or("its own tomcat certificate has not been read over SSH yet")?;
    let password = state
        .appliances
        .sealer
        .open(node_id, nonce, sealed)
        .ok_or("the stored password does not open with this server's secret key")?;
    // Reached at the node's address: an IP connects under the FQDN's name, a name is used as is.
    let (name, address) = match node.host.parse() {
        Ok(ip) => (node.fqdn.clone(), Some(ip)),
        Err(_) => (node.host.clone(), None),
    };
    let endpoint = vos::rest::Endpoint {
        name,
        address,
        port: u16::try_from(endpoint.port).map_err(|e| e.to_string())?,
        pin_sha256: pin,
    };
    vos::rest::connected_users(&endpoint, username, &password, REST_TIMEOUT)
        .await
        .map_err(|e| e.to_string())
}

/// Reads the Finesse nodes' connected users.
pub struct Sample;

/// How long a sampling round waits for its slowest node.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Wait {
    #[serde(default = "a_minute")]
    pub wait_seconds: u64,
}

fn a_minute() -> u64 {
    60
}

impl crate::jobs::Kind for Sample {
    const NAME: &'static str = "sample";
    type Payload = Wait;

    async fn run(services: &Services, _: &crate::jobs::Job, wait: Wait) -> anyhow::Result<()> {
        let wait = Duration::from_secs(wait.wait_seconds.max(1));
        let failed = sample_fleet(services, wait)
            .await
            .map_err(anyhow::Error::from)
            .map_err(|e| e.context("sampling connected users"))?;
        for (node, why) in failed {
            tracing::debug!(node, why, "connected users not read");
        }
        Ok(())
    }
}

/// A sampling round every `interval` (zero: never); each waits for its slowest node up to the
/// interval (then it keeps reading).
pub fn sample_schedule(interval: Duration) -> crate::jobs::Schedule {
    let wait_seconds = interval.as_secs().max(1);
    crate::jobs::Schedule::of::<Sample>(interval, Wait { wait_seconds })
}
