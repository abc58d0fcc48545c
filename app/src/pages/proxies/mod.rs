//! gatehouse-proxy pairs: every pair with its two instances (what each serves, whether it
//! follows, when it last reported), and a page per pair with who is connected through each
//! instance, whom it bans (lift, add), its upstreams, the certificates it serves and its
//! counters. Admins plan the pair's configuration (every setting that changes, per instance),
//! apply the plan (verified by both instances' reports) and issue the instances' tokens;
//! an instance serving another version than it was told shows as drift.
mod new_pair;
mod pair;
mod plans;
mod settings;

pub use pair::PairPage;

use crate::components::{
    ask_again, error_of, minute, ActionError, EmptyState, ErrorBox, Layout, Section, Table,
    BUTTON_DANGER, BUTTON_SECONDARY,
};
use crate::server_fns::auth::whoami;
use crate::server_fns::proxies::{list_pairs, CreatePair, IssueProxyToken, RevokeProxyToken};
use domain::proxies::{Instance, Pair};
use leptos::prelude::*;
use new_pair::NewPairForm;

/// Whether the signed-in user is an admin (the page's actions are theirs).
pub(super) fn admin_signal() -> Signal<bool> {
    let me = Resource::new(|| (), |_| whoami());
    Signal::derive(move || {
        me.get()
            .and_then(|m| m.ok().flatten())
            .is_some_and(|m| m.is_admin())
    })
}

#[component]
pub fn ProxiesPage() -> impl IntoView {
    let token = ServerAction::<IssueProxyToken>::new();
    let revoke = ServerAction::<RevokeProxyToken>::new();
    let create = ServerAction::<CreatePair>::new();
    let tick = RwSignal::new(0u32);
    let pairs = Resource::new(
        move || {
            (
                create.version().get(),
                token.version().get(),
                revoke.version().get(),
                tick.get(),
            )
        },
        |_| list_pairs(),
    );
    ask_again(tick, 5, move || pairs.get().is_some());
    let admin = admin_signal();
    let issued = move || match token.value().get() {
        Some(Ok(t)) => Some(view! {
            <div role="status" class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
                <p class="font-semibold">"Copy this instance token now: it is not shown again. An earlier token of the instance no longer works."</p>
                <p class="mt-1 text-xs">"Put it in a file on the instance's host and start it with "<code>"gatehouse-proxy run --console <this console's URL> --token-file <file>"</code>"."</p>
                <code data-testid="new-proxy-token" class="mt-2 block select-all break-all rounded bg-white px-2 py-1 font-mono text-xs">{t.token}</code>
            </div>
        }),
        _ => None,
    };
    view! {
        <Layout title="VPN-less proxies">
            <p class="max-w-3xl text-sm text-slate-600">
                "Each pair is two gatehouse-proxy instances in the DMZ that route by one published proxy map. A plan (on the pair's page) makes the configuration from the pair's settings, the map and the certificates the console saw the nodes serve, and shows what changes for each instance; once applied, each instance pulls it with its own token and reports back what it serves, who is connected and whom it bans."
            </p>
            <ActionError error=error_of(token.value()) />
            <ActionError error=error_of(revoke.value()) />
            {issued}
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading the pairs…"</p> }>
                {move || pairs.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No proxy pair yet"
                            body="A pair routes by a published proxy map. Create one below (or with POST /api/v1/proxy-pairs; the README's VPN-less proxy engine section describes every setting), then plan and apply its configuration on its page and give each instance its token here." />
                    }.into_any(),
                    Ok(list) => list.into_iter().map(|pair| view! {
                        <PairCard pair admin=admin.get() token revoke />
                    }).collect_view().into_any(),
                })}
            </Transition>
            {move || admin.get().then(|| view! { <NewPairForm create /> })}
        </Layout>
    }
}
/// A health word as a coloured badge.
pub(super) fn health_badge(health: &str) -> impl IntoView {
    let (class, text) = match health {
        "up" => ("bg-emerald-100 text-emerald-900", "up"),
        "degraded" => ("bg-amber-100 text-amber-900", "an upstream is failing"),
        "silent" => ("bg-red-100 text-red-900", "silent for over a minute"),
        _ => ("bg-slate-100 text-slate-800", "never reported"),
    };
    view! { <span class=format!("rounded px-2 py-0.5 text-xs font-medium {class}") data-testid="proxy-health">{text}</span> }
}

