//! A pair's configuration plans: each with what changes per instance, applied by an admin.

use crate::components::{minute, BUTTON};
use crate::server_fns::proxies::ApplyProxyPlan;
use domain::proxies::ProxyPlan;
use leptos::prelude::*;

/// A plan's state in words, coloured.
fn plan_state(plan: &ProxyPlan) -> impl IntoView {
    let (class, text) = match plan.state.as_str() {
        "ready" => (
            "bg-indigo-100 text-indigo-900",
            "ready: nothing told to the instances yet",
        ),
        "applying" => (
            "bg-amber-100 text-amber-900",
            "applying: waiting for both instances' reports",
        ),
        "applied" => ("bg-emerald-100 text-emerald-900", "applied and verified"),
        "failed" => ("bg-red-100 text-red-900", "failed"),
        _ => ("bg-slate-100 text-slate-800", "superseded by a newer plan"),
    };
    view! { <span class=format!("rounded px-2 py-0.5 text-xs font-medium {class}") data-testid="proxy-plan-state">{text}</span> }
}

/// The pair's plans, newest first: the newest open, with every change per instance.
#[component]
pub(super) fn PlanList(
    plans: Vec<ProxyPlan>,
    admin: bool,
    apply: ServerAction<ApplyProxyPlan>,
) -> impl IntoView {
    if plans.is_empty() {
        return view! { <p class="mt-3 text-sm text-slate-600">"No plan yet: plan the configuration to see what the instances would serve."</p> }.into_any();
    }
    plans
        .into_iter()
        .enumerate()
        .map(|(n, plan)| {
            let id = plan.id;
            let ready = plan.state == "ready";
            let per_instance = plan
                .instances
                .iter()
                .map(|i| {
                    let changes = if i.changes.is_empty() {
                        view! { <p class="text-xs text-slate-600">"No setting changes: the same document."</p> }.into_any()
                    } else {
                        let n = i.changes.len();
                        let list = i
                            .changes
                            .iter()
                            .map(|c| view! {
                                <li data-testid="proxy-plan-change" class="break-words py-0.5 font-mono text-xs">
                                    <span class="font-semibold">{c.path.clone()}</span>": "
                                    <span class="text-red-800">{c.from.clone()}</span>" → "
                                    <span class="text-emerald-800">{c.to.clone()}</span>
                                </li>
                            })
                            .collect_view();
                        let summary = if i.from == 0 {
                            format!("A first configuration: {n} settings")
                        } else {
                            format!("{n} settings change")
                        };
                        // A long list (a first configuration) is folded; a few changes show.
                        view! {
                            <details class="mt-1" open=n <= 12>
                                <summary class="cursor-pointer text-xs text-slate-700">{summary}</summary>
                                <ul class="mt-1 border-l-2 border-slate-200 pl-3">{list}</ul>
                            </details>
                        }
                        .into_any()
                    };
                    let told = if i.from == 0 { "nothing told yet".to_owned() } else { format!("told version {}", i.from) };
                    view! {
                        <div class="mt-2">
                            <p class="text-sm font-medium">{format!("{}: {told} → version {}", i.name, i.to)}
                                {i.outcome.clone().map(|o| view! { <span class="ml-2 text-xs font-normal text-slate-700">{format!("({o})")}</span> })}
                            </p>
                            {changes}
                        </div>
                    }
                })
                .collect_view();
            view! {
                <details class="mt-3 rounded-md border border-slate-200 px-3 py-2" open=n == 0 data-testid="proxy-plan">
                    <summary class="cursor-pointer text-sm">
                        <span class="font-medium">{format!("Plan {id} · version {} · by {} at {} UTC ", plan.version, plan.created_by, minute(&plan.created_at))}</span>
                        {plan_state(&plan)}
                    </summary>
                    {plan.error.clone().map(|e| view! { <p class="mt-2 text-sm text-red-700" role="alert">{e}</p> })}
                    {per_instance}
                    {(admin && ready).then(|| view! {
                        <ActionForm action=apply attr:class="mt-3">
                            <input type="hidden" name="plan" value=id.to_string() />
                            <button type="submit" class=BUTTON>{format!("Apply plan {id} to both instances")}</button>
                        </ActionForm>
                    })}
                </details>
            }
        })
        .collect_view()
        .into_any()
}
