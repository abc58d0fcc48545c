//! A CA-signed certificate for a node: checked against the node's last CSR, the product's
//! rules and its chain before anything touches the node, then uploaded in the documented order
//! as one plan of the reconciliation engine (seed 002): the root, then the intermediates into
//! tomcat-trust (on the publisher, which replicates them, when the node is a subscriber), then
//! the certificate into tomcat (`set cert import own tomcat`); the restarts it needs are tracked
//! like every plan's.

use crate::appliances::store::csr_pem;
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::certificates::chain::Role;
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{certificate_label, trusted_of_pem, Drive, Reply};
use crate::reconcile::store::PlanNode;
use crate::reconcile::subject::Subject;
use crate::reconcile::{About, Change, Item, Op, Refused, State, States, Trusted};
use crate::trust::csr::{web_restarts, SignedCertificate};
use crate::trust::upload::{check_upload, issuers_of, Target, UploadFindings};
use crate::{Error, Services};
use vos::driver::{Console, Driver, Store};

/// Upload plans (`plan.subject_id`: the node's id).
pub const SUBJECT: &str = "certificate_upload";

/// The node's own tomcat certificate: the one it serves.
pub struct OwnTomcat;

/// The item's key in desired states.
const OWN: &str = "tomcat";
const TRUST: &str = "tomcat-trust";

impl Item for OwnTomcat {
    fn key(&self) -> &'static str {
        OWN
    }
    fn label(&self) -> &'static str {
        "tomcat (the node's own certificate)"
    }
    fn supports(&self, _kind: NodeKind) -> Result<(), String> {
        Ok(())
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        match op {
            Op::Import { certificate } => {
                Change::import_own("tomcat", &certificate.der, &certificate.label)
            }
            _ => Err(crate::reconcile::refused(
                self,
                "the node's own certificate is only ever imported",
            )),
        }
    }
    fn restarts(&self, kind: NodeKind) -> &'static [&'static str] {
        web_restarts(kind)
    }
}

impl Drive for OwnTomcat {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let mut certificates = Vec::new();
            for entry in driver.cert_list(Store::Own).await? {
                if entry.unit == OWN {
                    let pem = driver.cert_pem(Store::Own, &entry).await?;
                    certificates.extend(trusted_of_pem(&pem).into_iter().take(1));
                }
            }
            Ok(State::Certificates(certificates))
        })
    }
}

static ITEMS: [&dyn Drive; 2] = [&crate::appliances::store::trust::STORES[0], &OwnTomcat];

/// A node's signed certificate as a subject of the engine: one plan per upload, no versions,
/// not watched for drift.
pub struct CertificateUpload;

impl Subject for CertificateUpload {
    fn name(&self) -> &'static str {
        SUBJECT
    }

    fn items(&self) -> &'static [&'static dyn Drive] {
        &ITEMS
    }

    /// The generation of the node's CSR: an upload planned from an older request (a CSR made
    /// again, the certificate regenerated since) is refused when confirmed.
    fn latest_version<'a>(
        &'a self,
        connection: &'a mut sqlx::PgConnection,
        id: i64,
    ) -> futures::future::BoxFuture<'a, Result<i32, Error>> {
        Box::pin(crate::appliances::store::csr_generation(connection, id))
    }

    fn about(&self, id: i64, _cluster: Option<i64>) -> About {
        About {
            of: "a signed certificate".into(),
            href: format!("/nodes/{id}"),
            link: "The node".into(),
        }
    }
}

/// Checks a signed certificate (with its CA certificates) against the node's last CSR and the
/// product's rules; nothing is kept, nothing touches the node.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id))]
pub async fn check_certificate(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
    input: &SignedCertificate,
) -> Result<UploadFindings, Error> {
    Ok(checked(services, context, node_id, input).await?.0)
}

