//! A node's page: every endpoint with its latest probe and served chain (findings with their
//! remediation, expandable details, PEM download, alert mutes), "scan now" with live progress,
//! the expiry thresholds in force, and the scan history.

use super::agents::NodeConnectedUsers;
use super::node_access::{ApplianceAccess, CertificateStores};
use crate::components::certs::{days_text, CertDetails, Findings, ScanPanel, StateBadge};
use crate::components::{
    error_of, field_errors, minute, ActionError, ErrorBox, FieldError, Layout, Section, Table,
    BUTTON, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::auth::whoami;
use crate::server_fns::certificates::{
    load_node_report, MuteAlert, SetNodeThresholds, UnmuteAlert,
};
use crate::server_fns::inventory::SaveNode;
use certs::tls::TrustFailure;
use domain::certificates::{
    ChainCertificate, EndpointReport, HistoryEntry, NodeReport, ProbeSummary,
};
use domain::inventory::model::{NodeKind, NodeRole};
use domain::inventory::Node;
use leptos::prelude::*;

mod endpoint;
mod sections;
use endpoint::EndpointCard;
use sections::{HistorySection, ThresholdsSection};

#[component]
pub fn NodePage() -> impl IntoView {
    let id = crate::components::param_id("id");
    let finished = RwSignal::new(0u32);
    let mute = ServerAction::<MuteAlert>::new();
    let unmute = ServerAction::<UnmuteAlert>::new();
    let thresholds = ServerAction::<SetNodeThresholds>::new();
    let edit = ServerAction::<SaveNode>::new();
    let report = Resource::new(
        move || {
            (
                id(),
                finished.get(),
                mute.version().get(),
                unmute.version().get(),
                thresholds.version().get(),
                edit.version().get(),
            )
        },
        |(id, ..)| load_node_report(id),
    );
    let me = Resource::new(|| (), |_| whoami());
    let is_admin = move || {
        me.get()
            .and_then(|m| m.ok().flatten())
            .is_some_and(|m| m.is_admin())
    };
    let actions = NodeActions {
        mute,
        unmute,
        thresholds,
    };
    let admin = Signal::derive(is_admin);
    // Once the node is known, the scan panel stays (reloads of the report do not reset it).
    let known = RwSignal::new(false);
    let broadworks = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(report)) = report.get() {
            broadworks.set(report.node.kind == NodeKind::BroadWorks);
            known.set(true);
        }
    });
    view! {
        <Layout title="Node">
            <Transition fallback=|| ()>
                {move || report.get().and_then(Result::ok).map(|report| view! { <NodeHeader report admin=is_admin() edit /> })}
            </Transition>
            <Show when=move || known.get()>
                <Section title="Scan">
                    <ScanPanel node_id=Some(id()) running=Signal::stored(None) admin finished />
                </Section>
            </Show>
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading the node…"</p> }>
                {move || report.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> <a href="/inventory" class="text-sm text-indigo-700 underline">"Back to the inventory"</a> }.into_any(),
                    Ok(report) => view! { <NodeView report admin=is_admin() actions /> }.into_any(),
                })}
            </Transition>
            // Beside what the endpoints serve, what the node holds; with their own data and
            // actions, so that a scan or an edit does not reload them.
            <Show when=move || known.get()>
                // A BroadWorks node has no VOS certificate stores: its CTI page reads what it holds.
                <Show when=move || !broadworks.get()>
                    <CertificateStores node_id=id() admin />
                    <section class="rounded-lg border border-slate-200 bg-white px-5 py-3 shadow-sm">
                        <a class="text-sm font-medium text-indigo-700 underline" href=move || format!("/nodes/{}/certificate", id())>"CA-signed certificate: generate a CSR, check and upload the signed certificate, or regenerate a self-signed one"</a>
                    </section>
                </Show>
                <NodeConnectedUsers node_id=id() />
                <ApplianceAccess node_id=id() admin />
            </Show>
            <Transition fallback=|| ()>
                {move || report.get().and_then(Result::ok).map(|report| view! {
                    <ThresholdsSection report=report.thresholds.clone() node_id=report.node_id admin=is_admin() action=actions.thresholds />
                    <HistorySection history=report.history />
                })}
            </Transition>
        </Layout>
    }
}

#[derive(Clone, Copy)]
struct NodeActions {
    mute: ServerAction<MuteAlert>,
    unmute: ServerAction<UnmuteAlert>,
    thresholds: ServerAction<SetNodeThresholds>,
}

