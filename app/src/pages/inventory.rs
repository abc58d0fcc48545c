//! The inventory: clusters and their nodes. Admins add and remove them here; auditors read.
//! Choosing a kind fills in its default ports (after hydration; without the wasm an empty
//! ports field means the defaults too).

use crate::components::minute;
use crate::components::{
    error_of, field_errors, ActionError, EmptyState, ErrorBox, FieldError, Layout, Section, BUTTON,
    BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::auth::whoami;
use crate::server_fns::certificates::{AddClusterCa, RemoveClusterCa, SetClusterThresholds};
use crate::server_fns::inventory::{
    inventory_overview, AddCluster, AddNode, ImportInventory, RemoveCluster, RemoveNode,
};
use domain::certificates::ClusterCa;
use domain::inventory::model::{NodeKind, NodeRole};
use domain::inventory::{default_ports_text, ClusterSummary, ImportReport, Node};
use leptos::prelude::*;

#[component]
pub fn InventoryPage() -> impl IntoView {
    let add_cluster = ServerAction::<AddCluster>::new();
    let add_node = ServerAction::<AddNode>::new();
    let remove_node = ServerAction::<RemoveNode>::new();
    let remove_cluster = ServerAction::<RemoveCluster>::new();
    let add_ca = ServerAction::<AddClusterCa>::new();
    let import = ServerAction::<ImportInventory>::new();
    let remove_ca = ServerAction::<RemoveClusterCa>::new();
    let thresholds = ServerAction::<SetClusterThresholds>::new();
    let trust = TrustActions {
        add_ca,
        remove_ca,
        thresholds,
    };
    let overview = Resource::new(
        move || {
            (
                add_cluster.version().get(),
                add_node.version().get(),
                remove_node.version().get(),
                remove_cluster.version().get(),
                add_ca.version().get(),
                import.version().get(),
                remove_ca.version().get(),
                thresholds.version().get(),
            )
        },
        |_| inventory_overview(),
    );
    let me = Resource::new(|| (), |_| whoami());
    let is_admin = move || {
        me.get()
            .and_then(|m| m.ok().flatten())
            .is_some_and(|m| m.is_admin())
    };

    // The forms stay mounted while the list refetches, so nothing typed is lost.
    let clusters = Signal::derive(move || {
        overview
            .get()
            .and_then(Result::ok)
            .map(|o| o.clusters)
            .unwrap_or_default()
    });

    view! {
        <Layout title="Inventory">
            <Transition fallback=|| ()>
                {move || is_admin().then(|| view! {
                    <ClusterForm action=add_cluster />
                    <NodeForm action=add_node clusters />
                    <CsvSection action=import />
                })}
            </Transition>
            <ActionError error=error_of(remove_node.value()) />
            <ActionError error=error_of(remove_cluster.value()) />
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading the inventory…"</p> }>
                {move || overview.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(data) if data.clusters.is_empty() => view! {
                        <EmptyState
                            title="No clusters yet"
                            body="A cluster groups the nodes of one contact-center deployment (Finesse, CUIC, LiveData, IdS pairs, their proxies). Add one, then its nodes; Gatehouse fills in each product's default ports."
                        />
                    }.into_any(),
                    Ok(data) => {
                        let admin = is_admin();
                        data.clusters
                            .into_iter()
                            .map(|c| {
                                let nodes: Vec<Node> = data.nodes.iter().filter(|n| n.cluster_id == c.id).cloned().collect();
                                let cas: Vec<ClusterCa> = data.cas.iter().filter(|ca| ca.cluster_id == c.id).cloned().collect();
                                view! { <ClusterCard cluster=c nodes cas admin remove_node remove_cluster trust /> }
                            })
                            .collect_view()
                            .into_any()
                    }
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn ClusterForm(action: ServerAction<AddCluster>) -> impl IntoView {
    let error = error_of(action.value());
    view! {
        <Section title="Add a cluster">
            <ActionForm action attr:class="grid gap-4 md:grid-cols-3 md:items-start">
                <div class="md:col-span-3"><ActionError error /></div>
                <div>
                    <label for="cluster-name" class=LABEL>"Name"</label>
                    <input id="cluster-name" name="name" required class=INPUT placeholder="Site A UCCE" autocomplete="off" />
                    <FieldError messages=field_errors(error, "name") />
                </div>
                <div>
                    <label for="cluster-description" class=LABEL>"Description (optional)"</label>
                    <input id="cluster-description" name="description" class=INPUT autocomplete="off" />
                </div>
                <div class="md:pt-6"><button type="submit" class=BUTTON>"Add cluster"</button></div>
            </ActionForm>
        </Section>
    }
}

#[component]
fn NodeForm(action: ServerAction<AddNode>, clusters: Signal<Vec<ClusterSummary>>) -> impl IntoView {
    let error = error_of(action.value());
    let ports = RwSignal::new(default_ports_text(NodeKind::Finesse));
    let saved = move || {
        match action.value().get() {
        Some(Ok(saved)) => Some(match saved.dns.warning {
            Some(warning) => view! { <p role="status" class="text-sm text-amber-800">"Node added. " {warning}</p> }.into_any(),
            None => view! {
                <p role="status" class="text-sm text-emerald-700">{format!("Node added; its FQDN resolves to {}.", saved.dns.resolved.join(", "))}</p>
            }.into_any(),
        }),
        _ => None,
    }
    };
    view! {
        <Show when=move || !clusters.read().is_empty()>
        <Section title="Add a node" description="Nodes are reached by FQDN; the management address, if set, is where Gatehouse connects instead.">
            <ActionForm action attr:class="grid gap-4 md:grid-cols-4 md:items-start">
                <div class="space-y-2 md:col-span-4"><ActionError error />{saved}</div>
                <div>
                    <label for="node-cluster" class=LABEL>"Cluster"</label>
                    <select id="node-cluster" name="cluster_id" class=INPUT>
                        <For each=move || clusters.get() key=|c| (c.id, c.name.clone()) let:c>
                            <option value=c.id.to_string()>{c.name}</option>
                        </For>
                    </select>
                    <FieldError messages=field_errors(error, "cluster_id") />
                </div>
                <div>
                    <label for="node-kind" class=LABEL>"Kind"</label>
                    <select id="node-kind" name="kind" class=INPUT
                        on:change=move |ev| {
                            if let Ok(kind) = NodeKind::parse(&event_target_value(&ev)) {
                                ports.set(default_ports_text(kind));
                            }
                        }>
                        {NodeKind::ALL.map(|k| view! { <option value=k.as_str()>{k.label()}</option> })}
                    </select>
                </div>
                <div>
                    <label for="node-role" class=LABEL>"Role"</label>
                    <select id="node-role" name="role" class=INPUT>
                        {NodeRole::ALL.map(|r| view! { <option value=r.as_str()>{role_option(r)}</option> })}
                    </select>
                    <FieldError messages=field_errors(error, "role") />
                </div>
                <div>
                    <label for="node-fqdn" class=LABEL>"FQDN"</label>
                    <input id="node-fqdn" name="fqdn" required class=INPUT placeholder="finesse1.example.com" autocomplete="off" />
                    <FieldError messages=field_errors(error, "fqdn") />
                </div>
                <div>
                    <label for="node-address" class=LABEL>"Management address (optional)"</label>
                    <input id="node-address" name="address" class=INPUT placeholder="10.0.0.15" autocomplete="off" />
                    <FieldError messages=field_errors(error, "address") />
                </div>
                <div>
                    <label for="node-version" class=LABEL>"Version (optional)"</label>
                    <input id="node-version" name="version" class=INPUT placeholder="12.6(2)" autocomplete="off" />
                </div>
                <div>
                    <label for="node-tags" class=LABEL>"Tags (comma-separated)"</label>
                    <input id="node-tags" name="tags" class=INPUT placeholder="dmz, side-a" autocomplete="off" />
                    <FieldError messages=field_errors(error, "tags") />
                </div>
                <div>
                    <label for="node-ports" class=LABEL>"Ports"</label>
                    <input id="node-ports" name="ports" class=INPUT prop:value=move || ports.get()
                        on:input=move |ev| ports.set(event_target_value(&ev)) autocomplete="off" />
                    <p class="mt-1 text-xs text-slate-600">"Empty: the kind's default ports."</p>
                    <FieldError messages=field_errors(error, "ports") />
                    <FieldError messages=field_errors(error, "endpoints") />
                </div>
                <div class="md:col-span-4"><button type="submit" class=BUTTON>"Add node"</button></div>
            </ActionForm>
        </Section>
        </Show>
    }
}

fn role_option(role: NodeRole) -> &'static str {
    match role {
        NodeRole::Primary => "primary / publisher",
        NodeRole::Secondary => "secondary / subscriber",
        NodeRole::SideA => "side A",
        NodeRole::SideB => "side B",
        NodeRole::None => "none (standalone)",
    }
}

/// The largest CSV file the page loads (about 100,000 rows; the REST import takes 32 MiB).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const PAGE_FILE_LIMIT: f64 = 12.0 * 1024.0 * 1024.0;

/// CSV export (a download) and import: pick a file or paste, preview every row's errors, then
/// import.
#[component]
fn CsvSection(action: ServerAction<ImportInventory>) -> impl IntoView {
    let error = error_of(action.value());
    let csv = RwSignal::new(String::new());
    let file_note = RwSignal::new(None::<String>);
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        read_csv_file(&ev, csv, file_note);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, csv, file_note);
    };
    let report = move || match action.value().get() {
        Some(Ok(report)) => Some(view! { <ImportResult report /> }),
        _ => None,
    };
    view! {
        <Section title="Import and export (CSV)" description="Columns: cluster,kind,role,fqdn,address,version,tags,ports (tags and ports separated by ';'; empty ports: the kind's defaults). Clusters are created when missing. Nothing is written unless every row is valid.">
            <div class="mb-3"><a href="/api/v1/inventory/export" download class=BUTTON_SECONDARY>"Export the inventory as CSV"</a></div>
            <ActionForm action attr:class="space-y-3">
                <ActionError error />
                <div>
                    <label for="csv-file" class=LABEL>"CSV file"</label>
                    <input id="csv-file" type="file" accept=".csv,text/csv,text/plain" on:change=on_file
                        class="mt-1 block text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-200" />
                    {move || file_note.get().map(|note| view! { <p class="mt-1 text-xs text-slate-600" data-testid="csv-file-note">{note}</p> })}
                </div>
                <label for="csv-text" class=LABEL>"CSV to import (the file's content, or paste it here)"</label>
                <textarea id="csv-text" name="csv" rows="6" required class=format!("{INPUT} font-mono text-xs")
                    prop:value=move || csv.get() on:input=move |ev| csv.set(event_target_value(&ev))
                    placeholder="cluster,kind,role,fqdn,address,version,tags,ports\nSite A,finesse,primary,finesse1.example.com,,12.6(2),side-a,"></textarea>
                <div class="flex flex-wrap items-center gap-4">
                    <label class="flex items-center gap-2 text-sm text-slate-700">
                        <input type="checkbox" name="dry_run" value="true" checked />
                        "Preview only (write nothing)"
                    </label>
                    <button type="submit" class=BUTTON>"Check and import"</button>
                </div>
                {report}
            </ActionForm>
        </Section>
    }
    .into_any()
}

/// Loads the picked file into the text box (in the browser; nothing is sent yet).
#[cfg(feature = "hydrate")]
fn read_csv_file(ev: &leptos::ev::Event, csv: RwSignal<String>, note: RwSignal<Option<String>>) {
    use web_sys::wasm_bindgen::JsCast;
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        return;
    };
    let name = file.name();
    if file.size() > PAGE_FILE_LIMIT {
        note.set(Some(format!(
            "{name} is {:.1} MB; this page loads files up to {:.0} MB. Import larger files with POST /api/v1/inventory/import (up to 32 MiB).",
            file.size() / 1_048_576.0,
            PAGE_FILE_LIMIT / 1_048_576.0
        )));
        return;
    }
    note.set(Some(format!("Reading {name}…")));
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(text) => {
                let text = text.as_string().unwrap_or_default();
                let rows = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .count()
                    .saturating_sub(1);
                note.set(Some(format!(
                    "{name}: {rows} row(s) loaded below. Check them, then import."
                )));
                csv.set(text);
            }
            Err(_) => note.set(Some(format!(
                "{name} could not be read (is it a text file?)."
            ))),
        }
    });
}

