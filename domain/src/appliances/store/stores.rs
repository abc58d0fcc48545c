//! The certificate stores read from a node (own and trust, every file parsed and judged), and
//! trust imports into them.

use super::*;

/// [`read_stores`], then the stores as now kept.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn read_and_show_stores(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Stores, Error> {
    read_stores(state, context, node_id).await?;
    stores(state, context, node_id).await
}

/// Reads both stores from the appliance and keeps them (the last good read stays when one
/// fails). The read is a job, run by whichever replica is free, at most one per node at a time:
/// asked again while it runs (here or on another replica), the same read is waited for.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn read_stores(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<(), Error> {
    context.require_admin()?;
    let node = node_row(&state.pool, node_id).await?;
    if node.dialect() == vos::ssh::Dialect::BroadWorks {
        return Err(crate::appliances::Refused::NotVos(node.fqdn).into());
    }
    let payload = context.on_behalf(OfNode { node_id });
    let job = <StoreRead as crate::jobs::Kind>::job(payload, context.actor())
        .once_at_a_time(format!("store_read:{node_id}"));
    let ended = crate::jobs::queue::enqueue_and_wait(&state.pool, &job, Duration::from_secs(300))
        .await
        .map_err(Error::internal)?;
    match ended {
        Some(ended) if ended.state == "done" => Ok(()),
        Some(ended) => Err(
            crate::appliances::Refused::StoreReadEnded(ended.error.unwrap_or_else(|| {
                format!(
                    "reading the certificate stores of {} ended {}",
                    node.fqdn, ended.state
                )
            }))
            .into(),
        ),
        None => Err(crate::appliances::Refused::StoreReadRunning(node.fqdn).into()),
    }
}

/// Queues a read of both stores of `node_id` for whoever asked, without waiting for it (a read
/// of the node already queued or running is that one).
pub async fn queue_store_read(
    pool: &sqlx::PgPool,
    context: &RequestContext,
    node_id: i64,
) -> Result<(), Error> {
    // A BroadWorks node has no VOS stores (its trust anchors are read by its CTI page).
    if node_row(pool, node_id).await?.dialect() == vos::ssh::Dialect::BroadWorks {
        return Ok(());
    }
    let payload = context.on_behalf(OfNode { node_id });
    let job = <StoreRead as crate::jobs::Kind>::job(payload, context.actor())
        .once_at_a_time(format!("store_read:{node_id}"));
    crate::jobs::enqueue(&mut *pool.acquire().await?, &job)
        .await
        .map_err(Error::internal)?;
    Ok(())
}

