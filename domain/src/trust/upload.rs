//! A CA-signed certificate checked before anything touches the node (issue 27): the
//! certificate against the node's CSR, the product's rules and its chain, each check with the
//! seed it comes from and, where the node has them, the node's own words.

use crate::inventory::model::NodeKind;
use serde::{Deserialize, Serialize};

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = UploadCheck))]
pub struct Check {
    /// Stable id: `key_matches`, `san_matches`, `names_node`, `valid_now`, `key_size`,
    /// `critical_extensions`, `uccx_multi_san`, `chain_complete`.
    pub id: String,
    pub passed: bool,
    pub message: String,
    pub source: String,
}

/// Every check of an upload; `ready` when all passed (then the upload may be planned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UploadFindings {
    pub checks: Vec<Check>,
    pub ready: bool,
    /// The bundle in upload order.
    pub chain: crate::certificates::chain::Split,
}

/// The node the certificate is for, and its UCCX peers (a UCCX multi-SAN certificate names
/// node 1 and node 2 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: NodeKind,
    pub fqdn: String,
    pub uccx_nodes: Vec<String>,
}

#[cfg(feature = "server")]
pub use checks::{check_upload, issuers_of, read_csr};

#[cfg(feature = "server")]
mod checks {
    use super::*;
    use crate::certificates::chain::{self, Role};
    use certs::analyze;
    use std::collections::BTreeSet;

    const SEED_SAN: &str = "seed 000: the upload of a CA signed certificate displays error \"CSR SAN and Certificate SAN does not match\"; generate the CSR with an empty Parent Domain field";
    const SEED_KEY: &str =
        "seed 000: \"UCCX only supports certificate key lengths of 1024 and 2048 bits.\"";
    const SEED_CRITICAL: &str = "seed 000: only Key Usage (2.5.29.15) and Basic Constraints (2.5.29.19) may be critical: \"If you mark any other extensions as critical, the communication fails between Unified CCX and Unified CM\" (CSCvd56174)";
    const SEED_MULTI_SAN: &str = "seed 000: \"Multi-SAN support was added in UCCX starting in version, 11.6.2.\" (one certificate for node 1 and node 2)";
    const SEED_CHAIN: &str = "seed 002: root, then intermediates into tomcat-trust, then the application certificate into tomcat";
    const SEED_NAME: &str = "seed 000: servers are reached by FQDN; a certificate that does not name it is refused by browsers and peers";

