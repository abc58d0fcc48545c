//! A node's certificate signing request: generated on the node (`set csr gen tomcat`, the OU
//! question answered no, then `show csr own tomcat`), kept with who asked, shown and
//! downloaded; a signed certificate is checked against the last one kept. And the tomcat
//! certificate regenerated, self-signed again.

use super::*;
use crate::trust::csr::Csr;
use crate::trust::upload::read_csr;

/// The CSR's unit: the web server's certificate, the one agents' browsers and peers see.
const UNIT: &str = "tomcat";

/// Generates a new CSR on the node and keeps it (replacing the last one: a certificate signed
/// for an older request no longer matches the node's key request).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn generate_csr(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Csr, Error> {
    context.require_admin()?;
    let node = node_row(&state.pool, node_id).await?;
    let result = with_driver(
        state,
        context,
        node_id,
        &node,
        Purpose::Change,
        |driver| async move { driver.generate_csr(UNIT).await },
    )
    .await?;
    let pem = match result
        .map_err(|f| f.to_string())
        .and_then(|pem| read_csr(&pem).map(|_| pem))
    {
        Ok(pem) => pem,
        Err(message) => {
            record_alone(
                &state.pool,
                context
                    .event("node.csr.generate", format!("node:{}", node.fqdn))
                    .outcome(Outcome::Failure)
                    .detail(message.clone()),
            )
            .await?;
            return Err(crate::appliances::Refused::CsrFailed(message).into());
        }
    };
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "insert into node_csr (node_id, unit, pem, generated_by) values ($1, $2, $3, $4)
         on conflict (node_id, unit) do update
         set pem = $3, generated_by = $4, generated_at = now(), generation = node_csr.generation + 1",
        node_id,
        UNIT,
        pem,
        context.actor()
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("node.csr.generate", format!("node:{}", node.fqdn))
            .detail(format!("set csr gen {UNIT}, show csr own {UNIT}")),
    )
    .await?;
    tx.commit().await?;
    current_csr(state, context, node_id).await
}

/// The CSR kept from the node's last generation.
pub async fn current_csr(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Csr, Error> {
    match kept_csr(state, context, node_id).await? {
        Some(csr) => Ok(csr),
        None => {
            let node = node_row(&state.pool, node_id).await?;
            Err(crate::appliances::Refused::NoCsr(node.fqdn).into())
        }
    }
}

/// The CSR kept from the node's last generation, if there is one.
pub async fn kept_csr(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Option<Csr>, Error> {
    context.require_reader()?;
    let node = node_row(&state.pool, node_id).await?;
    let Some(row) = sqlx::query!(
        "select pem, generated_at, generated_by from node_csr where node_id = $1 and unit = $2",
        node_id,
        UNIT
    )
    .fetch_optional(&state.pool)
    .await?
    else {
        return Ok(None);
    };
    let info = read_csr(&row.pem).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let key = match (&info.key.bits, &info.key.curve) {
        (_, Some(curve)) => format!("{} {curve}", info.key.algorithm),
        (Some(bits), None) => format!("{} {bits}", info.key.algorithm),
        (None, None) => info.key.algorithm.clone(),
    };
    let mut notes = vec![
        "Send the PEM to your CA as it is; ask for a server certificate (TLS Web Server Authentication) for this CSR's names.".to_owned(),
        "Bring back the signed certificate with the CA's root and intermediates: the console checks them all before the node is touched.".to_owned(),
    ];
    notes.push(if info.has_san {
        format!(
            "The CSR asks for the SANs {}: the signed certificate must carry exactly these, or the node refuses it (\"CSR SAN and Certificate SAN does not match\", seed 000). A CSR generated with an empty Parent Domain asks for none, which avoids that mismatch.",
            info.san_dns.join(", ")
        )
    } else {
        "The CSR asks for no SAN (an empty Parent Domain): the CA's SANs are taken as they are.".to_owned()
    });
    Ok(Some(Csr {
        node_id,
        fqdn: node.fqdn,
        unit: UNIT.into(),
        pem: row.pem,
        subject: info.subject,
        has_san: info.has_san,
        san_dns: info.san_dns,
        san_ip: info.san_ip,
        key,
        generated_at: rfc3339(row.generated_at),
        generated_by: row.generated_by,
        notes,
    }))
}

/// The PEM of the node's kept CSR and its generation (each new CSR or regeneration counts one),
/// for checking a signed certificate against it.
pub async fn csr_pem(pool: &PgPool, node_id: i64) -> Result<(String, i32), Error> {
    let node = node_row(pool, node_id).await?;
    let row = sqlx::query!(
        "select pem, generation from node_csr where node_id = $1 and unit = $2",
        node_id,
        UNIT
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::appliances::Refused::NoCsr(node.fqdn))?;
    Ok((row.pem, row.generation))
}

/// The generation of the node's CSR (0: none yet): an upload planned from an older one is stale.
pub async fn csr_generation(db: &mut sqlx::PgConnection, node_id: i64) -> Result<i32, Error> {
    Ok(sqlx::query_scalar!(
        "select generation from node_csr where node_id = $1 and unit = $2",
        node_id,
        UNIT
    )
    .fetch_optional(db)
    .await?
    .unwrap_or(0))
}

/// `set cert regen tomcat`, answering yes: a new self-signed certificate with the node's key,
/// replacing whatever it had, a CA-signed one included (VOS warns: "This operation will
/// overwrite any CA signed certificate previously imported"). The web service's restart is
/// recorded as pending and the stores are read again.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn regenerate_tomcat(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Operation, Error> {
    context.require_admin()?;
    let node = node_row(&state.pool, node_id).await?;
    let result = with_driver(
        state,
        context,
        node_id,
        &node,
        Purpose::Change,
        |driver| async move { driver.regenerate(UNIT).await },
    )
    .await?;
    let command = format!("set cert regen {UNIT}");
    let kind = crate::inventory::model::NodeKind::parse(&node.kind)
        .unwrap_or(crate::inventory::model::NodeKind::Other);
    let services = crate::trust::csr::web_restarts(kind);
    let operation = match result {
        Ok(changed) => Operation {
            ok: true,
            command,
            message: format!(
                "Regenerated the tomcat certificate of {}: self-signed, served once {} restarts.",
                node.fqdn,
                services.join(" and ")
            ),
            output: changed.output,
            restart: services.iter().map(|s| (*s).to_owned()).collect(),
            plan_id: None,
        },
        Err(failure) => Operation {
            ok: false,
            command,
            message: failure.to_string(),
            output: String::new(),
            restart: Vec::new(),
            plan_id: None,
        },
    };
    let mut tx = state.pool.begin().await?;
    if operation.ok {
        // An upload planned for the certificate it replaced is stale now.
        sqlx::query!(
            "update node_csr set generation = generation + 1 where node_id = $1",
            node_id
        )
        .execute(&mut *tx)
        .await?;
    }
    for service in &operation.restart {
        sqlx::query!(
            "insert into restart_pending (node_id, service) values ($1, $2) on conflict do nothing",
            node_id,
            service
        )
        .execute(&mut *tx)
        .await?;
    }
    record(
        &mut tx,
        context
            .event("node.certificate.regenerate", format!("node:{}", node.fqdn))
            .outcome(Outcome::of(operation.ok))
            .detail(format!("{}: {}", operation.command, operation.message)),
    )
    .await?;
    tx.commit().await?;
    if operation.ok {
        queue_store_read(&state.pool, context, node_id).await?;
    }
    Ok(operation)
}
