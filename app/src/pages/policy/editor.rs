//! The policy editor: trusted proxies (names and addresses, origins), client-auth, and per
//! product the CORS mode and extra origins and frame-ancestors. The browser runs the same
//! validation as the server as the admin types; what needs the world (names resolve, no load
//! balancer) comes back from the save beside the same fields.

use crate::components::{ErrorBox, BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL};
use crate::error::AppError;
use crate::server_fns::policy::{LookupHosts, SavePolicy};
use domain::access_policy::{
    validate, warnings, AccessPolicy, CorsMode, PolicyView, ProductAccess, TrustedProxy,
};
use domain::FieldErrors;
use leptos::prelude::*;

/// One line per entry, blank lines and surrounding spaces ignored.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Clone, Copy)]
struct ProxyDraft {
    key: usize,
    name: RwSignal<String>,
    hosts: RwSignal<String>,
    origins: RwSignal<String>,
    certificate: RwSignal<String>,
}

impl ProxyDraft {
    fn new(key: usize, proxy: &TrustedProxy) -> Self {
        Self {
            key,
            name: RwSignal::new(proxy.name.clone()),
            hosts: RwSignal::new(proxy.hosts.join("\n")),
            origins: RwSignal::new(proxy.origins.join("\n")),
            certificate: RwSignal::new(proxy.client_certificate.clone().unwrap_or_default()),
        }
    }
}

#[derive(Clone, Copy)]
struct ProductDraft {
    cors: RwSignal<CorsMode>,
    origins: RwSignal<String>,
    frames: RwSignal<String>,
}

impl ProductDraft {
    fn new(product: &ProductAccess) -> Self {
        Self {
            cors: RwSignal::new(product.cors),
            origins: RwSignal::new(product.extra_origins.join("\n")),
            frames: RwSignal::new(product.extra_frame_ancestors.join("\n")),
        }
    }

    fn product(&self) -> ProductAccess {
        ProductAccess {
            cors: self.cors.get(),
            extra_origins: lines(&self.origins.get()),
            extra_frame_ancestors: lines(&self.frames.get()),
        }
    }
}

/// The policy being edited, field by field.
#[derive(Clone, Copy)]
struct Draft {
    proxies: RwSignal<Vec<ProxyDraft>>,
    next: StoredValue<usize>,
    client_auth: RwSignal<bool>,
    finesse: ProductDraft,
    cuic: ProductDraft,
    livedata: ProductDraft,
}

impl Draft {
    fn new(policy: &AccessPolicy) -> Self {
        let proxies: Vec<ProxyDraft> = policy
            .proxies
            .iter()
            .enumerate()
            .map(|(i, p)| ProxyDraft::new(i, p))
            .collect();
        Self {
            next: StoredValue::new(proxies.len()),
            proxies: RwSignal::new(proxies),
            client_auth: RwSignal::new(policy.client_auth),
            finesse: ProductDraft::new(&policy.finesse),
            cuic: ProductDraft::new(&policy.cuic),
            livedata: ProductDraft::new(&policy.livedata),
        }
    }

    fn policy(&self) -> AccessPolicy {
        AccessPolicy {
            proxies: self
                .proxies
                .get()
                .iter()
                .map(|p| TrustedProxy {
                    name: p.name.get().trim().to_owned(),
                    hosts: lines(&p.hosts.get()),
                    origins: lines(&p.origins.get()),
                    client_certificate: Some(p.certificate.get().trim().to_owned())
                        .filter(|pem| !pem.is_empty()),
                })
                .collect(),
            client_auth: self.client_auth.get(),
            finesse: self.finesse.product(),
            cuic: self.cuic.product(),
            livedata: self.livedata.product(),
        }
    }

    fn add_proxy(&self) {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        let empty = TrustedProxy::default();
        self.proxies
            .update(|p| p.push(ProxyDraft::new(key, &empty)));
    }
}

/// The messages of every error whose field starts with `prefix` (`proxies[0].hosts` covers
/// `proxies[0].hosts[2]`), each with the entry it is about.
fn messages(errors: &FieldErrors, prefix: &str) -> Vec<String> {
    errors
        .iter()
        .filter(|(field, _)| *field == prefix || field.starts_with(&format!("{prefix}[")))
        .flat_map(|(_, m)| m.iter().cloned())
        .collect()
}

