//! A BroadWorks node's CTI interface, looked at now: its settings over SSH (`CtiSettings`)
//! judged against seed 003's checklist, its port probed as the Webex cloud would knock (TLS
//! 1.2 only); and what the plan (`super::plan`) takes from here: the trust anchors from the
//! Webex CA chain the admin gives, split by the chain tool, each under an alias derived from
//! its fingerprint.

use super::{checklist, probe_findings, CtiProbe, CtiRead, CtiView, Negotiated, CTI_PORT};
use crate::appliances::drivers::{NodeFailure, Purpose};
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::reconcile::Trusted;
use crate::scans::offer::{offer, Answer};
use crate::scans::probe::Target;
use crate::{Error, Services};
use certs::hello;
use std::time::Duration;
use vos::driver::{CtiSettings, DriverError};

/// Plans of a node's CTI checklist (`plan.subject_id`: the node's id).
pub const SUBJECT: &str = "cti";

/// How long one hello to the CTI port may take.
const WAIT: Duration = Duration::from_secs(5);

/// Why a CTI request is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(
        "{0} is not a BroadWorks XSP|ADP or AS node: the CTI checklist is BroadWorks' (seed 003)"
    )]
    NotBroadWorks(String),
    #[error("the CTI settings could not be read, so nothing can be planned: {0}")]
    Unread(String),
    #[error("nothing to plan: every step of the checklist is done")]
    NothingToDo,
    #[error("the node has no CTI interface, and its address ({0}) is no IP address to add one on: set the node's address to the interface's IP")]
    NoInterfaceAddress(String),
}

impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        crate::Failure::Conflict
    }
}
crate::refusal!(Refused);

/// The node as the checklist needs it.
pub(super) struct Node {
    pub(super) fqdn: String,
    pub(super) address: String,
    cluster_id: i64,
    cluster: String,
    port: u16,
}

