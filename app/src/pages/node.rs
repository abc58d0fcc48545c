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
use crate::server_fns::inventory::EditNode;
use certs::tls::TrustFailure;
use domain::certificates::{
    ChainCertificate, EndpointReport, HistoryEntry, NodeReport, ProbeSummary,
};
use domain::inventory::model::{NodeKind, NodeRole};
use domain::inventory::Node;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn NodePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let finished = RwSignal::new(0u32);
    let mute = ServerAction::<MuteAlert>::new();
    let unmute = ServerAction::<UnmuteAlert>::new();
    let thresholds = ServerAction::<SetNodeThresholds>::new();
    let edit = ServerAction::<EditNode>::new();
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
    Effect::new(move |_| {
        if report.get().is_some_and(|r| r.is_ok()) {
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
                <CertificateStores node_id=id() admin />
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
fn NodeHeader(report: NodeReport, admin: bool, edit: ServerAction<EditNode>) -> impl IntoView {
    let node = report.node;
    let simulated = node.tags.iter().any(|t| t == "simulated");
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
            {form}
        </div>
    }
    .into_any()
}

/// Change the node: every field of the inventory form, filled in with what it is now.
#[component]
fn EditForm(node: Node, action: ServerAction<EditNode>) -> impl IntoView {
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

fn probe_line(p: &ProbeSummary) -> String {
    let mut parts = vec![
        p.protocol.clone().unwrap_or_default(),
        p.cipher_suite.clone().unwrap_or_default(),
    ];
    if let Some(alpn) = &p.alpn {
        parts.push(format!("ALPN {alpn}"));
    }
    if p.client_certificate_requested == Some(true) {
        parts.push("asks for a client certificate".into());
    }
    if let Some(ms) = p.handshake_ms {
        parts.push(format!("handshake {ms:.0} ms"));
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" · ")
}

#[component]
fn EndpointCard(
    endpoint: EndpointReport,
    node_id: i64,
    admin: bool,
    actions: NodeActions,
) -> impl IntoView {
    let port = endpoint.port;
    let probe = endpoint.probe.clone();
    let summary = match &probe {
        None => view! { <p class="text-sm text-slate-600">"Not scanned yet."</p> }.into_any(),
        Some(p) if !p.ok => view! {
            <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="probe-error">
                <span class="font-mono font-semibold">{p.error_code.clone().unwrap_or_default()}</span>": "{p.error_message.clone().unwrap_or_default()}
                <span class="ml-1 text-xs text-red-600">{format!("(probed {} UTC)", minute(&p.probed_at))}</span>
            </div>
        }.into_any(),
        Some(p) => {
            let trust = if p.publicly_trusted {
                "Chain verifies for this FQDN against the system roots.".to_owned()
            } else {
                format!("Not publicly trusted: {}.", p.public_trust_error.as_ref().map(TrustFailure::words).unwrap_or_default())
            };
            let cluster = match (p.cluster_trusted, &p.cluster_trust_error) {
                (None, _) => None,
                (Some(true), _) => Some("Verifies against the cluster's CA certificates.".to_owned()),
                (Some(false), e) => Some(format!("Does not verify against the cluster's CA certificates: {}.", e.as_ref().map(TrustFailure::words).unwrap_or_default())),
            };
            view! {
                <p class="text-sm text-slate-700">{probe_line(p)}<span class="ml-1 text-xs text-slate-600">{format!("(probed {} UTC)", minute(&p.probed_at))}</span></p>
                <p class="text-xs text-slate-600">{trust}{cluster.map(|c| format!(" {c}"))}</p>
            }.into_any()
        }
    };
    let title = if endpoint.purpose.is_empty() {
        format!("Port {port}")
    } else {
        format!("Port {port} · {}", endpoint.purpose)
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="endpoint" data-port=port.to_string()>
            <div class="border-b border-slate-200 px-5 py-3">
                <h2 class="text-sm font-semibold text-slate-800">{title}</h2>
                <div class="mt-1">{summary}</div>
            </div>
            {(!endpoint.chain.is_empty()).then(|| view! {
                <ol class="divide-y divide-slate-100">
                    {endpoint.chain.into_iter().map(|c| view! { <ChainRow cert=c node_id port admin actions /> }).collect_view()}
                </ol>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn ChainRow(
    cert: ChainCertificate,
    node_id: i64,
    port: i32,
    admin: bool,
    actions: NodeActions,
) -> impl IntoView {
    let role = if cert.position == 0 {
        "Leaf".to_owned()
    } else {
        format!("Chain #{}", cert.position)
    };
    let name = cert
        .subject_cn
        .clone()
        .unwrap_or_else(|| cert.details.subject.clone());
    let sha = cert.fingerprint_sha256.clone();
    let alerting = cert.state != "ok";
    let mute_info = cert.mute.clone();
    view! {
        <li class="px-5 py-3" data-testid="chain-certificate">
            <div class="flex flex-wrap items-center gap-2 text-sm">
                <span class="text-xs text-slate-600">"Expiry"</span>
                <StateBadge state=cert.state.clone() />
                <span class="text-xs text-slate-600">{role}</span>
                <a class="font-medium underline" href=format!("/certificates/{sha}")>{name}</a>
                <span class="text-slate-600">{format!("issued by {}", cert.issuer_cn.clone().unwrap_or_else(|| cert.details.issuer.clone()))}</span>
                <span class="whitespace-nowrap text-slate-700">{format!("{} (until {} UTC)", days_text(cert.days_left), minute(&cert.not_after))}</span>
            </div>
            <div class="mt-2"><Findings findings=cert.findings.clone() /></div>
            {mute_info.map(|m| {
                let sha = sha.clone();
                view! {
                    <div class="mt-2 flex flex-wrap items-center gap-2 rounded bg-slate-50 px-3 py-2 text-xs text-slate-700" data-testid="mute-info">
                        <span>{format!("{} until {} UTC by {}; owner {}", if m.kind == "ack" { "Acknowledged (still alerting)" } else { "Alert muted" }, minute(&m.until), m.muted_by, m.owner)}{(!m.note.is_empty()).then(|| format!(" — {}", m.note))}</span>
                        {admin.then(|| view! {
                            <ActionForm action=actions.unmute>
                                <input type="hidden" name="node_id" value=node_id.to_string() />
                                <input type="hidden" name="port" value=port.to_string() />
                                <input type="hidden" name="fingerprint_sha256" value=sha.clone() />
                                <button type="submit" class=BUTTON_SECONDARY>{if m.kind == "ack" { "Clear acknowledgement" } else { "Unmute" }}</button>
                            </ActionForm>
                        })}
                    </div>
                }
            })}
            <details class="mt-2">
                <summary class="cursor-pointer text-xs font-medium text-slate-600">"Details"</summary>
                <div class="mt-2 space-y-2">
                    <CertDetails info=cert.details.clone() />
                    <a href=format!("/api/v1/certificates/{sha}/pem") download class=BUTTON_SECONDARY>"Download PEM"</a>
                </div>
            </details>
            {(admin && alerting && cert.mute.is_none()).then(|| view! { <MuteForm node_id port sha=sha.clone() action=actions.mute /> })}
        </li>
    }
    .into_any()
}

#[component]
fn MuteForm(
    node_id: i64,
    port: i32,
    sha: String,
    action: ServerAction<MuteAlert>,
) -> impl IntoView {
    let error = error_of(action.value());
    let id = format!("{}-{port}-{}", node_id, &sha[..8.min(sha.len())]);
    view! {
        <details class="mt-2">
            <summary class="cursor-pointer text-xs font-medium text-slate-600">"Acknowledge or mute this alert…"</summary>
            <ActionForm action attr:class="mt-2 grid gap-3 sm:grid-cols-5 sm:items-start">
                <div>
                    <label for=format!("kind-{id}") class=LABEL>"Action"</label>
                    <select id=format!("kind-{id}") name="kind" class=INPUT>
                        <option value="ack">"Acknowledge (keeps alerting)"</option>
                        <option value="mute">"Mute (silence)"</option>
                    </select>
                </div>
                <input type="hidden" name="node_id" value=node_id.to_string() />
                <input type="hidden" name="port" value=port.to_string() />
                <input type="hidden" name="fingerprint_sha256" value=sha />
                <div>
                    <label for=format!("owner-{id}") class=LABEL>"Owner"</label>
                    <input id=format!("owner-{id}") name="owner" required class=INPUT placeholder="PKI team" />
                    <FieldError messages=field_errors(error, "owner") />
                </div>
                <div>
                    <label for=format!("note-{id}") class=LABEL>"Note"</label>
                    <input id=format!("note-{id}") name="note" class=INPUT placeholder="renewal ordered, CHG0042" />
                    <FieldError messages=field_errors(error, "note") />
                </div>
                <div>
                    <label for=format!("until-{id}") class=LABEL>"Until"</label>
                    <input id=format!("until-{id}") name="until" type="date" required class=INPUT />
                    <FieldError messages=field_errors(error, "until") />
                </div>
                <div class="sm:pt-6"><button type="submit" class=BUTTON>"Save"</button></div>
                <div class="sm:col-span-5"><ActionError error /></div>
            </ActionForm>
        </details>
    }
    .into_any()
}

#[component]
fn ThresholdsSection(
    report: domain::certificates::EffectiveThresholds,
    node_id: i64,
    admin: bool,
    action: ServerAction<SetNodeThresholds>,
) -> impl IntoView {
    let error = error_of(action.value());
    let own = |value: i64, from: &str| {
        if from == "node" {
            value.to_string()
        } else {
            String::new()
        }
    };
    let rows = [
        (
            "warning_days",
            "Warning under (days)",
            report.warning_days,
            report.warning_days_from.clone(),
        ),
        (
            "critical_days",
            "Critical under (days)",
            report.critical_days,
            report.critical_days_from.clone(),
        ),
        (
            "warning_lifetime_percent",
            "Warning under (% of lifetime left)",
            report.warning_lifetime_percent,
            report.warning_lifetime_percent_from.clone(),
        ),
    ];
    view! {
        <Section title="Expiry thresholds" description="When this node's certificates turn warning and critical. Empty fields inherit the cluster's values, then the defaults (30 days, 14 days, 20%).">
            <ul class="mb-3 text-sm text-slate-700">
                {rows.clone().map(|(_, label, value, from)| view! { <li>{format!("{label}: {value} ({from})")}</li> })}
            </ul>
            {admin.then(|| view! {
                <ActionForm action attr:class="grid gap-3 sm:grid-cols-4 sm:items-start">
                    <input type="hidden" name="id" value=node_id.to_string() />
                    {rows.map(|(name, label, value, from)| view! {
                        <div>
                            <label for=format!("t-{name}") class=LABEL>{label}</label>
                            <input id=format!("t-{name}") name=name inputmode="numeric" class=INPUT value=own(value, &from) placeholder="inherit" />
                            <FieldError messages=field_errors(error, name) />
                        </div>
                    })}
                    <div class="sm:pt-6"><button type="submit" class=BUTTON>"Save thresholds"</button></div>
                </ActionForm>
            })}
        </Section>
    }
    .into_any()
}

#[component]
fn HistorySection(history: Vec<HistoryEntry>) -> impl IntoView {
    view! {
        <Section title="Scan history" description="The latest probes of this node's endpoints, newest first.">
            {if history.is_empty() {
                view! { <p class="text-sm text-slate-600">"No probes yet."</p> }.into_any()
            } else {
                view! {
                    <Table headers=&["Probed (UTC)", "Port", "Result", "Leaf served"]>
                                {history.into_iter().map(|h| view! {
                                    <tr data-testid="history-row">
                                        <td class="py-1 pr-3 whitespace-nowrap">{minute(&h.probed_at)}</td>
                                        <td class="py-1 pr-3 font-mono text-xs">{h.port}</td>
                                        <td class="py-1 pr-3">{if h.ok { "ok".to_owned() } else { h.error_code.clone().unwrap_or_else(|| "failed".into()) }}</td>
                                        <td class="py-1">{h.fingerprint_sha256.clone().map(|sha| view! {
                                            <a class="underline" href=format!("/certificates/{sha}")>{h.subject_cn.clone().unwrap_or_else(|| sha[..16].to_owned())}</a>
                                        })}</td>
                                    </tr>
                                }).collect_view()}
                            </Table>
                }.into_any()
            }}
        </Section>
    }
    .into_any()
}