/// A field's messages: errors in red, or (`warning`) what the policy allows but should be
/// known, in amber.
#[component]
fn Messages(
    #[prop(into)] messages: Signal<Vec<String>>,
    #[prop(optional)] warning: bool,
) -> impl IntoView {
    let class = if warning {
        "mt-1 text-xs text-amber-800"
    } else {
        "mt-1 text-xs text-red-700"
    };
    view! {
        <For each=move || messages.get() key=|m| m.clone() let:message>
            <p class=class data-warning=warning.then_some("")>{message}</p>
        </For>
    }
}

#[component]
pub fn PolicyEditor(
    cluster_id: i64,
    view: PolicyView,
    save: ServerAction<SavePolicy>,
    admin: bool,
) -> impl IntoView {
    let draft = Draft::new(&view.policy);
    let base = view.version;
    let reason = RwSignal::new(String::new());
    let edited = RwSignal::new(false);
    let live = Memo::new(move |_| validate(&draft.policy()));
    // The server's answer to the last save: its field errors join the live ones.
    let server = Signal::derive(move || match save.value().get() {
        Some(Err(error)) if error.is_invalid() => error.fields,
        _ => FieldErrors::new(),
    });
    let errors = Signal::derive(move || {
        let mut all = if edited.get() {
            live.get()
        } else {
            FieldErrors::new()
        };
        for (field, more) in server.get() {
            all.entry(field).or_default().extend(more);
        }
        all
    });
    let of = move |prefix: String| Signal::derive(move || messages(&errors.get(), &prefix));
    let cautions = Memo::new(move |_| warnings(&draft.policy()));
    let warn = move |prefix: String| Signal::derive(move || messages(&cautions.get(), &prefix));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        edited.set(true);
        if !live.get_untracked().is_empty() {
            return;
        }
        let document = serde_json::to_string(&draft.policy()).unwrap_or_default();
        save.dispatch(SavePolicy {
            cluster_id,
            base_version: base,
            document,
            reason: reason.get_untracked(),
        });
    };
    let mark = move |_| edited.set(true);
    let numbered = move || {
        draft
            .proxies
            .get()
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
    };
    view! {
        <form on:submit=submit on:input=mark class="space-y-6" data-testid="policy-editor">
            <fieldset disabled=!admin class="space-y-6">
                <div class="space-y-4">
                    <div class="flex items-center justify-between gap-3">
                        <h3 class="text-sm font-semibold text-slate-800">"Trusted reverse proxies"</h3>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| { draft.add_proxy(); edited.set(true); }>"Add proxy"</button>
                    </div>
                    {move || draft.proxies.get().is_empty().then(|| view! {
                        <p class="text-sm text-slate-600">"No proxy is trusted: the nodes accept no request through a VPN-less proxy. Add each proxy with its public and private names and addresses."</p>
                    })}
                    <For each=numbered key=|(_, p)| p.key let:entry>
                        {
                            let (index, proxy) = entry;
                            let remove = move |_| { draft.proxies.update(|all| all.retain(|p| p.key != proxy.key)); edited.set(true); };
                            let id = |what: &str| format!("proxy-{}-{what}", proxy.key);
                            let lookup = ServerAction::<LookupHosts>::new();
                            view! {
                                <div class="rounded-md border border-slate-200 p-4" data-testid="proxy">
                                    <div class="grid gap-4 md:grid-cols-3">
                                        <div>
                                            <label for=id("name") class=LABEL>"Name"</label>
                                            <input id=id("name") class=INPUT placeholder="proxy A" prop:value=move || proxy.name.get()
                                                on:input=move |ev| proxy.name.set(event_target_value(&ev)) />
                                            <Messages messages=of(format!("proxies[{index}].name")) />
                                        </div>
                                        <div>
                                            <label for=id("hosts") class=LABEL>"Names and addresses (one per line)"</label>
                                            <textarea id=id("hosts") rows="3" class=format!("{INPUT} font-mono") placeholder="proxy-a.example.com\n203.0.113.10"
                                                prop:value=move || proxy.hosts.get() on:input=move |ev| proxy.hosts.set(event_target_value(&ev))
                                                on:change=move |_| { lookup.dispatch(LookupHosts { hosts: proxy.hosts.get_untracked() }); }></textarea>
                                            <Messages messages=of(format!("proxies[{index}].hosts")) />
                                            <Lookup hosts=proxy.hosts lookup />
                                        </div>
                                        <div>
                                            <label for=id("origins") class=LABEL>"Origins it serves (one per line)"</label>
                                            <textarea id=id("origins") rows="3" class=format!("{INPUT} font-mono") placeholder="https://finesse.example.com"
                                                prop:value=move || proxy.origins.get() on:input=move |ev| proxy.origins.set(event_target_value(&ev))></textarea>
                                            <Messages messages=of(format!("proxies[{index}].origins")) />
                                            <Messages messages=warn(format!("proxies[{index}].origins")) warning=true />
                                        </div>
                                    </div>
                                    <div class="mt-3">
                                        <label for=id("certificate") class=LABEL>"Its certificate (PEM), imported into every component's tomcat-trust"</label>
                                        <textarea id=id("certificate") rows="2" class=format!("{INPUT} font-mono text-xs") placeholder="-----BEGIN CERTIFICATE-----"
                                            prop:value=move || proxy.certificate.get() on:input=move |ev| proxy.certificate.set(event_target_value(&ev))></textarea>
                                        <Messages messages=of(format!("proxies[{index}].client_certificate")) />
                                        <Messages messages=warn(format!("proxies[{index}].client_certificate")) warning=true />
                                        <super::listener::ListenerReader certificate=proxy.certificate hosts=proxy.hosts edited id=id("listener") />
                                    </div>
                                    <div class="mt-3 flex items-center justify-between gap-3">
                                        <p class="text-xs text-slate-600">"Its names go to every Finesse, IdS, CUIC and LiveData node, its certificate to their tomcat-trust (never removed by the policy); its origins to CORS and frame-ancestors, and leave with it."</p>
                                        <button type="button" class=BUTTON_DANGER on:click=remove>"Remove proxy"</button>
                                    </div>
                                </div>
                            }
                        }
                    </For>
                </div>
                <label class="flex items-center gap-2 text-sm text-slate-800">
                    <input type="checkbox" prop:checked=move || draft.client_auth.get() on:change=move |ev| draft.client_auth.set(event_target_checked(&ev)) />
                    "Finesse verifies the proxies' client certificates (client-auth; on after a fresh install)"
                </label>
                <Messages messages=warn("client_auth".into()) warning=true />
                <div class="grid gap-4 lg:grid-cols-3">
                    <ProductFields label="Finesse" word="finesse" product=draft.finesse frames=true of />
                    <ProductFields label="CUIC" word="cuic" product=draft.cuic frames=true of />
                    <ProductFields label="LiveData" word="livedata" product=draft.livedata frames=false of />
                </div>
            </fieldset>
            {admin.then(|| view! {
                <div class="flex flex-wrap items-end gap-3 border-t border-slate-200 pt-4">
                    <div class="min-w-64 flex-1">
                        <label for="policy-reason" class=LABEL>"Why (kept with the version)"</label>
                        <input id="policy-reason" class=INPUT placeholder="proxy B goes live" prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev)) />
                    </div>
                    <button type="submit" class=BUTTON disabled=move || save.pending().get() || (edited.get() && !live.get().is_empty())>
                        {move || if save.pending().get() { "Saving…" } else { "Save as a new version" }}
                    </button>
                </div>
            })}
            {move || edited.get().then(|| {
                let count = live.get().values().map(Vec::len).sum::<usize>();
                (count > 0).then(|| view! {
                    <p class="text-sm text-red-700" role="status" data-testid="live-errors">{format!("{count} problem(s) to fix before saving (see the fields above).")}</p>
                })
            })}
            <SaveOutcome save />
        </form>
    }
}