/// An instance's drift or last refusal, under its versions.
pub(super) fn drift_note(i: &Instance) -> impl IntoView {
    let refused = i
        .refused
        .clone()
        .filter(|_| i.drift.is_none())
        .map(|r| view! { <span class="block text-amber-800">"last refused "{r}</span> });
    let drift = i.drift.clone().map(|d| {
        view! { <span class="block font-medium text-red-700" data-testid="proxy-drift">"Drift: "{d}</span> }
    });
    (drift, refused)
}

/// The versions an instance is told to serve and serves, in words.
pub(super) fn versions(i: &Instance) -> String {
    match (i.published, i.in_force) {
        (0, 0) => "nothing published yet".into(),
        (p, f) if p == f => format!("version {f} in force"),
        (p, 0) => format!("told to serve version {p}; serves nothing yet"),
        (p, f) => format!("told to serve version {p}; serves version {f}"),
    }
}

#[component]
fn PairCard(
    pair: Pair,
    admin: bool,
    token: ServerAction<IssueProxyToken>,
    revoke: ServerAction<RevokeProxyToken>,
) -> impl IntoView {
    let id = pair.id;
    let rows = pair
        .instances
        .clone()
        .into_iter()
        .map(|i| {
            let instance = i.id;
            let label = if i.has_token { "Issue a new token" } else { "Issue token" };
            view! {
                <tr data-testid="proxy-instance">
                    <td class="py-2 pr-3 font-medium">{format!("{} (side {})", i.name, i.side.to_uppercase())}</td>
                    <td class="py-2 pr-3">{health_badge(&i.health)}</td>
                    <td class="py-2 pr-3 text-xs">{versions(&i)}{drift_note(&i)}</td>
                    <td class="py-2 pr-3 font-mono text-xs">{i.listen.join(", ")}</td>
                    <td class="py-2 pr-3 text-xs text-slate-600">{i.last_seen.as_deref().map(|t| format!("{} UTC", minute(t))).unwrap_or_else(|| "never".into())}</td>
                    <td class="py-2 pr-3">{i.sessions}</td>
                    <td class="py-2 pr-3">{i.bans}</td>
                    <td class="py-2 pr-3 text-xs">
                        {match &i.token_hint { Some(h) if i.has_token => format!("{h}…"), _ => "none".into() }}
                        {admin.then(|| view! {
                            <div class="mt-1 flex gap-2">
                                <ActionForm action=token>
                                    <input type="hidden" name="instance" value=instance.to_string() />
                                    <button type="submit" class=BUTTON_SECONDARY>{label}</button>
                                </ActionForm>
                                {i.has_token.then(|| view! {
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="instance" value=instance.to_string() />
                                        <button type="submit" class=BUTTON_DANGER>"Revoke"</button>
                                    </ActionForm>
                                })}
                            </div>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Section title="Pair" description=format!("{} · routes by the proxy map {} · configuration versions made: {}", pair.name, pair.map, pair.version)>
            <div class="mb-3 flex flex-wrap items-center gap-3">
                <a class="text-sm font-medium text-indigo-700 underline" href=format!("/proxies/{id}")>{format!("Configuration plans, sessions, bans and health of {}", pair.name)}</a>
                <a class="text-sm text-indigo-700 underline" href=format!("/proxy-map/{}", pair.map_id)>"The proxy map"</a>
            </div>
            <Table headers=&["Instance", "Health", "Configuration", "Listens on", "Last report", "Sessions", "Bans", "Token"]>{rows}</Table>
        </Section>
    }
}
