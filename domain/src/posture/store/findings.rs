//! The findings other pages own, brought into the posture: the certificate rules' findings on
//! what the cluster's endpoints serve (as last probed), and the trust matrix's red cells.

use super::super::{Finding, Fix, Gap, Severity};
use crate::auth::principal::RequestContext;
use crate::trust::verify::Verdict;
use crate::{Error, Services};

/// The certificate rules' warnings and critical findings on every endpoint of the cluster
/// (informational ones are left out): one per rule and certificate on a node, with every port
/// that serves it.
pub(super) async fn certificates(
    pool: &sqlx::PgPool,
    cluster_id: i64,
) -> Result<(Vec<Finding>, Vec<Gap>), Error> {
    let now = crate::dates::now();
    let mut gaps = Vec::new();
    // (finding, the certificate's fingerprint, the ports serving it)
    let mut found: Vec<(Finding, String, Vec<i32>)> = Vec::new();
    for endpoint in crate::certificates::store::fleet(pool, None).await? {
        if endpoint.cluster_id != cluster_id {
            continue;
        }
        let unseen = match &endpoint.probe {
            None => Some("never probed: scan the node's endpoints".to_owned()),
            Some(probe) if !probe.ok => Some(format!(
                "its last probe failed ({})",
                probe.error_code.as_deref().unwrap_or("unknown")
            )),
            Some(_) => None,
        };
        if let Some(why) = unseen {
            gaps.push(Gap {
                node_id: endpoint.node_id,
                node: endpoint.fqdn.clone(),
                what: format!("certificates on port {}", endpoint.port),
                why,
            });
            continue;
        }
        for (position, cert) in &endpoint.chain {
            for finding in endpoint.findings(*position, cert, now) {
                let severity = match finding.severity {
                    certs::Severity::Critical => Severity::Critical,
                    certs::Severity::Warning => Severity::Medium,
                    certs::Severity::Info => continue,
                };
                let rule = format!("certificate:{}", finding.id);
                let same = found.iter_mut().find(|(f, sha, _)| {
                    f.rule == rule && f.node_id == endpoint.node_id && *sha == cert.sha256
                });
                if let Some((_, _, ports)) = same {
                    if !ports.contains(&endpoint.port) {
                        ports.push(endpoint.port);
                    }
                    continue;
                }
                found.push((
                    Finding {
                        rule,
                        severity,
                        node_id: endpoint.node_id,
                        node: endpoint.fqdn.clone(),
                        port: u16::try_from(endpoint.port).ok(),
                        title: finding.message,
                        observed: cert
                            .subject_cn
                            .clone()
                            .unwrap_or_else(|| cert.subject.clone()),
                        source: finding.source,
                        sentence: String::new(),
                        fix: Fix::Page {
                            label: "the node's certificates".into(),
                            href: format!("/nodes/{}", endpoint.node_id),
                        },
                        advice: Some(finding.remediation),
                    },
                    cert.sha256.clone(),
                    vec![endpoint.port],
                ));
            }
        }
    }
    let findings = found
        .into_iter()
        .map(|(mut finding, _, ports)| {
            let ports: Vec<String> = ports.iter().map(i32::to_string).collect();
            let word = if ports.len() == 1 { "port" } else { "ports" };
            finding.observed =
                format!("{} served on {word} {}", finding.observed, ports.join(", "));
            finding
        })
        .collect();
    Ok((findings, gaps))
}

/// Every red cell of the cluster's trust matrix.
pub(super) async fn trust(
    services: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<(Vec<Finding>, Vec<Gap>), Error> {
    let matrix = crate::trust::store::matrix(services, context, cluster_id).await?;
    let mut out = Vec::new();
    let mut gaps = Vec::new();
    for cell in matrix.cells.iter().filter(|c| !c.verdict.ok()) {
        let (Some(holder), Some(column)) = (
            matrix.rows.iter().find(|r| r.node_id == cell.holder),
            matrix.columns.get(cell.column),
        ) else {
            continue;
        };
        let (severity, word) = match cell.verdict {
            Verdict::Missing => (Severity::High, "missing"),
            Verdict::Expired => (Severity::High, "expired"),
            Verdict::Different => (Severity::Medium, "different"),
            Verdict::NotReplicated => (Severity::Low, "not_replicated"),
            Verdict::Present => continue,
            // Not known is no finding, and no pass either.
            Verdict::Unknown => {
                gaps.push(Gap {
                    node_id: holder.node_id,
                    node: holder.fqdn.clone(),
                    what: format!("whether it trusts {}", column.label),
                    why: cell.why.clone(),
                });
                continue;
            }
        };
        out.push(Finding {
            rule: format!("trust:{word}"),
            severity,
            node_id: holder.node_id,
            node: holder.fqdn.clone(),
            port: None,
            title: format!("Must trust {}: {}", column.label, word.replace('_', " ")),
            observed: cell.why.clone(),
            source: "trust matrix".into(),
            sentence: cell.source.clone(),
            fix: Fix::Page {
                label: "the trust matrix".into(),
                href: format!("/clusters/{cluster_id}/trust"),
            },
            advice: None,
        });
    }
    Ok((out, gaps))
}

/// With `trustAllCertificates` false, Finesse refuses the peers its trust store lacks (seed
/// 001): while a node's trust matrix has red cells, its finding points there first instead of
/// to the plan.
pub(super) fn hold_back_trust_all(findings: &mut [Finding], cluster_id: i64) {
    let untrusting: Vec<i64> = findings
        .iter()
        .filter(|f| f.rule.starts_with("trust:") && f.severity == Severity::High)
        .map(|f| f.node_id)
        .collect();
    for finding in findings.iter_mut() {
        if finding.rule == "trust_all_certificates" && untrusting.contains(&finding.node_id) {
            finding.fix = Fix::Page {
                label: "the trust matrix first".into(),
                href: format!("/clusters/{cluster_id}/trust"),
            };
            finding.advice = Some(
                "Import what this node's trust store lacks first: with trustAllCertificates false, Finesse refuses every peer it does not trust. Then scan again and plan.".into(),
            );
        }
    }
}