/// Where the proxy's names lead from Gatehouse, once asked (the field changed, or the button):
/// the nodes refuse a name they cannot resolve, so a name that leads nowhere shows here first.
#[component]
fn Lookup(hosts: RwSignal<String>, lookup: ServerAction<LookupHosts>) -> impl IntoView {
    let ask = move |_| {
        lookup.dispatch(LookupHosts {
            hosts: hosts.get_untracked(),
        });
    };
    view! {
        <div class="mt-1 space-y-0.5 text-xs" data-testid="lookup">
            {move || match lookup.value().get() {
                None => view! {
                    <button type="button" class="text-indigo-700 underline" on:click=ask>"Where do these lead?"</button>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
                Some(Ok(answers)) => answers.into_iter().map(|(host, answer)| match answer {
                    Ok(found) => view! { <p class="font-mono text-slate-700">{format!("{host} → {found}")}</p> }.into_any(),
                    Err(why) => view! { <p class="text-red-700">{why}</p> }.into_any(),
                }).collect_view().into_any(),
            }}
        </div>
    }
}

#[component]
fn ProductFields(
    label: &'static str,
    word: &'static str,
    product: ProductDraft,
    frames: bool,
    of: impl Fn(String) -> Signal<Vec<String>> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = move |what: &str| format!("{word}-{what}");
    view! {
        <div class="space-y-3 rounded-md border border-slate-200 p-4">
            <h3 class="text-sm font-semibold text-slate-800">{label}</h3>
            <div>
                <label for=id("cors") class=LABEL>"CORS"</label>
                <select id=id("cors") class=INPUT on:change=move |ev| product.cors.set(match event_target_value(&ev).as_str() {
                    "enable" => CorsMode::Enable, "disable" => CorsMode::Disable, _ => CorsMode::EnableAll })>
                    <option value="enable_all" selected=move || product.cors.get() == CorsMode::EnableAll>"Every origin (fresh install)"</option>
                    <option value="enable" selected=move || product.cors.get() == CorsMode::Enable>"Only the allowed origins"</option>
                    <option value="disable" selected=move || product.cors.get() == CorsMode::Disable>"Off"</option>
                </select>
            </div>
            <div>
                <label for=id("origins") class=LABEL>"Extra allowed origins"</label>
                <textarea id=id("origins") rows="2" class=format!("{INPUT} font-mono") placeholder="https://crm.example.com"
                    prop:value=move || product.origins.get() on:input=move |ev| product.origins.set(event_target_value(&ev))></textarea>
                <Messages messages=of(format!("{word}.extra_origins")) />
                <Messages messages=of(format!("{word}.origins")) />
            </div>
            {frames.then(|| view! {
                <div>
                    <label for=id("frames") class=LABEL>"Extra frame-ancestors sources"</label>
                    <textarea id=id("frames") rows="2" class=format!("{INPUT} font-mono") placeholder="https://*.portal.example.com"
                        prop:value=move || product.frames.get() on:input=move |ev| product.frames.set(event_target_value(&ev))></textarea>
                    <Messages messages=of(format!("{word}.extra_frame_ancestors")) />
                    <Messages messages=of(format!("{word}.frame_ancestors")) />
                </div>
            })}
        </div>
    }
}

/// What the last save did: saved, refused as stale (with what changed since), or an error.
#[component]
fn SaveOutcome(save: ServerAction<SavePolicy>) -> impl IntoView {
    move || {
        match save.value().get() {
        Some(Ok(saved)) => view! {
            <p role="status" class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
                {format!("Saved as version {}. Plan the change to see what it does to each node.", saved.version)}
            </p>
        }
        .into_any(),
        Some(Err(AppError { message, changes, failure: crate::error::Failure::Outdated(_), .. })) => view! {
            <div role="alert" class="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="stale">
                <p class="font-medium">{message}</p>
                <p class="mt-1">"What your edit would change from the latest version:"</p>
                <ul class="mt-1 list-disc pl-5 font-mono text-xs">{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                <p class="mt-1">"Reload the page to edit the latest version (copy your changes first)."</p>
            </div>
        }
        .into_any(),
        Some(Err(error)) if error.is_invalid() => ().into_any(),
        None => ().into_any(),
        Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
    }
    }
}