/// The findings, and the generation of the CSR they were checked against.
async fn checked(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
    input: &SignedCertificate,
) -> Result<(UploadFindings, i32), Error> {
    context.require_reader()?;
    let (csr, generation) = csr_pem(&services.pool, node_id).await?;
    let node = sqlx::query!(
        "select fqdn, kind, cluster_id from node where id = $1",
        node_id
    )
    .fetch_one(&services.pool)
    .await?;
    let uccx_nodes = sqlx::query_scalar!(
        "select fqdn from node where cluster_id = $1 and kind = 'uccx' order by role, fqdn",
        node.cluster_id
    )
    .fetch_all(&services.pool)
    .await?;
    let target = Target {
        kind: NodeKind::parse(&node.kind).unwrap_or(NodeKind::Other),
        fqdn: node.fqdn,
        uccx_nodes,
    };
    let findings = check_upload(
        &csr,
        input.certificate.as_bytes(),
        &target,
        crate::dates::now(),
    )
    .map_err(|e| Error::field("certificate", e))?;
    Ok((findings, generation))
}

/// Makes the upload's plan once every check passed (422 with the failed checks otherwise):
/// the CA certificates into tomcat-trust, the root first (on the node's publisher when it is a
/// subscriber: they replicate), then the certificate into tomcat. Returns the plan's id.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id))]
pub async fn plan_certificate(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
    input: &SignedCertificate,
) -> Result<i64, Error> {
    context.require_admin()?;
    let (findings, generation) = checked(services, context, node_id, input).await?;
    if !findings.ready {
        let failed: Vec<String> = findings
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.message.clone())
            .collect();
        return Err(Error::field(
            "certificate",
            format!("not uploaded, the node is untouched: {}", failed.join("; ")),
        ));
    }
    let trusted = |pem: &str| -> Result<Trusted, Error> {
        let der = certs::analyze::pem_certificates(pem)
            .map_err(|e| Error::field("certificate", e))?
            .remove(0);
        Ok(Trusted {
            label: certificate_label(&der),
            der,
        })
    };
    let pieces = &findings.chain.pieces;
    let leaf = pieces
        .iter()
        .find(|p| matches!(p.role, Role::Leaf | Role::SelfSigned))
        .ok_or_else(|| Error::field("certificate", "no certificate for the node"))?;
    // Only the CAs that issued it, root first: another CA in the bundle is never trusted.
    let cas = issuers_of(pieces, leaf.order)
        .into_iter()
        .map(|p| trusted(&p.pem))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = trusted(&leaf.pem)?;
    let node = sqlx::query!(
        "select fqdn, kind, role, cluster_id from node where id = $1",
        node_id
    )
    .fetch_one(&services.pool)
    .await?;
    let publisher = match node.role.as_str() {
        "secondary" | "side_b" => sqlx::query_scalar!(
            "select id from node where cluster_id = $1 and kind = $2 and role in ('primary', 'side_a') limit 1",
            node.cluster_id,
            node.kind
        )
        .fetch_optional(&services.pool)
        .await?,
        _ => None,
    };
    let mut own = States::new();
    own.insert(OWN.into(), State::Certificates(vec![leaf.clone()]));
    let mut nodes = Vec::new();
    match publisher {
        Some(publisher) if !cas.is_empty() => {
            let mut trust = States::new();
            trust.insert(TRUST.into(), State::Certificates(cas.clone()));
            nodes.push(PlanNode {
                node_id: publisher,
                desired: trust,
            });
        }
        _ if !cas.is_empty() => {
            own.insert(TRUST.into(), State::Certificates(cas.clone()));
        }
        _ => {}
    }
    nodes.push(PlanNode {
        node_id,
        desired: own,
    });
    let mut tx = services.pool.begin().await?;
    let id = crate::reconcile::store::create(
        &mut tx,
        context,
        &CertificateUpload,
        node_id,
        generation,
        &nodes,
    )
    .await?;
    record(
        &mut tx,
        context
            .event("plan.create", format!("node:{}", node.fqdn))
            .detail(format!(
                "plan {id}: upload of {} with the CA certificates [{}]{}",
                leaf.label,
                cas.iter()
                    .map(|c| c.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if publisher.is_some() && !cas.is_empty() {
                    " (the CAs on the publisher)"
                } else {
                    ""
                }
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
