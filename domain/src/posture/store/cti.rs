//! A BroadWorks node's CTI interface in its cluster's posture: the checklist steps not done
//! and the probe's findings (seed 003), each fixed on the node's CTI page.

use super::super::{Finding, Fix, Gap, Severity};
use super::observe::Looked;
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::{Error, Services};

/// Every BroadWorks node of `nodes`, looked at as its CTI page does.
pub(super) async fn findings(
    services: &Services,
    context: &RequestContext,
    nodes: &[Looked],
) -> Result<(Vec<Finding>, Vec<Gap>), Error> {
    let mut found = Vec::new();
    let mut gaps = Vec::new();
    for node in nodes.iter().filter(|n| n.kind == NodeKind::BroadWorks) {
        let view = crate::cti::store::view(services, context, node.id).await?;
        let gap = |what: &str, why: String| Gap {
            node_id: node.id,
            node: node.fqdn.clone(),
            what: what.into(),
            why,
        };
        let fix = Fix::Page {
            label: "the node's CTI checklist".into(),
            href: format!("/nodes/{}/cti", node.id),
        };
        if let Some(why) = view.read_error {
            gaps.push(gap("CTI settings over SSH", why));
        }
        if let Some(why) = view.probe_error {
            gaps.push(gap("CTI port", why));
        }
        for step in view.checklist.into_iter().filter(|s| !s.done) {
            found.push(Finding {
                rule: format!("cti:{}", step.key),
                severity: Severity::Medium,
                node_id: node.id,
                node: node.fqdn.clone(),
                port: None,
                title: format!("CTI checklist: {}", step.title),
                observed: step.observed,
                source: step.source,
                sentence: step.sentence,
                fix: fix.clone(),
                advice: None,
            });
        }
        for finding in view.findings {
            let severity = match finding.rule.as_str() {
                "tls12_refused" | "client_auth_not_required" => Severity::High,
                _ => Severity::Medium,
            };
            found.push(Finding {
                rule: format!("cti_probe:{}", finding.rule),
                severity,
                node_id: node.id,
                node: node.fqdn.clone(),
                port: Some(view.port),
                title: "What the Webex cloud meets on the CTI port".into(),
                observed: finding.message,
                source: "seed 003 (CTI Interface and Related Configuration)".into(),
                sentence: String::new(),
                fix: fix.clone(),
                advice: None,
            });
        }
    }
    Ok((found, gaps))
}
