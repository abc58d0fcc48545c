//! A cluster's private CAs: the anchors its endpoints' chains are judged against.

use super::*;

/// The trusted CAs of one cluster, or of all (`None`) (readers).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id = cluster_id))]
pub async fn list_cluster_cas(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: Option<i64>,
) -> Result<Vec<ClusterCa>, Error> {
    context.require_reader()?;
    cluster_cas(pool, cluster_id).await
}

async fn cluster_cas(pool: &PgPool, cluster_id: Option<i64>) -> Result<Vec<ClusterCa>, Error> {
    Ok(sqlx::query!(
        "select cluster_id, sha256, subject, not_after, added_by, added_at from cluster_ca
         where ($1::bigint is null or cluster_id = $1) order by cluster_id, subject",
        cluster_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| ClusterCa {
        cluster_id: r.cluster_id,
        fingerprint_sha256: r.sha256,
        subject: r.subject,
        not_after: rfc3339(r.not_after),
        added_by: r.added_by,
        added_at: rfc3339(r.added_at),
    })
    .collect())
}

/// Adds the CA certificates in `pem` to a cluster's trust (each must be a CA certificate that
/// has not expired); audited. Certificates already trusted are kept as they are.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id = cluster_id))]
pub async fn add_cluster_cas(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    pem: &str,
) -> Result<Vec<ClusterCa>, Error> {
    let principal = context.require_admin()?;
    let ders = certs::analyze::pem_certificates(pem).map_err(|m| Error::field("pem", m))?;
    let mut parsed = Vec::new();
    for (i, der) in ders.into_iter().enumerate() {
        let n = i + 1;
        let info = certs::analyze::parse(&der)
            .map_err(|e| Error::field("pem", format!("certificate {n}: {e}")))?;
        if !info.is_ca {
            return Err(Error::field(
                "pem",
                format!(
                    "certificate {n} ({}) is not a CA certificate (basicConstraints CA:FALSE or absent); upload the CA that issued the nodes' certificates",
                    info.subject
                ),
            ));
        }
        if info.not_after < now() {
            return Err(Error::field(
                "pem",
                format!(
                    "certificate {n} ({}) expired on {}",
                    info.subject,
                    unix_rfc3339(info.not_after)
                ),
            ));
        }
        parsed.push((der, info));
    }
    let mut tx = pool.begin().await?;
    let exists = sqlx::query_scalar!(
        "select id from cluster where id = $1 for update",
        cluster_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Err(crate::inventory::Refused::NoSuchCluster(cluster_id).into());
    }
    for (der, info) in &parsed {
        let not_after =
            OffsetDateTime::from_unix_timestamp(info.not_after).map_err(Error::internal)?;
        sqlx::query!(
            "insert into cluster_ca (cluster_id, sha256, der, subject, not_after, added_by) values ($1, $2, $3, $4, $5, $6)
             on conflict (cluster_id, sha256) do nothing",
            cluster_id,
            info.sha256,
            der,
            info.subject,
            not_after,
            principal.actor()
        )
        .execute(&mut *tx)
        .await?;
    }
    let added: Vec<_> = parsed
        .iter()
        .map(|(_, i)| json!({"sha256": i.sha256, "subject": i.subject}))
        .collect();
    record(
        &mut tx,
        context
            .event("cluster_ca.add", format!("cluster:{cluster_id}"))
            .after(json!({ "certificates": added })),
    )
    .await?;
    tx.commit().await?;
    let fingerprints: HashSet<String> = parsed.into_iter().map(|(_, i)| i.sha256).collect();
    Ok(cluster_cas(pool, Some(cluster_id))
        .await?
        .into_iter()
        .filter(|ca| fingerprints.contains(&ca.fingerprint_sha256))
        .collect())
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id = cluster_id, sha256 = %sha256))]
pub async fn remove_cluster_ca(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    sha256: &str,
) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let removed = sqlx::query_scalar!(
        "delete from cluster_ca where cluster_id = $1 and sha256 = $2 returning subject",
        cluster_id,
        sha256
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::from(crate::certificates::Refused::NoSuchCa))?;
    record(
        &mut tx,
        context
            .event("cluster_ca.remove", format!("cluster:{cluster_id}"))
            .before(json!({"sha256": sha256, "subject": removed})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The DER of every trusted CA, by cluster (for the scanner).
pub async fn cluster_anchors(pool: &PgPool) -> Result<HashMap<i64, Vec<Vec<u8>>>, Error> {
    let mut anchors: HashMap<i64, Vec<Vec<u8>>> = HashMap::new();
    for row in sqlx::query!("select cluster_id, der from cluster_ca")
        .fetch_all(pool)
        .await?
    {
        anchors.entry(row.cluster_id).or_default().push(row.der);
    }
    Ok(anchors)
}
