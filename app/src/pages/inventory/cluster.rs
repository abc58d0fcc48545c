//! One cluster's card: its nodes, its own expiry thresholds and its trusted CA certificates.

use super::*;

#[derive(Clone, Copy)]
pub(super) struct TrustActions {
    pub(super) add_ca: ServerAction<AddClusterCa>,
    pub(super) remove_ca: ServerAction<RemoveClusterCa>,
    pub(super) thresholds: ServerAction<SetClusterThresholds>,
}

/// A cluster's own expiry thresholds (its nodes inherit them unless they set their own).
#[component]
pub(super) fn ClusterThresholds(
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
pub(super) fn TrustedCas(
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
pub(super) fn ClusterCard(
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
                {(!empty).then(|| view! {
                    <div class="ml-auto flex gap-4">
                        <a class="text-sm font-medium text-indigo-700 underline" href=format!("/clusters/{id}/posture")>"Security posture"</a>
                        <a class="text-sm font-medium text-indigo-700 underline" href=format!("/clusters/{id}/trust")>"Trust matrix"</a>
                    </div>
                })}
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
