//! gatehouse-proxy pairs: every pair with its two instances (what each serves, whether it
//! follows, when it last reported), and a page per pair with who is connected through each
//! instance, whom it bans (lift, add), its upstreams, the certificates it serves and its
//! counters. Admins plan the pair's configuration (every setting that changes, per instance),
//! apply the plan (verified by both instances' reports) and issue the instances' tokens;
//! an instance serving another version than it was told shows as drift.

use crate::components::{
    ask_again, error_of, field_errors, minute, param_id, ActionError, EmptyState, ErrorBox,
    FieldError, Layout, Section, Table, BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::auth::whoami;
use crate::server_fns::proxies::{
    list_pairs, load_pair, AddProxyBan, ApplyProxyPlan, CreatePair, IssueProxyToken, LiftProxyBan,
    PlanPair, RevokeProxyToken, SavePairSettings,
};
use crate::server_fns::proxies::{load_pair_forms, PairForms};
use crate::server_fns::proxymaps::load_maps;
use domain::proxies::{Instance, InstanceDetail, Pair, PairDetail, ProxyPlan};
use leptos::prelude::*;

/// Whether the signed-in user is an admin (the page's actions are theirs).
fn admin_signal() -> Signal<bool> {
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

/// What a new pair's settings start from: one listener, the client certificate shown to the
/// components, the LAN-side status ports (every other setting has the installer's default).
const SETTINGS_TEMPLATE: &str = r#"{
  "schema": 1,
  "version": 0,
  "listeners": [
    {"address": "0.0.0.0:443",
     "certificates": [{"certificate": "/etc/gatehouse-proxy/edge.pem", "key": "/etc/gatehouse-proxy/edge.key"}]}
  ],
  "routes": [],
  "forwarders": {"addresses": [], "header": null},
  "upstream": {"client_certificate": {"certificate": "/etc/gatehouse-proxy/client.pem", "key": "/etc/gatehouse-proxy/client.key"}},
  "status": {"address": "10.0.0.10:10001", "proxymap_address": "10.0.0.10:10000"}
}"#;

/// What differs per side: each its own LAN-side addresses here.
const OVERLAYS_TEMPLATE: &str = r#"[
  {"status": {"address": "10.0.0.10:10001", "proxymap_address": "10.0.0.10:10000"}},
  {"status": {"address": "10.0.0.11:10001", "proxymap_address": "10.0.0.11:10000"}}
]"#;

/// The form that makes a pair (admins): its name, the published map it routes by, the sides'
/// names, its settings and what differs per side, as JSON documents.
#[component]
fn NewPairForm(create: ServerAction<CreatePair>) -> impl IntoView {
    let maps = Resource::new(|| (), |_| load_maps());
    let error = error_of(create.value());
    view! {
        <Section title="New pair" description="Two gatehouse-proxy instances that route by one published proxy map. The settings are a configuration document without routes, trust or map (the console adds those from the map and the certificates it knows at each plan); file paths name files on the engines' hosts (private keys never come here). Nothing reaches an instance until a plan is applied.">
            <details>
                <summary class="cursor-pointer text-sm font-medium text-indigo-700">"Create a pair"</summary>
                <ActionForm action=create attr:class="mt-3 grid gap-4 md:grid-cols-2">
                    <div class="md:col-span-2"><ActionError error /></div>
                    <div>
                        <label for="pair-name" class=LABEL>"Name"</label>
                        <input id="pair-name" name="name" required class=INPUT placeholder="DMZ pair" autocomplete="off" />
                        <FieldError messages=field_errors(error, "name") />
                    </div>
                    <div>
                        <label for="pair-map" class=LABEL>"Proxy map it routes by"</label>
                        <select id="pair-map" name="map_id" class=INPUT>
                            <Transition fallback=|| view! { <option value="">"Loading the maps…"</option> }>
                                {move || maps.get().map(|r| match r {
                                    Ok(page) => {
                                        let published: Vec<_> = page.maps.into_iter().filter(|m| m.published_version.is_some()).collect();
                                        if published.is_empty() {
                                            view! { <option value="">"No map is published yet"</option> }.into_any()
                                        } else {
                                            published.into_iter().map(|m| view! { <option value=m.id.to_string()>{m.name}</option> }).collect_view().into_any()
                                        }
                                    }
                                    Err(_) => view! { <option value="">"The maps could not be read"</option> }.into_any(),
                                })}
                            </Transition>
                        </select>
                        <FieldError messages=field_errors(error, "map_id") />
                    </div>
                    <div>
                        <label for="pair-a" class=LABEL>"Side A's name"</label>
                        <input id="pair-a" name="side_a" required class=INPUT value="proxy-a" autocomplete="off" />
                        <FieldError messages=field_errors(error, "instances[0]") />
                    </div>
                    <div>
                        <label for="pair-b" class=LABEL>"Side B's name"</label>
                        <input id="pair-b" name="side_b" required class=INPUT value="proxy-b" autocomplete="off" />
                        <FieldError messages=field_errors(error, "instances[1]") />
                    </div>
                    <div class="md:col-span-2">
                        <label for="pair-settings" class=LABEL>"Settings (JSON)"</label>
                        <textarea id="pair-settings" name="settings" rows="14" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{SETTINGS_TEMPLATE}</textarea>
                        <FieldError messages=field_errors(error, "settings") />
                    </div>
                    <div class="md:col-span-2">
                        <label for="pair-overlays" class=LABEL>"What differs for side A and side B (JSON merge patches; empty: nothing)"</label>
                        <textarea id="pair-overlays" name="overlays" rows="5" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{OVERLAYS_TEMPLATE}</textarea>
                        <FieldError messages=field_errors(error, "overlays") />
                        <FieldError messages=field_errors(error, "overlays[0]") />
                        <FieldError messages=field_errors(error, "overlays[1]") />
                    </div>
                    <div><button type="submit" class=BUTTON>"Create the pair"</button></div>
                </ActionForm>
            </details>
        </Section>
    }
}

