//! The matrix built from what the console keeps: the inventory (every node of it may be
//! needed; the rows are the cluster's), the access policy's proxies, the listed servers, the
//! stores as last read, the chains the nodes served at the last scan.

use super::servers::Listed;
use super::SUBJECT;
use crate::dates::rfc3339;
use crate::trust::matrix::{Cell, Column, Holder, Known, Matrix, PlanRef};
use crate::trust::verify::{judge, Cert, Trust, Wanted};
use crate::trust::{requirements, Extra, Member, Needed};
use crate::Error;
use certs::CertInfo;
use sqlx::PgPool;
use std::collections::HashMap;

/// What the judging used, kept for the plan.
pub(super) struct Built {
    pub matrix: Matrix,
    /// Certificates a cell may import that are not in the certificate table (a proxy's).
    pub ders: HashMap<String, Vec<u8>>,
    /// Each holder's publisher (a subscriber's primary of the same kind and cluster).
    pub publisher: HashMap<i64, i64>,
    /// The CA certificates among those needed (what replicates from a publisher).
    pub ca_fingerprints: std::collections::HashSet<String>,
}

fn cert(info: &CertInfo) -> Cert {
    Cert {
        fingerprint_sha256: info.sha256.clone(),
        subject_cn: info.subject_cn.clone(),
        issuer_cn: info.issuer_cn.clone(),
        not_after: info.not_after,
        self_signed: info.self_signed,
        ca: info.is_ca,
    }
}

fn info_of(value: serde_json::Value) -> Result<CertInfo, Error> {
    serde_json::from_value(value).map_err(Error::internal)
}

/// `leaf` and the chain above it: `served` (what came with it, issuing CA first), then
/// completed from `pool` (CAs the console knows) by issuer name and key id, up to a
/// self-signed root or as far as known.
fn wanted(leaf: &CertInfo, served: &[CertInfo], pool: &[CertInfo]) -> Wanted {
    let mut chain: Vec<&CertInfo> = served.iter().filter(|c| c.sha256 != leaf.sha256).collect();
    let mut top = chain.last().copied().unwrap_or(leaf);
    while !top.self_signed && chain.len() < 8 {
        // Of the CAs that may have issued it, the one valid longest (a CA renewed with the
        // same key and name is found twice).
        let issuer = pool
            .iter()
            .filter(|c| {
                c.subject_cn.is_some()
                    && c.subject_cn == top.issuer_cn
                    && (top.authority_key_id.is_none() || c.subject_key_id == top.authority_key_id)
                    && !chain.iter().any(|h| h.sha256 == c.sha256)
            })
            .max_by_key(|c| c.not_after);
        let Some(issuer) = issuer else { break };
        chain.push(issuer);
        top = issuer;
    }
    Wanted {
        leaf: cert(leaf),
        chain: chain.into_iter().map(cert).collect(),
    }
}

fn known(info: &CertInfo, wanted: &Wanted) -> Known {
    Known {
        subject_cn: info.subject_cn.clone(),
        fingerprint_sha256: info.sha256.clone(),
        not_after: time::OffsetDateTime::from_unix_timestamp(info.not_after)
            .map(rfc3339)
            .unwrap_or_default(),
        self_signed: info.self_signed,
        issuers: wanted
            .chain
            .iter()
            .map(|c| c.subject_cn.clone().unwrap_or_else(|| "(no CN)".into()))
            .collect(),
    }
}