pub(super) async fn node(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Node, Error> {
    let row = sqlx::query!(
        "select n.fqdn, n.kind, n.address, n.cluster_id, c.name as cluster
         from node n join cluster c on c.id = n.cluster_id where n.id = $1",
        node_id
    )
    .fetch_optional(&services.pool)
    .await?
    .ok_or(crate::inventory::Refused::NoSuchNode(node_id))?;
    if NodeKind::parse(&row.kind).ok() != Some(NodeKind::BroadWorks) {
        return Err(Refused::NotBroadWorks(row.fqdn).into());
    }
    let ports = crate::inventory::store::ports::ports(services, context, node_id).await?;
    Ok(Node {
        address: row.address.unwrap_or_else(|| row.fqdn.clone()),
        fqdn: row.fqdn,
        cluster_id: row.cluster_id,
        cluster: row.cluster,
        port: ports.get("cti").copied().unwrap_or(CTI_PORT),
    })
}

/// An Application Server answers in `System/ClientIdentity`, which an XSP|ADP has not.
pub async fn read_settings<D: CtiSettings + ?Sized>(driver: &D) -> Result<CtiRead, DriverError> {
    match driver.client_identities().await {
        Ok(identities) => {
            return Ok(CtiRead {
                client_identities: Some(identities),
                ..CtiRead::default()
            })
        }
        Err(DriverError::Output(vos::Error::Rejected { .. })) => {}
        Err(other) => return Err(other),
    }
    Ok(CtiRead {
        interfaces: driver.cti_interfaces().await?,
        protocols: driver.cti_values(false).await?,
        ciphers: driver.cti_values(true).await?,
        trusts: driver.cti_trusts().await?,
        allow_client_app: Some(driver.allow_client_app().await?),
        client_identities: None,
    })
}

/// The node's CTI settings read over SSH now (a read: nothing pinned, nothing audited), or why
/// not, in words.
pub(super) async fn read(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<Result<CtiRead, String>, Error> {
    let read = crate::appliances::store::with_node(
        services,
        context,
        node_id,
        Purpose::Read,
        |driver| async move { read_settings(&*driver).await },
    )
    .await?;
    Ok(read.map_err(|failure: NodeFailure| failure.to_string()))
}

/// The node's CTI interface now: read, judged and probed. A read (no host key is pinned, no
/// audit entry written).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id))]
pub async fn view(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<CtiView, Error> {
    context.require_reader()?;
    let node = node(services, context, node_id).await?;
    let (read, probed) = tokio::join!(read(services, context, node_id), probe(&node));
    let read = read?;
    let server = match &read {
        Ok(r) if r.client_identities.is_some() => "AS",
        Ok(_) => "XSP|ADP",
        Err(_) => "unknown",
    };
    let (probe, probe_error) = match (server, probed) {
        ("AS", _) => (None, None),
        (_, Ok(probe)) => (Some(probe), None),
        (_, Err(why)) => (None, Some(why)),
    };
    Ok(CtiView {
        node_id,
        fqdn: node.fqdn,
        cluster_id: node.cluster_id,
        cluster: node.cluster,
        server: server.into(),
        address: node.address,
        port: node.port,
        checklist: read.as_ref().map(checklist).unwrap_or_default(),
        findings: probe.as_ref().map(probe_findings).unwrap_or_default(),
        read_error: read.as_ref().err().cloned(),
        read: read.ok(),
        probe,
        probe_error,
        checked_at: crate::dates::rfc3339(time::OffsetDateTime::now_utc()),
    })
}

/// Two hellos to the CTI port, TLS 1.2 only: every suite, then only the recommended ones.
/// `Err`: nothing answered.
async fn probe(node: &Node) -> Result<CtiProbe, String> {
    let target = Target {
        fqdn: node.fqdn.clone(),
        address: Some(node.address.clone()),
        port: node.port,
    };
    let tls12: Vec<u16> = certs::suites::SUITES
        .iter()
        .filter(|s| s.key_exchange != certs::suites::KeyExchange::Tls13)
        .map(|s| s.code)
        .collect();
    let recommended: Vec<u16> = certs::suites::SUITES
        .iter()
        .filter(|s| s.recommended())
        .map(|s| s.code)
        .collect();
    let said = |e: crate::scans::probe::ProbeError| format!("port {}: {e}", node.port);
    let all = offer(&target, hello::TLS12, &tls12, WAIT)
        .await
        .map_err(said)?;
    let best = offer(&target, hello::TLS12, &recommended, WAIT)
        .await
        .map_err(said)?;
    Ok(CtiProbe {
        port: node.port,
        tls12: match all {
            Answer::Accepted(flight) => Ok(negotiated(&flight)),
            Answer::Refused(why) => Err(why),
        },
        recommended: match best {
            Answer::Accepted(flight) if flight.version == hello::TLS12 => {
                Some(certs::suites::name(flight.suite))
            }
            _ => None,
        },
    })
}

fn negotiated(flight: &hello::ServerFlight) -> Negotiated {
    let suite = certs::suites::by_code(flight.suite);
    Negotiated {
        protocol: hello::version_name(flight.version),
        iana: certs::suites::name(flight.suite),
        openssl: suite.map_or_else(|| "unknown".into(), |s| s.openssl.to_owned()),
        client_certificate_requested: flight.client_certificate_requested,
        chain_complete: chain_complete(&flight.chain),
    }
}

/// The chain sent reaches a root: it ends at a self-signed certificate, or each certificate
/// is issued by the next and there is more than the leaf (the root may be left out, the
/// issuing CA may not).
fn chain_complete(chain: &[Vec<u8>]) -> bool {
    let parsed: Vec<certs::CertInfo> = chain
        .iter()
        .filter_map(|der| certs::analyze::parse(der).ok())
        .collect();
    if parsed.len() != chain.len() || parsed.is_empty() {
        return false;
    }
    let linked = parsed.windows(2).all(|w| w[0].issuer == w[1].subject);
    linked && (parsed.len() > 1 || parsed[0].self_signed)
}

/// The alias a trust anchor gets: its common name in letters, digits and `-`, then the first
/// 16 hex digits of its SHA-256 fingerprint (unique, and the same certificate always gets the
/// same one).
pub fn alias(subject_cn: Option<&str>, sha256: &str) -> String {
    let mut name = String::new();
    for c in subject_cn.unwrap_or("anchor").chars() {
        match c {
            c if c.is_ascii_alphanumeric() => name.push(c.to_ascii_lowercase()),
            _ if !name.ends_with('-') && !name.is_empty() => name.push('-'),
            _ => {}
        }
    }
    let name: String = name.trim_end_matches('-').chars().take(40).collect();
    let name = name.trim_end_matches('-');
    let start: String = sha256
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    if name.is_empty() {
        format!("anchor-{start}")
    } else {
        format!("{name}-{start}")
    }
}

/// The longest chain file taken (Webex's holds a few certificates).
pub const MAX_CHAIN: usize = 256 * 1024;

/// The CA certificates of the Webex chain file, each under its alias.
pub(super) fn anchors(chain: &str) -> Result<Vec<Trusted>, Error> {
    let refused = |why: String| Error::field("chain", why);
    if chain.len() > MAX_CHAIN {
        return Err(refused(format!(
            "at most {} KiB: the Webex CA chain is a few certificates",
            MAX_CHAIN / 1024
        )));
    }
    let split = crate::certificates::chain::split(chain.as_bytes(), crate::dates::now())
        .map_err(refused)?;
    use crate::certificates::chain::Role;
    let cas: Vec<_> = split
        .pieces
        .iter()
        .filter(|p| matches!(p.role, Role::Root | Role::Intermediate))
        .collect();
    if !cas.iter().any(|p| p.role == Role::Root) {
        return Err(refused(
            "it holds no root certificate: the file from Partner Hub (CombinedCertChain) holds the root and the issuing CA, and both are required".into(),
        ));
    }
    let mut out: Vec<Trusted> = Vec::new();
    for piece in cas {
        let der = crate::reconcile::trust::der_of_pem(&piece.pem)
            .ok_or_else(|| refused("a certificate did not read back".into()))?;
        let label = alias(piece.subject_cn.as_deref(), &piece.fingerprint_sha256);
        if out.iter().any(|t| t.label == label) {
            return Err(refused(format!(
                "two certificates would get the alias {label}: aliases must differ"
            )));
        }
        out.push(Trusted { label, der });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::chain_complete;

    #[test]
    fn a_chain_is_complete_when_it_reaches_a_root_or_carries_its_issuing_ca() {
        let root = testkit::pki::Ca::new("CTI Test Root");
        let issuing = root.intermediate("CTI Test Issuing CA");
        let leaf = issuing.leaf(&["xsp1.example.com"]);
        let leaf = leaf.der.to_vec();
        assert!(
            !chain_complete(std::slice::from_ref(&leaf)),
            "the leaf alone"
        );
        assert!(chain_complete(&[leaf.clone(), issuing.der().to_vec()]));
        assert!(
            !chain_complete(&[leaf.clone(), root.der().to_vec()]),
            "the issuing CA left out"
        );
        assert!(chain_complete(&[root.der().to_vec()]), "self-signed");
        assert!(!chain_complete(&[]));
        assert!(!chain_complete(&[vec![0x30, 0x00]]), "no certificate");
    }
}
