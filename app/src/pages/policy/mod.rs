//! The access policy: every cluster's standing (`/access-policy`), and one cluster's policy
//! (`/access-policy/:cluster`): the editor, drift, pending restarts, versions; plans at
//! `/plans/:id`.

mod editor;
mod history;
mod listener;
mod operations;
mod sharing;

use crate::components::{
    minute, open_plan_when_made, EmptyState, ErrorBox, Layout, Section, Table, BUTTON,
};
use crate::server_fns::auth::whoami;
use crate::server_fns::policy::{
    load_operations, load_policies, load_policy, AdoptNode, FollowPolicy, LeavePolicy, MakePlan,
    RestartService, RestoreVersion, RollingRestart, SavePolicy,
};
use domain::access_policy::ClusterStanding;
use leptos::prelude::*;

pub(crate) fn admin_signal() -> Signal<bool> {
    let me = Resource::new(|| (), |_| whoami());
    Signal::derive(move || {
        me.get()
            .and_then(|m| m.ok().flatten())
            .is_some_and(|m| m.is_admin())
    })
}

/// A plan's or node's state as a coloured word.
#[component]
pub fn StateWord(#[prop(into)] state: String) -> impl IntoView {
    let class = match state.as_str() {
        "applied" | "verified" | "in_sync" | "done" | "propagated" => {
            "bg-emerald-50 text-emerald-800 ring-emerald-600/30"
        }
        "failed" | "unreachable" | "changed" | "stale" => "bg-red-50 text-red-800 ring-red-600/30",
        "applying" | "reading" | "running" | "verifying" | "queued" => {
            "bg-sky-50 text-sky-800 ring-sky-600/30"
        }
        "ready" | "planned" | "pending" => "bg-amber-50 text-amber-900 ring-amber-600/30",
        _ => "bg-slate-100 text-slate-700 ring-slate-500/30",
    };
    let label = state.replace('_', " ");
    view! { <span class=format!("inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {class}") data-state=state>{label}</span> }
}

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_policies());
    view! {
        <Layout title="Access policy">
            <p class="text-sm text-slate-700">"One policy per cluster (or one shared by the clusters behind one proxy pair): which reverse proxies Finesse, IdS, CUIC and LiveData trust, client-auth, CORS and frame-ancestors. Changes are planned, shown, applied over SSH to every node, verified, and watched for drift."</p>
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(clusters) if clusters.is_empty() => view! {
                        <EmptyState title="No clusters yet" body="Add a cluster and its Finesse, IdS, CUIC and LiveData nodes in the inventory; each cluster then gets its access policy here." />
                    }.into_any(),
                    Ok(clusters) => view! { <Standings clusters /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn Standings(clusters: Vec<ClusterStanding>) -> impl IntoView {
    view! {
        <Table headers=&["Cluster", "Policy", "Latest plan", "Drift", "Restarts pending"]>
            {clusters.into_iter().map(|c| {
                let version = match (c.version, c.shared_with.is_empty()) {
                    (0, _) => "none yet".to_owned(),
                    (v, true) => format!("version {v}"),
                    (v, false) => format!("version {v}, shared with {}", c.shared_with.join(", ")),
                };
                view! {
                    <tr class="border-t border-slate-100" data-testid="standing">
                        <td class="py-2 pr-3"><a class="font-medium text-indigo-700 hover:underline" href=format!("/access-policy/{}", c.cluster_id)>{c.cluster.clone()}</a>
                            <span class="ml-2 text-xs text-slate-600">{if c.nodes == 0 { "no Finesse, IdS, CUIC or LiveData node".to_owned() } else { format!("{} managed node(s)", c.nodes) }}</span></td>
                        <td class="py-2 pr-3">{version}</td>
                        <td class="py-2 pr-3">{match (c.plan_id, c.plan_state) {
                            (Some(id), Some(state)) => view! { <a href=format!("/plans/{id}") class="hover:underline"><StateWord state=state.as_str() /></a> }.into_any(),
                            _ => view! { <span class="text-slate-600">"—"</span> }.into_any(),
                        }}</td>
                        <td class={if c.drift > 0 { "py-2 pr-3 font-semibold text-red-700" } else { "py-2 pr-3" }}>{c.drift}</td>
                        <td class="py-2 pr-3">{c.restarts}</td>
                    </tr>
                }
            }).collect_view()}
        </Table>
    }
}

#[component]
pub fn ClusterPolicyPage() -> impl IntoView {
    let id = crate::components::param_id("cluster");
    let save = ServerAction::<SavePolicy>::new();
    let restore = ServerAction::<RestoreVersion>::new();
    let adopt = ServerAction::<AdoptNode>::new();
    let make = ServerAction::<MakePlan>::new();
    let restart = ServerAction::<RestartService>::new();
    let rolling = ServerAction::<RollingRestart>::new();
    let follow = ServerAction::<FollowPolicy>::new();
    let leave = ServerAction::<LeavePolicy>::new();
    let changed = RwSignal::new(0u32);
    let page = Resource::new(
        move || {
            (
                id(),
                save.version().get(),
                restore.version().get(),
                adopt.version().get(),
                follow.version().get(),
                leave.version().get(),
            )
        },
        |(id, ..)| load_policy(id),
    );
    // Drift and restarts apart: a check or a restart ending redraws them, not the editor.
    let operations = Resource::new(
        move || (id(), adopt.version().get(), changed.get()),
        |(id, ..)| load_operations(id),
    );
    let admin = admin_signal();
    open_plan_when_made(make.value());
    view! {
        <Layout title="Access policy">
            <operations::RestartProgress restart rolling changed />
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                {move || page.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(p) => {
                        let cluster = p.standing.cluster_id;
                        let latest = p.policy.version;
                        let heading = match (&p.policy.author, &p.policy.saved_at) {
                            (Some(author), Some(at)) => format!("Version {} saved by {author} at {} UTC{}", p.policy.version, minute(at),
                                if p.policy.reason.is_empty() { String::new() } else { format!(": {}", p.policy.reason) }),
                            _ => "No policy saved yet: nothing on these nodes is managed. Enter the proxies and save the first version.".into(),
                        };
                        view! {
                            <div class="flex flex-wrap items-center justify-between gap-3">
                                <div>
                                    <h2 class="text-lg font-semibold text-slate-900" data-testid="cluster-name">{p.standing.cluster.clone()}</h2>
                                    <p class="text-sm text-slate-700" data-testid="policy-version">{heading}</p>
                                    {p.standing.plan_id.map(|plan| view! {
                                        <p class="text-sm text-slate-700">"Latest plan: "
                                            <a class="text-indigo-700 underline" href=format!("/plans/{plan}")>{format!("#{plan}")}</a>" "
                                            <StateWord state=p.standing.plan_state.map(|s| s.as_str()).unwrap_or_default() /></p>
                                    })}
                                </div>
                                {(admin.get() && p.policy.version > 0).then(|| view! {
                                    <ActionForm action=make>
                                        <input type="hidden" name="cluster_id" value=cluster.to_string() />
                                        <button type="submit" class=BUTTON disabled=move || make.pending().get()>"Plan changes"</button>
                                    </ActionForm>
                                })}
                            </div>
                            {move || make.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
                            <Section title="Policy" description="Hosts, origins and sources one per line. Problems show as you type; names are checked against the inventory and DNS when you save.">
                                <editor::PolicyEditor cluster_id=cluster view=p.policy.clone() save admin=admin.get() />
                            </Section>
                            <sharing::Sharing cluster_id=cluster shared_with=p.standing.shared_with.clone() candidates=p.candidates.clone() admin=admin.get() follow leave />
                            <Transition fallback=|| ()>
                                {move || operations.get().map(|result| match result {
                                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                                    Ok(o) => view! {
                                        <operations::DriftSection drift=o.drift admin=admin.get() adopt changed />
                                        <operations::RestartsSection cluster_id=cluster restarts=o.restarts admin=admin.get() restart rolling />
                                    }.into_any(),
                                })}
                            </Transition>
                            <history::Versions cluster_id=cluster versions=p.versions.clone() latest admin=admin.get() restore />
                        }.into_any()
                    }
                })}
            </Transition>
        </Layout>
    }
}