#[component]
fn ImportResult(report: ImportReport) -> impl IntoView {
    let summary = match (report.valid, report.imported) {
        (_, true) => format!("Imported {} nodes ({} endpoints){}.", report.nodes, report.endpoints, created("created", &report.clusters_created)),
        (true, false) => format!("All {} rows are valid: importing would add {} nodes ({} endpoints){}. Untick \"Preview only\" to import.", report.rows, report.nodes, report.endpoints, created("create", &report.clusters_created)),
        (false, _) => format!("{} error(s) in {} rows; nothing was written.", report.error_count, report.rows),
    };
    let ok = report.valid;
    view! {
        <div role="status" data-testid="import-result"
            class=if ok { "rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900" } else { "rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800" }>
            <p>{summary}</p>
            {(!report.errors.is_empty()).then(|| view! {
                <ul class="mt-2 max-h-64 space-y-0.5 overflow-y-auto font-mono text-xs" tabindex="0">
                    {report.errors.iter().map(|e| view! { <li>{format!("line {}, {}: {}", e.row, e.field, e.message)}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}

fn created(verb: &str, clusters: &[String]) -> String {
    if clusters.is_empty() {
        String::new()
    } else {
        format!(" and {verb} the clusters {}", clusters.join(", "))
    }
}

#[derive(Clone, Copy)]
struct TrustActions {
    add_ca: ServerAction<AddClusterCa>,
    remove_ca: ServerAction<RemoveClusterCa>,
    thresholds: ServerAction<SetClusterThresholds>,
}

/// A cluster's own expiry thresholds (its nodes inherit them unless they set their own).
#[component]
fn ClusterThresholds(
    cluster: ClusterSummary,
    admin: bool,
    action: ServerAction<SetClusterThresholds>,
) -> impl IntoView {
    let error = error_of(action.value());
    let value = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
    let shown =
        |v: Option<i32>, default: i64| v.map_or(format!("{default} (default)"), |v| v.to_string());
    let id = cluster.id;
    let rows = [
        (
            "warning_days",
            "Warning under (days)",
            cluster.warning_days,
            30,
        ),
        (
            "critical_days",
            "Critical under (days)",
            cluster.critical_days,
            14,
        ),
        (
            "warning_lifetime_percent",
            "Warning under (% of lifetime left)",
            cluster.warning_lifetime_percent,
            20,
        ),
    ];
    view! {
        <details class="border-t border-slate-200 px-5 py-3" data-testid="cluster-thresholds">
            <summary class="cursor-pointer text-sm font-medium text-slate-700">
                "Expiry thresholds"
                <span class="ml-2 text-xs font-normal text-slate-600">{rows.map(|(_, label, v, d)| format!("{label}: {}", shown(v, d))).join(" · ")}</span>
            </summary>
            {admin.then(|| view! {
                <ActionForm action attr:class="mt-3 grid gap-3 sm:grid-cols-4 sm:items-start">
                    <input type="hidden" name="id" value=id.to_string() />
                    {rows.map(|(name, label, v, _)| view! {
                        <div>
                            <label for=format!("ct-{name}-{id}") class=LABEL>{label}</label>
                            <input id=format!("ct-{name}-{id}") name=name inputmode="numeric" class=INPUT value=value(v) placeholder="default" />
                            <FieldError messages=field_errors(error, name) />
                        </div>
                    })}
                    <div class="sm:pt-6"><button type="submit" class=BUTTON>"Save thresholds"</button></div>
                </ActionForm>
            })}
        </details>
    }
    .into_any()
}

/// The CA certificates a cluster trusts: listed for everyone, added and removed by admins.
#[component]
fn TrustedCas(
    cluster_id: i64,
    cas: Vec<ClusterCa>,
    admin: bool,
    trust: TrustActions,
) -> impl IntoView {
    let error = error_of(trust.add_ca.value());
    let count = cas.len();
    view! {
        <details class="border-t border-slate-200 px-5 py-3" data-testid="trusted-cas">
            <summary class="cursor-pointer text-sm font-medium text-slate-700">
                {format!("Trusted CA certificates ({count})")}
                <span class="ml-2 text-xs font-normal text-slate-600">"Probes of this cluster's nodes are also verified against these, and chains that end at them are complete."</span>
            </summary>
            <ActionError error=error_of(trust.remove_ca.value()) />
            {if cas.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"None: probes are verified against the system's public roots only."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 divide-y divide-slate-100 text-sm">
                        {cas.into_iter().map(|ca| view! {
                            <li class="flex flex-wrap items-center justify-between gap-2 py-1.5">
                                <span>
                                    <span class="font-medium">{ca.subject.clone()}</span>
                                    <span class="ml-2 text-xs text-slate-600">{format!("until {} · added by {} · SHA-256 {}…", minute(&ca.not_after), ca.added_by, &ca.fingerprint_sha256[..16])}</span>
                                </span>
                                {admin.then(|| view! {
                                    <ActionForm action=trust.remove_ca>
                                        <input type="hidden" name="cluster_id" value=cluster_id.to_string() />
                                        <input type="hidden" name="fingerprint_sha256" value=ca.fingerprint_sha256.clone() />
                                        <button type="submit" class=BUTTON_DANGER>"Remove"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {admin.then(|| view! {
                <ActionForm action=trust.add_ca attr:class="mt-3 space-y-2">
                    <input type="hidden" name="cluster_id" value=cluster_id.to_string() />
                    <label for=format!("ca-pem-{cluster_id}") class=LABEL>"Add CA certificates (PEM; several blocks allowed)"</label>
                    <textarea id=format!("ca-pem-{cluster_id}") name="pem" rows="4" required class=INPUT placeholder="-----BEGIN CERTIFICATE-----"></textarea>
                    <FieldError messages=field_errors(error, "pem") />
                    <button type="submit" class=BUTTON>"Trust these CAs"</button>
                </ActionForm>
            })}
        </details>
    }
    .into_any()
}

#[component]
fn ClusterCard(
    cluster: ClusterSummary,
    nodes: Vec<Node>,
    cas: Vec<ClusterCa>,
    admin: bool,
    remove_node: ServerAction<RemoveNode>,
    remove_cluster: ServerAction<RemoveCluster>,
    trust: TrustActions,
) -> impl IntoView {
    let empty = nodes.is_empty();
    let id = cluster.id;
    let rows = nodes
        .into_iter()
        .map(|n| {
            let node_id = n.id;
            let ports = n.endpoints.iter().map(|e| e.port.to_string()).collect::<Vec<_>>().join(", ");
            view! {
                <tr data-testid="node-row">
                    <td class="py-2 pr-4 font-medium"><a class="underline" href=format!("/nodes/{node_id}")>{n.fqdn.clone()}</a></td>
                    <td class="py-2 pr-4">{n.kind.label()}</td>
                    <td class="py-2 pr-4">{n.kind.role_label(n.role)}</td>
                    <td class="py-2 pr-4 font-mono text-xs">{ports}</td>
                    <td class="py-2 pr-4 text-slate-600">{n.address.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class="py-2 pr-4 text-slate-600">{if n.version.is_empty() { "—".to_owned() } else { n.version.clone() }}</td>
                    <td class="py-2 pr-4 text-xs text-slate-600">{n.tags.join(", ")}</td>
                    <td class="py-2">
                        {admin.then(|| view! {
                            <ActionForm action=remove_node>
                                <input type="hidden" name="id" value=node_id.to_string() />
                                <button type="submit" class=BUTTON_DANGER>"Remove"</button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="cluster">
            <div class="flex items-center justify-between gap-4 border-b border-slate-200 px-5 py-3">
                <div>
                    <h2 class="text-sm font-semibold text-slate-800">{cluster.name.clone()}</h2>
                    <p class="text-xs text-slate-600">{format!("{} node(s)", cluster.nodes)}{(!cluster.description.is_empty()).then(|| format!(" · {}", cluster.description))}</p>
                </div>
                {(admin && empty).then(|| view! {
                    <ActionForm action=remove_cluster>
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class=BUTTON_DANGER>"Delete cluster"</button>
                    </ActionForm>
                })}
            </div>
            <div class="px-5 py-4">
                {if empty {
                    view! { <p class="text-sm text-slate-600">"No nodes in this cluster yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0">
                            <table class="min-w-full divide-y divide-slate-200 text-sm">
                                <thead>
                                    <tr class="text-left text-xs uppercase tracking-wide text-slate-600">
                                        <th class="py-2 pr-4">"FQDN"</th><th class="py-2 pr-4">"Kind"</th><th class="py-2 pr-4">"Role"</th>
                                        <th class="py-2 pr-4">"Ports"</th><th class="py-2 pr-4">"Address"</th><th class="py-2 pr-4">"Version"</th>
                                        <th class="py-2 pr-4">"Tags"</th><th class="py-2"></th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </div>
            <ClusterThresholds cluster=cluster.clone() admin action=trust.thresholds />
            <TrustedCas cluster_id=id cas admin trust />
        </section>
    }
}