pub(super) async fn build(pool: &PgPool, cluster_id: i64) -> Result<Built, Error> {
    let mut db = pool.acquire().await?;
    let cluster = sqlx::query_scalar!("select name from cluster where id = $1", cluster_id)
        .fetch_optional(&mut *db)
        .await?
        .ok_or(crate::inventory::Refused::NoSuchCluster(cluster_id))?;
    let nodes = sqlx::query!(
        r#"select n.id, n.cluster_id, n.kind, n.role, n.fqdn, r.read_at as "read_at?", r.error as "read_error?"
           from node n left join store_read r on r.node_id = n.id order by n.fqdn, n.id"#
    )
    .fetch_all(&mut *db)
    .await?;
    let members: Vec<Member> = nodes
        .iter()
        .filter_map(|n| Member::of(n.id, n.cluster_id, &n.kind, &n.role, &n.fqdn))
        .collect();
    let ours = |id: i64| {
        nodes
            .iter()
            .any(|n| n.id == id && n.cluster_id == cluster_id)
    };

    // What the inventory alone does not say.
    let policy = crate::access_policy::store::current(&mut db, cluster_id, false).await?;
    let proxies: Vec<(String, Option<Vec<u8>>)> = policy
        .filter(|p| p.document.client_auth)
        .map(|p| {
            p.document
                .proxies
                .iter()
                .map(|x| (x.name.clone(), x.client_certificate_der()))
                .collect()
        })
        .unwrap_or_default();
    let listed = Listed::load(&mut db, cluster_id).await?;
    let extra = Extra {
        proxies_with_client_auth: proxies.iter().map(|(name, _)| name.clone()).collect(),
        map_hosts: listed.map_hosts.clone(),
        third_party: listed.third_party.clone(),
    };
    let required: Vec<_> = requirements(&members, &extra)
        .into_iter()
        .filter(|r| ours(r.holder))
        .collect();

    // The holders' tomcat-trust, every node's own tomcat certificate, and the CAs the console
    // knows (those in any node's trust store, the clusters' CAs).
    let entries = sqlx::query!(
        r#"select s.node_id, s.store, c.info
           from store_entry s join certificate c on c.sha256 = s.sha256
           join node n on n.id = s.node_id
           where (s.store = 'trust' and s.unit = 'tomcat-trust' and n.cluster_id = $1)
              or (s.store = 'own' and s.unit = 'tomcat')
           order by s.node_id, s.file"#,
        cluster_id
    )
    .fetch_all(&mut *db)
    .await?;
    let mut trust: HashMap<i64, Vec<Cert>> = HashMap::new();
    let mut own: HashMap<i64, CertInfo> = HashMap::new();
    for e in entries {
        let info = info_of(e.info)?;
        if e.store == "own" {
            own.insert(e.node_id, info);
        } else {
            trust.entry(e.node_id).or_default().push(cert(&info));
        }
    }
    let mut cas: Vec<CertInfo> = Vec::new();
    for value in sqlx::query_scalar!(
        r#"select distinct on (c.sha256) c.info
           from certificate c
           where (c.info->>'is_ca')::boolean
             and (exists (select 1 from store_entry s where s.sha256 = c.sha256 and s.store = 'trust')
                  or exists (select 1 from cluster_ca a where a.sha256 = c.sha256))"#
    )
    .fetch_all(&mut *db)
    .await?
    {
        cas.push(info_of(value)?);
    }
    // The DER of what may be imported and is not in the certificate table (a cluster's CA, a
    // proxy's certificate).
    let mut ders: HashMap<String, Vec<u8>> = HashMap::new();
    for der in sqlx::query_scalar!("select der from cluster_ca")
        .fetch_all(&mut *db)
        .await?
    {
        if let Ok(info) = certs::analyze::parse(&der) {
            if !cas.iter().any(|c| c.sha256 == info.sha256) {
                ders.insert(info.sha256.clone(), der.clone());
                cas.push(info);
            }
        }
    }
    let served = crate::certificates::store::fleet(pool, None).await?;
    // Each column's certificate and where it was learnt.
    let mut columns: Vec<(Column, Option<Wanted>)> = Vec::new();
    let mut ca_fingerprints = std::collections::HashSet::new();
    let mut needed: Vec<&Needed> = required.iter().map(|r| &r.needed).collect();
    needed.sort();
    needed.dedup();
    for need in needed {
        let (found, from): (Option<(CertInfo, Vec<CertInfo>)>, String) = match need {
            Needed::Node { id, fqdn } => {
                // Its web server's port first (CUCM's 5061 serves another certificate).
                let endpoint = served
                    .iter()
                    .filter(|e| e.node_id == *id && !e.chain.is_empty())
                    .min_by_key(|e| !matches!(e.port, 443 | 8443 | 8445));
                let chain: Vec<CertInfo> = endpoint
                    .map(|e| e.chain.iter().map(|(_, c)| c.clone()).collect())
                    .unwrap_or_default();
                match (own.get(id), endpoint) {
                    (Some(leaf), _) => {
                        let above = if chain.first().is_some_and(|c| c.sha256 == leaf.sha256) {
                            chain[1..].to_vec()
                        } else {
                            Vec::new()
                        };
                        (
                            Some((leaf.clone(), above)),
                            format!("{fqdn}'s tomcat certificate, from its store as last read"),
                        )
                    }
                    (None, Some(e)) => (
                        chain.first().cloned().map(|leaf| (leaf, chain[1..].to_vec())),
                        format!("what {fqdn} served on port {} at the last scan", e.port),
                    ),
                    (None, None) => (
                        None,
                        format!("{fqdn} was never scanned and its stores never read: scan it or read its stores"),
                    ),
                }
            }
            Needed::Proxy { name } => match proxies.iter().find(|(n, _)| n == name) {
                Some((_, Some(der))) => match certs::analyze::parse(der) {
                    Ok(info) => {
                        ders.insert(info.sha256.clone(), der.clone());
                        (
                            Some((info, Vec::new())),
                            format!("the access policy's client certificate of {name}"),
                        )
                    }
                    Err(e) => (None, format!("{name}'s client certificate does not read: {}", e.0)),
                },
                _ => (
                    None,
                    format!("the access policy has no client certificate for {name}: add it there (client-auth is on)"),
                ),
            },
            Needed::MapHost { host } | Needed::ThirdParty { host } => {
                match listed.chains.get(host).and_then(|c| c.split_first()) {
                    Some((leaf, above)) => (
                        Some((leaf.clone(), above.to_vec())),
                        format!("what {host} served when the console last read it"),
                    ),
                    None => (
                        None,
                        format!("{host}'s certificate was never read: read the servers' certificates"),
                    ),
                }
            }
        };
        let label = need.label();
        let column = match found {
            Some((leaf, above)) => {
                let wanted = wanted(&leaf, &above, &cas);
                ca_fingerprints.extend(
                    std::iter::once(&wanted.leaf)
                        .chain(&wanted.chain)
                        .filter(|c| c.ca)
                        .map(|c| c.fingerprint_sha256.clone()),
                );
                let top_known =
                    wanted.leaf.self_signed || wanted.chain.last().is_some_and(|c| c.self_signed);
                let from = if top_known {
                    from
                } else {
                    format!(
                        "{from}; its root CA is not known to the console (add it to the cluster's CAs on the Certificates page)"
                    )
                };
                (
                    Column {
                        needed: need.clone(),
                        label,
                        certificate: Some(known(&leaf, &wanted)),
                        from,
                    },
                    Some(wanted),
                )
            }
            None => (
                Column {
                    needed: need.clone(),
                    label,
                    certificate: None,
                    from,
                },
                None,
            ),
        };
        columns.push(column);
    }

    // Rows: every node of the cluster; a subscriber's publisher is its kind's primary.
    let holders: Vec<Holder> = nodes
        .iter()
        .filter(|n| n.cluster_id == cluster_id)
        .map(|n| Holder {
            node_id: n.id,
            fqdn: n.fqdn.clone(),
            kind: n.kind.clone(),
            role: n.role.clone(),
            stores_read_at: n.read_at.map(rfc3339),
            stores_error: n.read_error.clone(),
        })
        .collect();
    let mut publisher = HashMap::new();
    for h in &holders {
        if matches!(h.role.as_str(), "secondary" | "side_b") {
            let primary = holders
                .iter()
                .find(|p| p.kind == h.kind && matches!(p.role.as_str(), "primary" | "side_a"));
            if let Some(p) = primary {
                publisher.insert(h.node_id, p.node_id);
            }
        }
    }
    let trust_of = |id: i64| -> Trust {
        let read = holders
            .iter()
            .any(|h| h.node_id == id && h.stores_read_at.is_some());
        read.then(|| trust.get(&id).cloned().unwrap_or_default())
    };
    let now = crate::dates::now();
    let mut cells = Vec::new();
    for r in &required {
        let Some(column) = columns.iter().position(|(c, _)| c.needed == r.needed) else {
            continue;
        };
        let publisher_trust = publisher.get(&r.holder).map(|p| trust_of(*p));
        let judged = judge(
            columns[column].1.as_ref(),
            &trust_of(r.holder),
            publisher_trust.as_ref(),
            now,
        );
        cells.push(Cell {
            holder: r.holder,
            column,
            rule: r.rule.clone(),
            source: r.source.clone(),
            verdict: judged.verdict,
            why: judged.why,
            import: judged.import,
        });
    }
    let plan = sqlx::query!(
        "select id, state from plan where subject = $1 and subject_id = $2 order by id desc limit 1",
        SUBJECT,
        cluster_id
    )
    .fetch_optional(&mut *db)
    .await?
    .map(|p| {
        Ok::<_, Error>(PlanRef {
            id: p.id,
            state: p
                .state
                .parse()
                .map_err(|e: String| Error::internal(anyhow::anyhow!(e)))?,
        })
    })
    .transpose()?;
    let red = cells.iter().filter(|c| !c.verdict.ok()).count();
    let fixable = cells.iter().filter(|c| !c.import.is_empty()).count();
    Ok(Built {
        matrix: Matrix {
            cluster_id,
            cluster,
            rows: holders,
            columns: columns.into_iter().map(|(c, _)| c).collect(),
            cells,
            servers: listed.servers,
            red,
            fixable,
            plan,
        },
        ders,
        publisher,
        ca_fingerprints,
    })
}
