//! The forms that add a cluster and a node.

use super::*;

#[component]
pub(super) fn ClusterForm(action: ServerAction<AddCluster>) -> impl IntoView {
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
pub(super) fn NodeForm(
    action: ServerAction<SaveNode>,
    clusters: Signal<Vec<ClusterSummary>>,
) -> impl IntoView {
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
