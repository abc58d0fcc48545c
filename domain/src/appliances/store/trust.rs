//! A certificate an admin imports into one of a node's trust stores
//! (`POST /api/v1/nodes/{id}/stores/trust`), as a one-step plan of the reconciliation engine:
//! the same trust item, the same `set cert import trust` change, the same records and audit
//! as every other plan, run at once because the admin asked for exactly this change. A
//! certificate the store already holds is left as it is.

use super::{node_row, Operation, TrustImport};
use crate::audit::store::{record_alone, Outcome};
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{certificate_label, read_trust, Drive, Reply};
use crate::reconcile::store::PlanNode;
use crate::reconcile::subject::Subject;
use crate::reconcile::trust::import;
use crate::reconcile::{About, Change, Item, NodeState, Op, Refused, State, States, Trusted};
use crate::{Error, Services};
use vos::driver::Console;

/// The name of one-off imports' plans.
pub const SUBJECT: &str = "trust_import";

/// A trust store of a node as an item: the certificates it must hold.
pub struct TrustStore(&'static str);

/// Every store a certificate can be imported into (`set cert import trust <unit>` takes the
/// name without `-trust`), as [`super::super::TRUST_UNITS`] lists them.
pub(crate) static STORES: [TrustStore; 5] = [
    TrustStore("tomcat-trust"),
    TrustStore("CallManager-trust"),
    TrustStore("ipsec-trust"),
    TrustStore("CAPF-trust"),
    TrustStore("tomcat-ECDSA-trust"),
];

static DRIVEN: [&dyn Drive; 5] = [&STORES[0], &STORES[1], &STORES[2], &STORES[3], &STORES[4]];

/// tomcat-trust alone: the store plans of the trust matrix import into.
pub static TOMCAT_TRUST: [&dyn Drive; 1] = [&STORES[0]];

impl TrustStore {
    fn unit(&self) -> &'static str {
        self.0.trim_end_matches("-trust")
    }
}

impl Item for TrustStore {
    fn key(&self) -> &'static str {
        self.0
    }
    fn label(&self) -> &'static str {
        self.0
    }
    fn supports(&self, _kind: NodeKind) -> Result<(), String> {
        Ok(())
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        import(self, self.unit(), op)
    }
    /// The web server that presents and checks tomcat certificates; for the other stores, the
    /// node's own output names what to restart.
    fn restarts(&self, kind: NodeKind) -> &'static [&'static str] {
        match (self.unit(), kind) {
            ("tomcat" | "tomcat-ECDSA", NodeKind::Finesse) => &["Cisco Finesse Tomcat"],
            ("tomcat" | "tomcat-ECDSA", _) => &["Cisco Tomcat"],
            _ => &[],
        }
    }
}

impl Drive for TrustStore {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(read_trust(driver, self.0))
    }
}

/// One-off imports (`plan.subject_id`: the node's id).
pub struct TrustImports;

impl Subject for TrustImports {
    fn name(&self) -> &'static str {
        SUBJECT
    }

    fn items(&self) -> &'static [&'static dyn Drive] {
        &DRIVEN
    }

    fn about(&self, id: i64, _cluster: Option<i64>) -> About {
        About {
            of: "a certificate imported by hand".into(),
            href: format!("/nodes/{id}"),
            link: "The node".into(),
        }
    }
}

/// Imports one certificate into a trust store of `node_id`: a plan of one node and one step,
/// run now. `ok` only when the node shows the certificate afterwards.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn import_trust(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
    input: TrustImport,
) -> Result<Operation, Error> {
    context.require_admin()?;
    let unit = input.unit.trim();
    let Some(store) = STORES.iter().find(|s| s.0 == unit) else {
        return Err(Error::field(
            "unit",
            format!("use one of {}", super::super::TRUST_UNITS.join(", ")),
        ));
    };
    let ders = certs::analyze::pem_certificates(&input.pem).map_err(|e| Error::field("pem", e))?;
    let [der] = ders.as_slice() else {
        return Err(Error::field(
            "pem",
            format!("paste exactly one certificate (found {}); import a chain's root and intermediates one by one", ders.len()),
        ));
    };
    let info = certs::analyze::parse(der)
        .map_err(|e| Error::field("pem", format!("not a readable certificate: {}", e.0)))?;
    let node = node_row(&services.pool, node_id).await?;
    // What is pasted is the certificate as parsed, re-encoded: never the text given.
    let certificate = Trusted {
        label: certificate_label(der),
        der: der.clone(),
    };
    let command = Change::import_trust(store.unit(), der, &certificate.label)
        .map_err(|e| Error::field("unit", e.to_string()))?
        .line()
        .to_string();
    let mut desired = States::new();
    desired.insert(store.0.into(), State::Certificates(vec![certificate]));
    let nodes = [PlanNode { node_id, desired }];
    let plan_id = crate::reconcile::store::run_now(
        services,
        context,
        &TrustImports,
        node_id,
        &nodes,
        std::time::Duration::from_secs(300),
    )
    .await?;
    let outcome = sqlx::query!(
        "select p.state, p.error, s.output, s.error as step_error
         from plan_node p left join plan_step s on s.plan_id = p.plan_id and s.node_id = p.node_id and s.position = 0
         where p.plan_id = $1 and p.node_id = $2",
        plan_id,
        node_id
    )
    .fetch_one(&services.pool)
    .await?;
    // The certificate's own words, shown on one line as they are (no line break, terminal
    // control or invisible character reaches the answer or the audit entry).
    let subject = vos::driver::shown(&info.subject_cn.clone().unwrap_or(info.subject.clone()));
    let kind = NodeKind::parse(&node.kind).unwrap_or(NodeKind::Other);
    let output = outcome.output.unwrap_or_default();
    let state: NodeState = outcome
        .state
        .parse()
        .map_err(|e: String| Error::internal(anyhow::anyhow!(e)))?;
    let (ok, message, restart) = match state {
        NodeState::Verified => (
            true,
            format!("Imported {subject} into {unit} on {}. Restart the services related to it for the import to take effect.", node.fqdn),
            store.restarts(kind).iter().map(|s| (*s).to_owned()).collect(),
        ),
        NodeState::InSync => (
            true,
            format!("{subject} is in {unit} on {} already: nothing was imported.", node.fqdn),
            Vec::new(),
        ),
        NodeState::Reading | NodeState::Planned | NodeState::Applying | NodeState::Verifying => (
            false,
            format!("The import has not finished yet (it goes on): plan {plan_id} shows how it goes."),
            Vec::new(),
        ),
        NodeState::Unreachable => (false, outcome.error.unwrap_or_default(), Vec::new()),
        NodeState::Failed | NodeState::Changed | NodeState::Cancelled => (
            false,
            format!(
                "The appliance did not confirm the import: {}",
                outcome
                    .step_error
                    .or(outcome.error)
                    .unwrap_or_else(|| "it was not applied".into())
            ),
            Vec::new(),
        ),
    };
    let operation = Operation {
        ok,
        command,
        message,
        output,
        restart,
        plan_id: Some(plan_id),
    };
    record_alone(
        &services.pool,
        context
            .event("node.trust.import", format!("node:{}", node.fqdn))
            .outcome(Outcome::of(operation.ok))
            .detail(format!(
                "{}: {} {} (sha256 {}, plan {plan_id})",
                operation.command, operation.message, unit, info.sha256
            ))
            .after(serde_json::json!({ "command": operation.command, "output": operation.output, "plan": plan_id })),
    )
    .await?;
    Ok(operation)
}
