//! A plan of the reconciliation engine (`/plans/:id`; an access policy's also at
//! `/access-policy/plans/:id`): per node the commands it will run (the diff), then as it is
//! applied each command's outcome and output, the node's verification, what still differs, and
//! the restarts it needs. Asked again every second while nodes are read or changed.

use super::policy::{admin_signal, StateWord};
use crate::components::{minute, ErrorBox, Layout, BUTTON, BUTTON_DANGER};
use crate::server_fns::policy::{load_plan, ApplyPlan, CancelPlan};
use domain::reconcile::{About, NodeState, PlanNodeView, PlanState, PlanView};
use leptos::prelude::*;

#[component]
pub fn PlanPage() -> impl IntoView {
    let id = crate::components::param_id("id");
    let apply = ServerAction::<ApplyPlan>::new();
    let cancel = ServerAction::<CancelPlan>::new();
    let tick = RwSignal::new(0u32);
    let plan = Resource::new(
        move || {
            (
                id(),
                tick.get(),
                apply.version().get(),
                cancel.version().get(),
            )
        },
        |(id, ..)| load_plan(id),
    );
    Effect::new(move |_| {
        if let Some(Ok(p)) = plan.get() {
            if p.state.is_running() {
                set_timeout(
                    move || tick.update(|t| *t = t.wrapping_add(1)),
                    std::time::Duration::from_secs(1),
                );
            }
        }
    });
    let admin = admin_signal();
    view! {
        <Layout title="Plan">
            {move || apply.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
            {move || cancel.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                {move || plan.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(p) => view! { <PlanBody plan=p admin=admin.get() apply cancel /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

fn summary(plan: &PlanView) -> String {
    let count = |state: NodeState| plan.nodes.iter().filter(|n| n.state == state).count();
    let mut parts = vec![format!("{} node(s)", plan.nodes.len())];
    for (state, label) in [
        (NodeState::Planned, "to change"),
        (NodeState::InSync, "already as desired"),
        (NodeState::Verified, "verified"),
        (NodeState::Failed, "failed"),
        (NodeState::Changed, "changed since the plan"),
        (NodeState::Unreachable, "not readable"),
        (NodeState::Cancelled, "cancelled"),
    ] {
        let n = count(state);
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    format!("{} · {} command(s)", parts.join(", "), plan.step_count())
}

#[component]
fn PlanBody(
    plan: PlanView,
    admin: bool,
    apply: ServerAction<ApplyPlan>,
    cancel: ServerAction<CancelPlan>,
) -> impl IntoView {
    let id = plan.id;
    let state = plan.state;
    let About { of, href, link } = plan.about.clone();
    // Version 0: a subject without versions (a one-off import).
    let from = match plan.version {
        0 => format!("for {of}"),
        version => format!("from {of} version {version}"),
    };
    let made = format!(
        "Made by {} at {} UTC {from}",
        plan.created_by,
        minute(&plan.created_at),
    );
    let confirmed = plan.confirmed_by.clone().map(|by| {
        format!(
            "Confirmed by {by} at {} UTC",
            plan.confirmed_at.as_deref().map(minute).unwrap_or_default()
        )
    });
    let can_apply = admin && state.can_apply() && plan.step_count() > 0;
    let can_cancel = admin && state.can_cancel();
    let apply_label = match state {
        PlanState::Ready => format!("Apply {} command(s)", plan.step_count()),
        _ => "Resume".to_owned(),
    };
    view! {
        <div class="flex flex-wrap items-start justify-between gap-3 rounded-lg border border-slate-200 bg-white p-4">
            <div>
                <h2 class="flex items-center gap-2 text-lg font-semibold text-slate-900">{format!("Plan #{id}")}<StateWord state=state.as_str() /></h2>
                <p class="text-sm text-slate-700" data-testid="plan-summary">{summary(&plan)}</p>
                <p class="text-xs text-slate-600">{made}</p>
                {confirmed.map(|c| view! { <p class="text-xs text-slate-600">{c}</p> })}
                <p class="text-sm"><a class="text-indigo-700 hover:underline" href=href>{link}</a></p>
            </div>
            <div class="flex items-center gap-2">
                {can_apply.then(|| view! {
                    <ActionForm action=apply>
                        <input type="hidden" name="plan_id" value=id.to_string() />
                        <button type="submit" class=BUTTON disabled=move || apply.pending().get() data-testid="apply">{apply_label.clone()}</button>
                    </ActionForm>
                })}
                {can_cancel.then(|| view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="plan_id" value=id.to_string() />
                        <button type="submit" class=BUTTON_DANGER>"Cancel"</button>
                    </ActionForm>
                })}
            </div>
        </div>
        {(state == PlanState::Ready).then(|| view! {
            <p class="text-sm text-slate-700">"Nothing has run yet. Read the commands below; applying runs them node by node (each cluster's primary first), then reads every node again: only nodes that show the desired state count as applied."</p>
        })}
        <div class="space-y-4">
            {plan.nodes.into_iter().map(|n| view! { <NodeCard node=n /> }).collect_view()}
        </div>
    }
}

#[component]
fn NodeCard(node: PlanNodeView) -> impl IntoView {
    let steps = node.steps.clone();
    view! {
        <div class="rounded-lg border border-slate-200 bg-white p-4" data-testid="plan-node" data-fqdn=node.fqdn.clone()>
            <div class="flex flex-wrap items-center justify-between gap-2">
                <p><a class="font-medium text-indigo-700 hover:underline" href=format!("/nodes/{}", node.node_id)>{node.fqdn.clone()}</a>
                    <span class="ml-2 text-xs text-slate-600">{format!("{} · {} · {}", node.cluster, node.kind, node.role)}</span></p>
                <StateWord state=node.state.as_str() />
            </div>
            {node.error.clone().map(|e| view! { <p class="mt-2 whitespace-pre-wrap rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e}</p> })}
            {(node.state == NodeState::InSync).then(|| view! { <p class="mt-2 text-sm text-slate-700">"Already as desired: nothing to run."</p> })}
            {(!steps.is_empty()).then(|| view! {
                <ol class="mt-3 space-y-1">
                    {steps.into_iter().map(|s| view! {
                        <li class="text-sm" data-testid="step" data-state=s.state.as_str()>
                            <div class="flex items-start gap-2">
                                <StateWord state=s.state.as_str() />
                                <code class="min-w-0 flex-1 break-all font-mono text-xs text-slate-900">{s.command.clone()}</code>
                            </div>
                            {s.error.clone().map(|e| view! { <p class="ml-2 mt-1 text-xs text-red-700">{e}</p> })}
                            {s.output.clone().map(|out| view! {
                                <details class="ml-2 mt-1"><summary class="cursor-pointer text-xs text-slate-600">"Output"</summary>
                                    <pre class="mt-1 max-h-48 overflow-auto whitespace-pre-wrap rounded bg-slate-50 p-2 font-mono text-xs text-slate-800">{out}</pre></details>
                            })}
                        </li>
                    }).collect_view()}
                </ol>
            })}
            {(!node.skipped.is_empty()).then(|| view! {
                <ul class="mt-3 space-y-0.5 text-xs text-slate-600">
                    {node.skipped.iter().map(|s| view! { <li>{format!("Left alone: {}: {}", s.item, s.reason)}</li> }).collect_view()}
                </ul>
            })}
            {(!node.restarts.is_empty()).then(|| view! {
                <p class="mt-2 text-xs text-slate-700">{format!("Restarts these changes ask for (restart them from the cluster's access-policy page): {}", node.restarts.join(", "))}</p>
            })}
            {(!node.remaining.is_empty()).then(|| view! {
                <div class="mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-xs text-amber-900" data-testid="remaining">
                    <p class="font-medium">"Still differs from the desired state:"</p>
                    <ul class="mt-1 space-y-0.5 font-mono">
                        {node.remaining.iter().map(|r| view! { <li>{format!("{}: desired {} · node {}", r.item, r.expected, r.actual)}</li> }).collect_view()}
                    </ul>
                </div>
            })}
        </div>
    }
}
