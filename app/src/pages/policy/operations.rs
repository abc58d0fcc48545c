//! A cluster's drift (with "check now" and adopting a node's state) and the restarts its
//! applied changes left pending (one at a time, or rolling across the cluster).

use super::StateWord;
use crate::components::{minute, ErrorBox, Section, Table, BUTTON, BUTTON_SECONDARY};
use crate::server_fns::policy::{
    load_restart, AdoptNode, CheckDrift, RestartService, RollingRestart,
};
use domain::appliances::PendingRestart;
use domain::reconcile::Drift;
use leptos::prelude::*;

#[component]
pub fn DriftSection(
    drift: Vec<Drift>,
    admin: bool,
    adopt: ServerAction<AdoptNode>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let check = ServerAction::<CheckDrift>::new();
    Effect::new(move |_| {
        if check.value().get().is_some() {
            changed.update(|c| *c = c.wrapping_add(1));
        }
    });
    let empty = drift.is_empty();
    view! {
        <Section title="Drift" description="What the nodes have that the policy last applied does not say (an entry added or removed by hand, client-auth switched), as the periodic check last read them. Apply the policy again to undo it, or adopt a node's state as the next version.">
            <div class="space-y-3" data-testid="drift">
                {admin.then(|| view! {
                    <ActionForm action=check attr:class="flex items-center gap-3">
                        <button type="submit" class=BUTTON_SECONDARY disabled=move || check.pending().get()>
                            {move || if check.pending().get() { "Reading the nodes…" } else { "Check now" }}
                        </button>
                    </ActionForm>
                })}
                {move || check.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
                {move || adopt.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
                {empty.then(|| view! { <p class="text-sm text-slate-700">"No drift: every managed node matched the policy at its last check (nodes under a policy never applied are not checked)."</p> })}
                {(!empty).then(|| view! {
                    <Table headers=&["Node", "Item", "Difference", "Since", ""]>
                        {drift.into_iter().map(|d| view! {
                            <tr class="border-t border-slate-100 align-top" data-testid="drift-row">
                                <td class="py-2 pr-3"><a class="text-indigo-700 hover:underline" href=format!("/nodes/{}", d.node_id)>{d.fqdn.clone()}</a></td>
                                <td class="py-2 pr-3 font-mono text-xs">{d.item.clone()}</td>
                                <td class="py-2 pr-3 text-xs"><Difference drift=d.clone() /></td>
                                <td class="py-2 pr-3 whitespace-nowrap">{minute(&d.since)}</td>
                                <td class="py-2 pr-3">{admin.then(|| view! {
                                    <ActionForm action=adopt>
                                        <input type="hidden" name="node_id" value=d.node_id.to_string() />
                                        <button type="submit" class=BUTTON_SECONDARY title="Save this node's state as the next policy version">"Adopt"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                })}
            </div>
        </Section>
    }
}

/// What differs, in words: a list's entries the node has beyond the policy and lacks, or a
/// setting's two values.
#[component]
fn Difference(drift: Drift) -> impl IntoView {
    use domain::access_policy::items::{ALLOWED_HOSTS, CORS_ORIGINS, FRAME_ANCESTORS};
    if ![ALLOWED_HOSTS, CORS_ORIGINS, FRAME_ANCESTORS].contains(&drift.item.as_str()) {
        return view! { <span class="font-mono">{format!("policy: {} · node: {}", drift.expected, drift.actual)}</span> }.into_any();
    }
    let entries = |text: &str| -> Vec<String> {
        if text == "none" {
            Vec::new()
        } else {
            text.split(", ").map(str::to_owned).collect()
        }
    };
    let (want, have) = (entries(&drift.expected), entries(&drift.actual));
    let missing = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter()
            .filter(|x| !b.iter().any(|y| y.eq_ignore_ascii_case(x)))
            .cloned()
            .collect()
    };
    let extra = missing(&have, &want);
    let lacks = missing(&want, &have);
    view! {
        {(!extra.is_empty()).then(|| view! { <p class="font-mono text-red-800">{format!("the node also has: {}", extra.join(", "))}</p> })}
        {(!lacks.is_empty()).then(|| view! { <p class="font-mono text-amber-900">{format!("the node lacks: {}", lacks.join(", "))}</p> })}
    }
    .into_any()
}

/// The restarts asked for on this page as they run. Kept outside the page's data so that the
/// page reloading (as each restart ends) does not lose them.
#[component]
pub fn RestartProgress(
    restart: ServerAction<RestartService>,
    rolling: ServerAction<RollingRestart>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    view! {
        <div class="space-y-2">
            {move || restart.value().get().map(|result| match result {
                Err(error) => view! { <ErrorBox error /> }.into_any(),
                Ok(r) => view! { <RestartLines restart_id=r.id changed /> }.into_any(),
            })}
            {move || rolling.value().get().map(|result| match result {
                Err(error) => view! { <ErrorBox error /> }.into_any(),
                Ok(ids) => ids.into_iter().map(|id| view! { <RestartLines restart_id=id changed /> }).collect_view().into_any(),
            })}
        </div>
    }
}

#[component]
pub fn RestartsSection(
    cluster_id: i64,
    restarts: Vec<PendingRestart>,
    admin: bool,
    restart: ServerAction<RestartService>,
    rolling: ServerAction<RollingRestart>,
) -> impl IntoView {
    let empty = restarts.is_empty();
    view! {
        <Section title="Restarts pending" description="Applied changes take effect once these services restart. Restart one node at a time, or roll across the cluster: one node after another, the primary first, stopping at the first failure.">
            <div class="space-y-3" data-testid="restarts">
                {empty.then(|| view! { <p class="text-sm text-slate-700">"Nothing to restart."</p> })}
                {(!empty && admin).then(|| view! {
                    <ActionForm action=rolling>
                        <input type="hidden" name="cluster_id" value=cluster_id.to_string() />
                        <button type="submit" class=BUTTON disabled=move || rolling.pending().get()>"Rolling restart"</button>
                    </ActionForm>
                })}
                {(!empty).then(|| view! {
                    <Table headers=&["Node", "Service", "Since", ""]>
                        {restarts.into_iter().map(|r| view! {
                            <tr class="border-t border-slate-100" data-testid="restart-row">
                                <td class="py-2 pr-3">{r.fqdn.clone()}</td>
                                <td class="py-2 pr-3">{r.service.clone()}</td>
                                <td class="py-2 pr-3 whitespace-nowrap">{minute(&r.since)}</td>
                                <td class="py-2 pr-3">{admin.then(|| view! {
                                    <ActionForm action=restart>
                                        <input type="hidden" name="node_id" value=r.node_id.to_string() />
                                        <input type="hidden" name="service" value=r.service.clone() />
                                        <button type="submit" class=BUTTON_SECONDARY disabled=move || restart.pending().get()>"Restart"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                })}
            </div>
        </Section>
    }
}

/// One restart's streamed states, asked again every second until it ends.
#[component]
fn RestartLines(restart_id: i64, changed: RwSignal<u32>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let data = Resource::new(move || tick.get(), move |_| load_restart(restart_id));
    Effect::new(move |reported: Option<bool>| {
        let Some(Ok(r)) = data.get() else {
            return reported.unwrap_or(false);
        };
        if matches!(r.state.as_str(), "queued" | "running") {
            set_timeout(
                move || tick.update(|t| *t = t.wrapping_add(1)),
                std::time::Duration::from_secs(1),
            );
            false
        } else {
            if reported != Some(true) {
                changed.update(|c| *c = c.wrapping_add(1));
            }
            true
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || data.get().and_then(Result::ok).map(|r| view! {
                <div class="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm" data-testid="restart-progress">
                    <p class="flex items-center gap-2"><span class="font-medium">{format!("{}: {}", r.fqdn, r.service)}</span><StateWord state=r.state.clone() /></p>
                    <pre class="mt-1 whitespace-pre-wrap font-mono text-xs text-slate-800">{r.lines.join("\n")}</pre>
                    {r.error.map(|e| view! { <p class="mt-1 text-xs text-red-700">{e}</p> })}
                </div>
            })}
        </Transition>
    }
}