/// Reads both stores now, on this replica (the store-read job, for whoever asked).
pub(super) async fn read_stores_now(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<(), Error> {
    context.require_admin()?;
    let node = node_row(&state.pool, node_id).await?;
    let result = with_driver(
        state,
        context,
        node_id,
        &node,
        Purpose::Change,
        |driver| async move {
            let mut entries = Vec::new();
            for store in [Store::Own, Store::Trust] {
                for entry in driver.cert_list(store).await? {
                    let pem = driver.cert_pem(store, &entry).await;
                    entries.push((store, entry, pem));
                }
            }
            Ok(entries)
        },
    )
    .await?;
    let entries = match result {
        Ok(entries) => entries,
        Err(failure) => {
            let message = failure.to_string();
            sqlx::query!(
                "insert into store_read (node_id, read_at, error, attempted_at) values ($1, null, $2, now())
                 on conflict (node_id) do update set error = $2, attempted_at = now()",
                node_id,
                message
            )
            .execute(&state.pool)
            .await?;
            record_alone(
                &state.pool,
                context
                    .event("node.stores.read", format!("node:{}", node.fqdn))
                    .outcome(Outcome::Failure)
                    .detail(message.clone()),
            )
            .await?;
            return Err(crate::appliances::Refused::StoreReadFailed(message).into());
        }
    };
    // Parse each file; a file that cannot be read or parsed is kept with its reason.
    let mut parsed: Vec<(Store, vos::CertEntry, ParsedCert)> = Vec::new();
    for (store, entry, pem) in entries {
        let cert = pem.map_err(|e| e.to_string()).and_then(|pem| {
            let der = certs::analyze::pem_certificates(&pem)?
                .into_iter()
                .next()
                .ok_or_else(|| "no certificate in the output".to_owned())?;
            let info = certs::analyze::parse(&der).map_err(|e| e.0)?;
            Ok((info, der))
        });
        parsed.push((store, entry, cert));
    }
    let mut certificates: Vec<(&certs::CertInfo, &[u8])> = parsed
        .iter()
        .filter_map(|(_, _, c)| c.as_ref().ok().map(|(i, d)| (i, d.as_slice())))
        .collect();
    certificates.sort_by(|a, b| a.0.sha256.cmp(&b.0.sha256));
    certificates.dedup_by(|a, b| a.0.sha256 == b.0.sha256);
    let mut tx = state.pool.begin().await?;
    crate::certificates::store::insert_certificates(&mut tx, &certificates).await?;
    sqlx::query!("delete from store_entry where node_id = $1", node_id)
        .execute(&mut *tx)
        .await?;
    for (store, entry, cert) in &parsed {
        let (sha256, error) = match cert {
            Ok((info, _)) => (Some(info.sha256.clone()), None),
            Err(e) => (None, Some(e.clone())),
        };
        sqlx::query!(
            "insert into store_entry (node_id, store, unit, file, description, sha256, error) values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (node_id, store, unit, file) do nothing",
            node_id,
            store.word(),
            entry.unit,
            entry.file,
            entry.description,
            sha256,
            error
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "insert into store_read (node_id, read_at, error, attempted_at) values ($1, now(), null, now())
         on conflict (node_id) do update set read_at = now(), error = null, attempted_at = now()",
        node_id
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("node.stores.read", format!("node:{}", node.fqdn))
            .detail(format!(
                "show cert list own, show cert list trust and {} files",
                parsed.len()
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A store file parsed, or why it could not be.
type ParsedCert = Result<(certs::CertInfo, Vec<u8>), String>;

/// The stores as last read, each certificate judged with the node's thresholds; the store's
/// tomcat certificate compared with what the node's endpoints serve.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn stores(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Stores, Error> {
    context.require_reader()?;
    let node = node_row(&state.pool, node_id).await?;
    let read = sqlx::query!(
        "select read_at, error, attempted_at from store_read where node_id = $1",
        node_id
    )
    .fetch_optional(&state.pool)
    .await?;
    let rows = sqlx::query!(
        r#"select s.store, s.unit, s.file, s.description, s.error, c.sha256 as "sha256?", c.info as "info?"
           from store_entry s left join certificate c on c.sha256 = s.sha256
           where s.node_id = $1 order by s.store, s.unit, s.file"#,
        node_id
    )
    .fetch_all(&state.pool)
    .await?;
    let endpoints = crate::certificates::store::fleet(&state.pool, Some(node_id)).await?;
    let now = crate::dates::now();
    let thresholds = endpoints.first().map(|e| e.thresholds).unwrap_or_default();
    let mut stores = Stores {
        read_at: read.as_ref().and_then(|r| r.read_at).map(rfc3339),
        error: read.as_ref().and_then(|r| r.error.clone()),
        attempted_at: read.as_ref().map(|r| rfc3339(r.attempted_at)),
        own: Vec::new(),
        trust: Vec::new(),
        tomcat_mismatch: None,
    };
    for r in rows {
        let info: Option<certs::CertInfo> = r.info.and_then(|v| serde_json::from_value(v).ok());
        let own = r.store == "own";
        // Own certificates are the node's leaves (the tomcat one for its FQDN); trust
        // certificates are judged as the CAs they are meant to be.
        let leaf = own && r.unit == "tomcat";
        let (findings, state_word) = match &info {
            Some(info) => {
                let context = certs::lints::Context {
                    now,
                    fqdn: leaf.then_some(node.fqdn.as_str()),
                    node_kind: Some(&node.kind),
                    node_version: Some(&node.version),
                    chain_position: usize::from(!leaf),
                    public_endpoint: false,
                    publicly_trusted: false,
                    thresholds,
                };
                let mut findings = certs::lints::lint(info, &context);
                findings.sort_by_key(|f| f.severity);
                let state = certs::lints::AlertState::of(info, now, &thresholds);
                (findings, Some(state.as_str().to_owned()))
            }
            None => (Vec::new(), None),
        };
        let entry = StoreEntry {
            store: r.store.clone(),
            unit: r.unit,
            file: r.file,
            description: r.description,
            fingerprint_sha256: r.sha256,
            subject_cn: info.as_ref().and_then(|i| i.subject_cn.clone()),
            issuer_cn: info.as_ref().and_then(|i| i.issuer_cn.clone()),
            not_after: info
                .as_ref()
                .and_then(|i| OffsetDateTime::from_unix_timestamp(i.not_after).ok())
                .map(rfc3339),
            days_left: info
                .as_ref()
                .map(|i| (i.not_after - now).div_euclid(86_400)),
            state: state_word,
            findings,
            error: r.error,
        };
        if own {
            stores.own.push(entry);
        } else {
            stores.trust.push(entry);
        }
    }
    // The store's tomcat certificate against the leaf each endpoint served at its last probe.
    if let Some(tomcat) = stores
        .own
        .iter()
        .find(|e| e.unit == "tomcat")
        .and_then(|e| e.fingerprint_sha256.clone())
    {
        let differing: Vec<String> = endpoints
            .iter()
            .filter_map(|e| {
                let (_, leaf) = e.chain.first()?;
                (leaf.sha256 != tomcat).then(|| e.port.to_string())
            })
            .collect();
        if !differing.is_empty() {
            let service = if node.kind == "finesse" {
                "Cisco Finesse Tomcat"
            } else {
                "Cisco Tomcat"
            };
            stores.tomcat_mismatch = Some(format!(
                "The tomcat certificate in the store ({}…) is not the one port {} served at the last scan: a restart of {service} is pending (utils service restart {service}), or the store changed after the scan.",
                &tomcat[..16.min(tomcat.len())],
                differing.join(", ")
            ));
        }
    }
    Ok(stores)
}

/// Reads one node's certificate stores for whoever asked; at most one per node at a time
/// (queued with a key), never retried.
pub struct StoreRead;

/// The node a job is about.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct OfNode {
    pub node_id: i64,
}

impl crate::jobs::Kind for StoreRead {
    const NAME: &'static str = "store_read";
    type Payload = crate::auth::principal::OnBehalf<OfNode>;

    async fn run(
        services: &Services,
        _: &crate::jobs::Job,
        asked: crate::auth::principal::OnBehalf<OfNode>,
    ) -> anyhow::Result<()> {
        Ok(read_stores_now(services, &asked.context(), asked.fields.node_id).await?)
    }
}