/// The forms of the pair page (admins): a ban ordered for both instances, the settings.
#[component]
fn PairForms(
    forms: PairForms,
    id: i64,
    admin: bool,
    ban: ServerAction<AddProxyBan>,
    save: ServerAction<SavePairSettings>,
) -> impl IntoView {
    let error = error_of(ban.value());
    let PairForms {
        instance: _,
        settings,
        overlays,
    } = forms.clone();
    view! {
        {admin.then(|| view! {
            <Section title="Ban an address" description="Both instances ban it with their next pull (within a second while they follow the console). An address, an IPv6 /64 written as its network, or account:<login ID>.">
                <ActionForm action=ban attr:class="grid gap-4 md:grid-cols-4 md:items-start">
                    <input type="hidden" name="instance" value=forms.instance.to_string() />
                    <div class="md:col-span-4"><ActionError error /></div>
                    <div>
                        <label for="ban-ip" class=LABEL>"Address"</label>
                        <input id="ban-ip" name="ip" required class=INPUT placeholder="203.0.113.9" autocomplete="off" />
                        <FieldError messages=field_errors(error, "ip") />
                    </div>
                    <div>
                        <label for="ban-minutes" class=LABEL>"Minutes"</label>
                        <input id="ban-minutes" name="minutes" required class=INPUT value="30" inputmode="numeric" />
                        <FieldError messages=field_errors(error, "minutes") />
                    </div>
                    <div>
                        <label for="ban-reason" class=LABEL>"Reason"</label>
                        <input id="ban-reason" name="reason" required class=INPUT placeholder="scanning the desktop" />
                        <FieldError messages=field_errors(error, "reason") />
                    </div>
                    <div class="md:pt-6"><button type="submit" class=BUTTON>"Ban on both instances"</button></div>
                </ActionForm>
            </Section>
        })}
        <SettingsView pair_id=id settings overlays admin save />
    }
}

/// A pair's settings and overlays: edited by admins (taking effect with the next plan applied),
/// shown to auditors.
#[component]
fn SettingsView(
    pair_id: i64,
    settings: String,
    overlays: String,
    admin: bool,
    save: ServerAction<SavePairSettings>,
) -> impl IntoView {
    let error = error_of(save.value());
    let saved = move || {
        matches!(save.value().get(), Some(Ok(_))).then(|| view! {
            <p role="status" class="text-sm text-emerald-800">"Saved. Plan the configuration to see what changes for each instance."</p>
        })
    };
    view! {
        <Section title="Settings" description="What the next plan makes the configuration from, besides the map's routes and the trust: listeners and their certificate files, forwarders, authentication, limits, bans, timeouts, the client certificate, the status ports; and what differs per side. Saving changes nothing on the instances; a ready plan made before is withdrawn.">
            {if admin {
                view! {
                    <ActionForm action=save attr:class="space-y-3">
                        <input type="hidden" name="id" value=pair_id.to_string() />
                        <ActionError error />
                        {saved}
                        <div>
                            <label for="edit-settings" class=LABEL>"Settings (JSON)"</label>
                            <textarea id="edit-settings" name="settings" rows="16" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{settings}</textarea>
                            <FieldError messages=field_errors(error, "settings") />
                        </div>
                        <div>
                            <label for="edit-overlays" class=LABEL>"What differs for side A and side B (JSON merge patches)"</label>
                            <textarea id="edit-overlays" name="overlays" rows="8" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{overlays}</textarea>
                            <FieldError messages=field_errors(error, "overlays") />
                            <FieldError messages=field_errors(error, "overlays[0]") />
                            <FieldError messages=field_errors(error, "overlays[1]") />
                        </div>
                        <button type="submit" class=BUTTON>"Save the settings"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <pre class="overflow-x-auto rounded bg-slate-50 p-3 text-xs">{settings}</pre>
                    <pre class="mt-2 overflow-x-auto rounded bg-slate-50 p-3 text-xs">{overlays}</pre>
                }.into_any()
            }}
        </Section>
    }
}

/// A health word as a coloured badge.
fn health_badge(health: &str) -> impl IntoView {
    let (class, text) = match health {
        "up" => ("bg-emerald-100 text-emerald-900", "up"),
        "degraded" => ("bg-amber-100 text-amber-900", "an upstream is failing"),
        "silent" => ("bg-red-100 text-red-900", "silent for over a minute"),
        _ => ("bg-slate-100 text-slate-800", "never reported"),
    };
    view! { <span class=format!("rounded px-2 py-0.5 text-xs font-medium {class}") data-testid="proxy-health">{text}</span> }
}

/// An instance's drift or last refusal, under its versions.
fn drift_note(i: &Instance) -> impl IntoView {
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
fn versions(i: &Instance) -> String {
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
                    Ok(forms) => view! { <PairForms forms id=id() admin=admin.get() ban save /> }.into_any(),
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
fn PlanList(
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
