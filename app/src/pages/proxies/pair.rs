//! A pair's page: its configuration and plans, each instance's sessions, bans, upstreams,
//! certificates and counters, and the forms.

use super::plans::PlanList;
use super::settings::PairForms as Forms;
use super::{admin_signal, drift_note, health_badge, versions};
use crate::components::{
    ask_again, error_of, minute, param_id, ActionError, ErrorBox, Layout, Section, Table, BUTTON,
    BUTTON_DANGER,
};
use crate::server_fns::proxies::load_pair_forms;
use crate::server_fns::proxies::{
    load_pair, AddProxyBan, ApplyProxyPlan, LiftProxyBan, PlanPair, SavePairSettings,
};
use domain::proxies::{Instance, InstanceDetail, PairDetail};
use leptos::prelude::*;

#[component]
pub fn PairPage() -> impl IntoView {
    let id = param_id("id");
    let ban = ServerAction::<AddProxyBan>::new();
    let lift = ServerAction::<LiftProxyBan>::new();
    let plan = ServerAction::<PlanPair>::new();
    let apply = ServerAction::<ApplyProxyPlan>::new();
    let save = ServerAction::<SavePairSettings>::new();
    let tick = RwSignal::new(0u32);
    let data = Resource::new(
        move || {
            (
                id(),
                ban.version().get(),
                lift.version().get(),
                plan.version().get(),
                apply.version().get(),
                save.version().get(),
                tick.get(),
            )
        },
        |(id, ..)| load_pair(id),
    );
    // The forms' own data, not asked again every few seconds: what an admin types stays.
    let forms = Resource::new(
        move || (id(), save.version().get()),
        |(id, _)| load_pair_forms(id),
    );
    ask_again(tick, 5, move || data.get().is_some());
    let admin = admin_signal();
    view! {
        <Layout title="VPN-less proxy pair">
            <p class="text-sm"><a class="text-indigo-700 underline" href="/proxies">"All pairs"</a></p>
            <ActionError error=error_of(lift.value()) />
            <ActionError error=error_of(plan.value()) />
            <ActionError error=error_of(apply.value()) />
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading the pair…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(detail) => view! { <PairView detail admin=admin.get() lift plan apply /> }.into_any(),
                })}
            </Transition>
            <Transition fallback=|| ()>
                {move || forms.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(forms) => view! { <Forms forms id=id() admin=admin.get() ban save /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn PairView(
    detail: PairDetail,
    admin: bool,
    lift: ServerAction<LiftProxyBan>,
    plan: ServerAction<PlanPair>,
    apply: ServerAction<ApplyProxyPlan>,
) -> impl IntoView {
    let pair_id = detail.pair.id;
    let instances: Vec<Instance> = detail
        .instances
        .iter()
        .map(|i| i.instance.clone())
        .collect();
    view! {
        <h2 class="text-lg font-semibold" data-testid="pair-name">{detail.pair.name.clone()}</h2>
        <Section title="Configuration" description="Reconciled like any other change: a plan shows, per instance, every setting that changes; applying it tells both instances, and it counts as applied only when both report the new version in force. An instance serving another version than it was told is drift.">
            <ul class="mb-3 space-y-1 text-sm">
                {instances.iter().map(|i| view! {
                    <li data-testid="proxy-config-state">
                        <span class="font-medium">{format!("{} (side {}): ", i.name, i.side.to_uppercase())}</span>
                        {versions(i)}{drift_note(i)}
                    </li>
                }).collect_view()}
            </ul>
            {admin.then(|| view! {
                <ActionForm action=plan>
                    <input type="hidden" name="id" value=pair_id.to_string() />
                    <button type="submit" class=BUTTON>"Plan the configuration"</button>
                </ActionForm>
            })}
            <PlanList plans=detail.plans.clone() admin apply />
        </Section>
        {detail.instances.into_iter().map(|i| view! { <InstanceView detail=i admin lift /> }).collect_view()}
    }
}

#[component]
fn InstanceView(
    detail: InstanceDetail,
    admin: bool,
    lift: ServerAction<LiftProxyBan>,
) -> impl IntoView {
    let i = detail.instance.clone();
    let instance = i.id;
    let sessions = if detail.sessions.is_empty() {
        view! { <p class="text-sm text-slate-600">"Nobody is connected through this instance (as it last reported)."</p> }.into_any()
    } else {
        let rows = detail
            .sessions
            .iter()
            .map(|s| {
                view! {
                    <tr data-testid="proxy-session">
                        <td class="py-1 pr-3 font-medium">{s.user.clone()}</td>
                        <td class="py-1 pr-3 font-mono text-xs">{s.address.clone()}</td>
                        <td class="py-1 pr-3 text-xs">{format!("{} UTC", minute(&s.first))}</td>
                        <td class="py-1 pr-3 text-xs">{format!("{} UTC", minute(&s.last))}</td>
                        <td class="py-1 pr-3">{s.requests}</td>
                        <td class="py-1 pr-3">{s.websockets}</td>
                    </tr>
                }
            })
            .collect_view();
        view! { <Table headers=&["User", "Address", "First request", "Last request", "Requests", "WebSockets"]>{rows}</Table> }.into_any()
    };
    let bans = if detail.bans.is_empty() {
        view! { <p class="text-sm text-slate-600">"No ban in force."</p> }.into_any()
    } else {
        let rows = detail
            .bans
            .iter()
            .map(|b| {
                let key = b.key.clone();
                view! {
                    <tr data-testid="proxy-ban">
                        <td class="py-1 pr-3 font-mono text-xs">{b.target.clone()}</td>
                        <td class="py-1 pr-3 text-xs">{b.reason.clone()}</td>
                        <td class="py-1 pr-3 text-xs">{match b.origin.as_str() {
                            "here" => "this instance (failed sign-ins)",
                            "peer" => "the other instance",
                            "console" => "an admin",
                            _ => "?",
                        }}</td>
                        <td class="py-1 pr-3 text-xs">{format!("{} min left", b.seconds_left.div_ceil(60))}</td>
                        <td class="py-1 pr-3">
                            {admin.then(|| view! {
                                <ActionForm action=lift>
                                    <input type="hidden" name="instance" value=instance.to_string() />
                                    <input type="hidden" name="target" value=key />
                                    <button type="submit" class=BUTTON_DANGER>"Lift"</button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! { <Table headers=&["Banned", "Why", "Decided by", "Time left", ""]>{rows}</Table> }
            .into_any()
    };
    let upstreams = detail
        .upstreams
        .iter()
        .map(|u| view! {
            <li class="text-sm">
                <span class="font-mono text-xs">{u.upstream.clone()}</span>" · "
                {if u.up { view! { <span class="text-emerald-800">"answering"</span> }.into_any() } else { view! { <span class="text-red-700">{format!("failing: {}", u.last_error.clone().unwrap_or_default())}</span> }.into_any() }}
            </li>
        })
        .collect_view();
    let served = detail
        .served
        .iter()
        .map(|c| view! {
            <li class="text-sm">
                {c.listener.clone().map(|l| format!("on {l}: ")).unwrap_or_else(|| "to upstreams (client certificate): ".into())}
                <span class="font-medium">{c.subject.clone()}</span>
                {format!(" · expires {} ({} days)", minute(&c.not_after), c.days_left)}
            </li>
        })
        .collect_view();
    let counters = detail
        .counters
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <Section title="Instance" description=format!("{} (side {}) · {} · last report {}", i.name, i.side.to_uppercase(), versions(&i), i.last_seen.as_deref().map(|t| format!("{} UTC", minute(t))).unwrap_or_else(|| "never".into()))>
            <div class="space-y-4">
                <div>{health_badge(&i.health)}{i.refused.clone().map(|r| view! { <p class="mt-1 text-sm text-red-700">"Refused "{r}</p> })}</div>
                <div><h3 class="mb-1 text-sm font-semibold">"Connected through it"</h3>{sessions}</div>
                <div><h3 class="mb-1 text-sm font-semibold">"Bans"</h3>{bans}</div>
                <div><h3 class="mb-1 text-sm font-semibold">"Upstreams"</h3>
                    {if detail.upstreams.is_empty() {
                        view! { <p class="text-sm text-slate-600">"No upstream asked yet (nothing forwarded since the instance started)."</p> }.into_any()
                    } else {
                        view! { <ul>{upstreams}</ul> }.into_any()
                    }}
                </div>
                <div><h3 class="mb-1 text-sm font-semibold">"Certificates it serves"</h3><ul>{served}</ul></div>
                <p class="text-xs text-slate-600">{format!("Requests by outcome: {}", if counters.is_empty() { "none yet".into() } else { counters })}{format!(" · static cache: {} files, {} served from it", detail.cache_entries, detail.cache_hits)}</p>
            </div>
        </Section>
    }
}