#[component]
fn NodeHeader(report: NodeReport, admin: bool, edit: ServerAction<SaveNode>) -> impl IntoView {
    let node = report.node;
    let simulated = node.tags.iter().any(|t| t == "simulated");
    let cti = (node.kind == NodeKind::BroadWorks).then(|| view! {
        <a class="mt-2 inline-block text-sm font-medium text-indigo-700 underline" href=format!("/nodes/{}/cti", node.id) data-testid="cti-link">
            "CTI interface facing Webex: seed 003's checklist, the probe of its port, and the plan"
        </a>
    });
    let form = admin.then(|| view! { <EditForm node=node.clone() action=edit /> });
    let facts = [
        ("Cluster", node.cluster.clone()),
        ("Kind", node.kind.label().to_owned()),
        ("Role", node.kind.role_label(node.role).to_owned()),
        (
            "Connects to",
            node.address
                .clone()
                .unwrap_or_else(|| format!("{} (by name)", node.fqdn)),
        ),
        (
            "Version",
            if node.version.is_empty() {
                "—".into()
            } else {
                node.version.clone()
            },
        ),
        (
            "Tags",
            if node.tags.is_empty() {
                "—".into()
            } else {
                node.tags.join(", ")
            },
        ),
    ];
    view! {
        <div>
            <a href="/inventory" class="text-xs text-indigo-700 underline">"Inventory"</a>
            <h2 class="mt-1 break-all font-mono text-lg font-semibold" data-testid="node-fqdn">
                {report.fqdn}
                {simulated.then(|| view! {
                    <span class="ml-2 inline-block whitespace-nowrap rounded bg-violet-100 px-1.5 py-0.5 align-middle font-sans text-xs font-semibold text-violet-800" data-testid="simulated"
                        title="Part of the demo fleet: a simulated appliance (gatehouse-sim) on this machine's loopback">"simulated"</span>
                })}
            </h2>
            <dl class="mt-2 flex flex-wrap gap-x-6 gap-y-1 text-sm">
                {facts.map(|(k, v)| view! { <div><dt class="inline text-slate-600">{k}": "</dt><dd class="inline text-slate-800">{v}</dd></div> })}
            </dl>
            {cti}
            {form}
        </div>
    }
    .into_any()
}

/// Change the node: every field of the inventory form, filled in with what it is now.
#[component]
fn EditForm(node: Node, action: ServerAction<SaveNode>) -> impl IntoView {
    let error = error_of(action.value());
    let ports = node
        .endpoints
        .iter()
        .map(|e| e.port.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let saved = move || {
        matches!(action.value().get(), Some(Ok(_)))
            .then(|| view! { <p role="status" class="text-sm text-emerald-700">"Saved."</p> })
    };
    view! {
        <details class="mt-3 rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm" data-testid="edit-node">
            <summary class="cursor-pointer text-sm font-medium text-slate-700">"Edit this node"</summary>
            <ActionForm action attr:class="mt-3 grid gap-3 md:grid-cols-4 md:items-start">
                <div class="space-y-2 md:col-span-4"><ActionError error />{saved}</div>
                <input type="hidden" name="id" value=node.id.to_string() />
                <input type="hidden" name="cluster_id" value=node.cluster_id.to_string() />
                <div>
                    <label for="edit-kind" class=LABEL>"Kind"</label>
                    <select id="edit-kind" name="kind" class=INPUT>
                        {NodeKind::ALL.map(|k| view! { <option value=k.as_str() selected=k == node.kind>{k.label()}</option> })}
                    </select>
                </div>
                <div>
                    <label for="edit-role" class=LABEL>"Role"</label>
                    <select id="edit-role" name="role" class=INPUT>
                        {NodeRole::ALL.map(|r| view! { <option value=r.as_str() selected=r == node.role>{r.as_str()}</option> })}
                    </select>
                    <FieldError messages=field_errors(error, "role") />
                </div>
                <div>
                    <label for="edit-fqdn" class=LABEL>"FQDN"</label>
                    <input id="edit-fqdn" name="fqdn" required class=INPUT value=node.fqdn.clone() autocomplete="off" />
                    <FieldError messages=field_errors(error, "fqdn") />
                </div>
                <div>
                    <label for="edit-address" class=LABEL>"Management address"</label>
                    <input id="edit-address" name="address" class=INPUT value=node.address.clone().unwrap_or_default() autocomplete="off" />
                    <FieldError messages=field_errors(error, "address") />
                </div>
                <div>
                    <label for="edit-version" class=LABEL>"Version"</label>
                    <input id="edit-version" name="version" class=INPUT value=node.version.clone() autocomplete="off" />
                    <FieldError messages=field_errors(error, "version") />
                </div>
                <div>
                    <label for="edit-tags" class=LABEL>"Tags (comma-separated)"</label>
                    <input id="edit-tags" name="tags" class=INPUT value=node.tags.join(", ") autocomplete="off" />
                    <FieldError messages=field_errors(error, "tags") />
                </div>
                <div>
                    <label for="edit-ports" class=LABEL>"Ports"</label>
                    <input id="edit-ports" name="ports" class=INPUT value=ports autocomplete="off" />
                    <p class="mt-1 text-xs text-slate-600">"Empty: unchanged."</p>
                    <FieldError messages=field_errors(error, "ports") />
                    <FieldError messages=field_errors(error, "endpoints") />
                </div>
                <div class="md:pt-6"><button type="submit" class=BUTTON>"Save changes"</button></div>
            </ActionForm>
        </details>
    }
    .into_any()
}

#[component]
fn NodeView(report: NodeReport, admin: bool, actions: NodeActions) -> impl IntoView {
    let never = report.endpoints.iter().all(|e| e.probe.is_none());
    let node_id = report.node_id;
    view! {
        {never.then(|| view! { <p class="text-sm text-slate-600">"This node has not been scanned yet: its endpoints show no results until a scan probes them."</p> })}
        {report.endpoints.into_iter().map(|e| view! { <EndpointCard endpoint=e node_id admin actions /> }).collect_view()}
    }
    .into_any()
}