    /// Checks `bundle` (the signed certificate with its chain, PEM, any order) against the CSR
    /// (`csr_pem`) the node generated, for `target`. `Err` when the input cannot be read at all
    /// (no CSR, no certificate, no leaf).
    pub fn check_upload(
        csr_pem: &str,
        bundle: &[u8],
        target: &Target,
        now: i64,
    ) -> Result<UploadFindings, String> {
        let csr = read_csr(csr_pem)?;
        let split = chain::split(bundle, now)?;
        let leaves: Vec<&chain::Piece> = split
            .pieces
            .iter()
            .filter(|p| matches!(p.role, Role::Leaf | Role::SelfSigned))
            .collect();
        let [leaf] = leaves.as_slice() else {
            return Err(format!(
                "The bundle holds {} certificates of a server: give the node's own certificate once, with its CA certificates.",
                leaves.len()
            ));
        };
        let der = analyze::pem_certificates(&leaf.pem)?.remove(0);
        let info = analyze::parse(&der).map_err(|e| e.to_string())?;
        let mut checks = Vec::new();
        let mut check = |id: &str, passed: bool, message: String, source: &str| {
            checks.push(Check {
                id: id.into(),
                passed,
                message,
                source: source.into(),
            })
        };
        let same_key = analyze::public_key_sha256(&der).as_deref() == Some(&csr.public_key_sha256);
        check(
            "key_matches",
            same_key,
            if same_key {
                "issued for this CSR's key".into()
            } else {
                "not issued for the key of this node's CSR (a certificate for another request, or a CSR generated again since): it cannot be installed".into()
            },
            "the certificate must carry the key the node generated with its CSR",
        );
        let set = |names: &[String]| -> BTreeSet<String> {
            names.iter().map(|n| n.to_ascii_lowercase()).collect()
        };
        let (asked, given) = (set(&csr.san_dns), set(&info.san_dns));
        let san_ok = !csr.has_san || asked == given;
        let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
            a.difference(b).cloned().collect::<Vec<_>>().join(", ")
        };
        check(
            "san_matches",
            san_ok,
            if !csr.has_san {
                "the CSR asked for no SAN (empty Parent Domain): the CA's SANs are taken as they are".into()
            } else if san_ok {
                "the certificate's SAN list is the CSR's".into()
            } else {
                let mut diff = Vec::new();
                let extra = only(&given, &asked);
                let lacking = only(&asked, &given);
                if !extra.is_empty() {
                    diff.push(format!("only in the certificate: {extra}"));
                }
                if !lacking.is_empty() {
                    diff.push(format!("only in the CSR: {lacking}"));
                }
                format!(
                    "\"CSR SAN and Certificate SAN does not match\" ({}): generate the CSR again with an empty Parent Domain and have it signed again",
                    diff.join("; ")
                )
            },
            SEED_SAN,
        );
        let names = info.covers(&target.fqdn);
        check(
            "names_node",
            names,
            if names {
                format!("names {}", target.fqdn)
            } else {
                format!(
                    "does not name {} in its SAN (or CN without SAN)",
                    target.fqdn
                )
            },
            SEED_NAME,
        );
        let valid = info.not_before <= now && now < info.not_after;
        check(
            "valid_now",
            valid,
            format!(
                "valid from {} to {}",
                crate::dates::unix_rfc3339(info.not_before),
                crate::dates::unix_rfc3339(info.not_after)
            ),
            "a certificate outside its validity is refused by every peer",
        );
        if target.kind == NodeKind::Uccx {
            let bits = info.key.bits.unwrap_or(0);
            let ok = info.key.algorithm == "RSA" && matches!(bits, 1024 | 2048);
            check(
                "key_size",
                ok,
                format!("{} {bits} bits", info.key.algorithm),
                SEED_KEY,
            );
        }
        if matches!(target.kind, NodeKind::Uccx | NodeKind::Cucm) {
            let critical: Vec<String> = info
                .extensions
                .iter()
                .filter(|e| e.critical && e.oid != "2.5.29.15" && e.oid != "2.5.29.19")
                .map(|e| e.name.clone().unwrap_or_else(|| e.oid.clone()))
                .collect();
            check(
                "critical_extensions",
                critical.is_empty(),
                if critical.is_empty() {
                    "only Key Usage and Basic Constraints are critical".into()
                } else {
                    format!("also critical: {}", critical.join(", "))
                },
                SEED_CRITICAL,
            );
        }
        if target.kind == NodeKind::Uccx {
            let peers: BTreeSet<String> = target
                .uccx_nodes
                .iter()
                .map(|n| n.to_ascii_lowercase())
                .collect();
            let multi = given
                .iter()
                .any(|n| peers.contains(n) && *n != target.fqdn.to_ascii_lowercase());
            let strangers: Vec<&String> = given.iter().filter(|n| !peers.contains(*n)).collect();
            if multi {
                check(
                    "uccx_multi_san",
                    strangers.is_empty(),
                    if strangers.is_empty() {
                        "a multi-SAN certificate for the UCCX nodes only".into()
                    } else {
                        format!(
                            "a multi-SAN certificate must name only the UCCX nodes ({}); it also names {}",
                            target.uccx_nodes.join(", "),
                            strangers.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                        )
                    },
                    SEED_MULTI_SAN,
                );
            }
        }
        let issuers = issuers_of(&split.pieces, leaf.order);
        let rooted = issuers.first().is_some_and(|p| p.role == Role::Root);
        let self_signed = leaf.role == Role::SelfSigned;
        let expired: Vec<String> = issuers
            .iter()
            .filter(|p| p.expired)
            .map(|p| p.subject_cn.clone().unwrap_or_else(|| p.subject.clone()))
            .collect();
        check(
            "cas_valid",
            expired.is_empty(),
            if expired.is_empty() {
                "every CA above it is within its validity".into()
            } else {
                format!(
                    "expired CA certificates in its chain: {}",
                    expired.join(", ")
                )
            },
            "a chain through an expired CA is refused by every peer",
        );
        check(
            "chain_complete",
            rooted || self_signed,
            if rooted || self_signed {
                "complete up to a root: uploaded in the order shown".into()
            } else {
                let why = split
                    .notes
                    .iter()
                    .find(|n| n.contains("not in this file"))
                    .cloned()
                    .unwrap_or_else(|| "no root certificate in the bundle".into());
                format!("incomplete: {why} Add the CA certificates up to the root.")
            },
            SEED_CHAIN,
        );
        let ready = checks.iter().all(|c| c.passed);
        Ok(UploadFindings {
            checks,
            ready,
            chain: split,
        })
    }

    /// The CAs that issued the piece numbered `leaf`, following each one's signer up to a root:
    /// root first. Whatever else a bundle holds is never uploaded.
    pub fn issuers_of(pieces: &[chain::Piece], leaf: u32) -> Vec<&chain::Piece> {
        let mut chain = Vec::new();
        let mut at = pieces.iter().find(|p| p.order == leaf);
        while let Some(piece) = at {
            let signer = piece
                .issued_by
                .filter(|by| *by != piece.order)
                .and_then(|by| pieces.iter().find(|p| p.order == by))
                .filter(|p| !chain.iter().any(|c: &&chain::Piece| c.order == p.order));
            if let Some(signer) = signer {
                chain.push(signer);
            }
            at = signer;
        }
        chain.reverse();
        chain
    }

    /// The CSR in `pem` (its `CERTIFICATE REQUEST` block), read.
    pub fn read_csr(pem: &str) -> Result<certs::CsrInfo, String> {
        let blocks =
            analyze::pem_blocks(pem).map_err(|e| format!("The CSR is not valid PEM: {e}"))?;
        let der = blocks
            .into_iter()
            .find(|(label, _)| label.ends_with("CERTIFICATE REQUEST"))
            .map(|(_, der)| der)
            .ok_or("No CSR found: give the node's -----BEGIN CERTIFICATE REQUEST----- block.")?;
        analyze::parse_csr(&der).map_err(|e| format!("The CSR does not read: {e}"))
    }
}

#[cfg(all(test, feature = "server"))]
mod tests;
