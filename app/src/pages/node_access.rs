//! The node page's appliance sections: SSH access (credentials, host key, connection test)
//! and the certificate stores read from the appliance (with trust import).

use crate::components::certs::{days_text, Findings, StateBadge};
use crate::components::{
    error_of, field_errors, minute, ActionError, ErrorBox, FieldError, Section, BUTTON,
    BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::appliances::{
    load_access, load_stores, AcceptHostKey, ImportTrust, LoadStores, SetCredentials,
    TestConnection,
};
use domain::appliances::{Access, HostKey, StoreEntry, Stores, TRUST_UNITS};
use leptos::prelude::*;

const NOTE: &str = "rounded-md border px-3 py-2 text-sm";

/// Credentials, host key and the connection test.
#[component]
pub fn ApplianceAccess(node_id: i64, #[prop(into)] admin: Signal<bool>) -> impl IntoView {
    let save = ServerAction::<SetCredentials>::new();
    let test = ServerAction::<TestConnection>::new();
    let accept = ServerAction::<AcceptHostKey>::new();
    let access = Resource::new(
        move || {
            (
                save.version().get(),
                test.version().get(),
                accept.version().get(),
            )
        },
        move |_| load_access(node_id),
    );
    view! {
        <Section title="Appliance access (SSH)" description="The platform admin account Gatehouse signs in with to run admin: CLI commands. The password is sealed at rest and never shown again.">
            <div class="space-y-4" data-testid="appliance-access">
                <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                    {move || access.get().map(|result| match result {
                        Err(error) => view! { <ErrorBox error /> }.into_any(),
                        Ok(a) => view! { <AccessFacts access=a admin=admin.get() node_id accept /> }.into_any(),
                    })}
                </Transition>
                {move || admin.get().then(|| view! {
                    <div class="flex flex-wrap items-center gap-3">
                        <ActionForm action=test>
                            <input type="hidden" name="node_id" value=node_id.to_string() />
                            <button type="submit" class=BUTTON disabled=move || test.pending().get()>
                                {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                            </button>
                        </ActionForm>
                        <span class="text-xs text-slate-600">"Signs in, runs a harmless command (show version active; help on BroadWorks), and reports what answered and the latency."</span>
                    </div>
                })}
                {move || test.value().get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(t) => {
                        let class = if t.ok { "border-emerald-200 bg-emerald-50 text-emerald-900" } else { "border-red-200 bg-red-50 text-red-800" };
                        view! {
                            <div role="status" class=format!("{NOTE} {class}") data-testid="connection-test" data-ok=t.ok.to_string()>
                                {t.error.clone().map(|code| view! { <span class="mr-1 font-mono font-semibold">{code}": "</span> })}
                                {t.message.clone()}
                            </div>
                        }.into_any()
                    }
                })}
                {move || admin.get().then(|| view! { <CredentialsForm node_id action=save /> })}
            </div>
        </Section>
    }
    .into_any()
}

#[component]
fn AccessFacts(
    access: Access,
    admin: bool,
    node_id: i64,
    accept: ServerAction<AcceptHostKey>,
) -> impl IntoView {
    let account = match (&access.username, &access.credentials_updated_at) {
        (Some(user), Some(at)) => format!(
            "Signs in as {user} on SSH port {} (set {} UTC by {}).",
            access.ssh_port,
            minute(at),
            access.credentials_updated_by.clone().unwrap_or_default()
        ),
        _ => format!(
            "No credentials stored yet: nothing can be read from or changed on this node until an admin enters its platform admin account (SSH port {}).",
            access.ssh_port
        ),
    };
    let identity = access.identity_changed.map(|why| {
        view! {
            <div role="alert" data-testid="identity-changed" class=format!("{NOTE} border-red-200 bg-red-50 text-red-800")>
                <p class="font-semibold">"Nothing is sent to this node until an admin confirms it."</p>
                <p class="mt-1">{sentence(&why)}</p>
            </div>
        }
    });
    view! {
        <p class="text-sm text-slate-700" data-testid="access-account">{account}</p>
        {identity}
        <HostKeyCard key=access.host_key admin node_id accept />
    }
    .into_any()
}

#[component]
fn HostKeyCard(
    key: HostKey,
    admin: bool,
    node_id: i64,
    accept: ServerAction<AcceptHostKey>,
) -> impl IntoView {
    let error = error_of(accept.value());
    let button = move |fingerprint: String, label: &'static str| {
        admin.then(|| {
            view! {
                <ActionForm action=accept attr:class="mt-2">
                    <input type="hidden" name="node_id" value=node_id.to_string() />
                    <input type="hidden" name="fingerprint" value=fingerprint />
                    <button type="submit" class=BUTTON_SECONDARY>{label}</button>
                </ActionForm>
            }
        })
    };
    let pinned = key.pinned.clone();
    let body = match (key.state.as_str(), pinned, key.presented.clone()) {
        ("changed", Some(pinned), Some(presented)) => view! {
            <div role="alert" class=format!("{NOTE} border-red-200 bg-red-50 text-red-800")>
                <p class="font-semibold">"The host key changed: every operation on this node is blocked."</p>
                <p class="mt-1">"Pinned: "<code class="break-all">{pinned.fingerprint.clone()}</code>" ("{pinned.algorithm.clone()}")"</p>
                <p>"Presented "{format!("{} UTC", minute(&presented.seen_at))}": "<code class="break-all">{presented.fingerprint.clone()}</code>" ("{presented.algorithm.clone()}")"</p>
                <p class="mt-1 text-xs">"A reinstalled or replaced node has a new key; anything else may be someone in between. Accept only after checking the new fingerprint on the node itself."</p>
                {button(presented.fingerprint.clone(), "Accept the new key")}
            </div>
        }.into_any(),
        ("unconfirmed", Some(pinned), _) => view! {
            <div class=format!("{NOTE} border-amber-200 bg-amber-50 text-amber-900")>
                <p>"Host key pinned on first use "{format!("{} UTC", minute(&pinned.seen_at))}": "<code class="break-all">{pinned.fingerprint.clone()}</code>" ("{pinned.algorithm.clone()}")."</p>
                <p class="mt-1 text-xs">"Compare it with the fingerprint the node's own console or your SSH client shows, then confirm it."</p>
                {button(pinned.fingerprint.clone(), "Confirm this key")}
            </div>
        }.into_any(),
        ("confirmed", Some(pinned), _) => view! {
            <p class="text-sm text-slate-700">
                "Host key "<code class="break-all">{pinned.fingerprint.clone()}</code>" ("{pinned.algorithm.clone()}"), confirmed "
                {format!("{} UTC by {}.", minute(&key.confirmed_at.clone().unwrap_or_default()), key.confirmed_by.clone().unwrap_or_default())}
            </p>
        }.into_any(),
        _ => view! { <p class="text-sm text-slate-600">"No host key seen yet: the first connection pins it, for an admin to confirm."</p> }.into_any(),
    };
    view! {
        <div data-testid="host-key" data-state=key.state.clone()>
            {body}
            <ActionError error />
            <FieldError messages=field_errors(error, "fingerprint") />
        </div>
    }
    .into_any()
}

#[component]
fn CredentialsForm(node_id: i64, action: ServerAction<SetCredentials>) -> impl IntoView {
    let error = error_of(action.value());
    // The password field empties once saved (it is never shown again); on an error it stays.
    let password = RwSignal::new(String::new());
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            password.set(String::new());
        }
    });
    let saved = move || {
        matches!(action.value().get(), Some(Ok(_))).then(|| {
            view! { <p role="status" class="text-sm text-emerald-700">"Saved. Test the connection to check them."</p> }
        })
    };
    view! {
        <details class="rounded-md border border-slate-200 px-4 py-3" data-testid="credentials-form">
            <summary class="cursor-pointer text-sm font-medium text-slate-700">"Enter or change the platform admin account…"</summary>
            <ActionForm action attr:class="mt-3 grid gap-3 md:grid-cols-4 md:items-start">
                <div class="space-y-2 md:col-span-4"><ActionError error />{saved}</div>
                <input type="hidden" name="node_id" value=node_id.to_string() />
                <div>
                    <label for="cred-username" class=LABEL>"Username"</label>
                    <input id="cred-username" name="username" required class=INPUT value="admin" autocomplete="off" />
                    <FieldError messages=field_errors(error, "username") />
                </div>
                <div>
                    <label for="cred-password" class=LABEL>"Password"</label>
                    <input id="cred-password" name="password" type="password" required class=INPUT autocomplete="new-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                    <FieldError messages=field_errors(error, "password") />
                </div>
                <div>
                    <label for="cred-port" class=LABEL>"SSH port"</label>
                    <input id="cred-port" name="port" inputmode="numeric" class=INPUT placeholder="unchanged" autocomplete="off" />
                    <FieldError messages=field_errors(error, "port") />
                </div>
                <div class="md:pt-6"><button type="submit" class=BUTTON>"Save credentials"</button></div>
            </ActionForm>
        </details>
    }
    .into_any()
}

/// The own and trust stores as last read from the appliance.
#[component]
pub fn CertificateStores(node_id: i64, #[prop(into)] admin: Signal<bool>) -> impl IntoView {
    let read = ServerAction::<LoadStores>::new();
    let import = ServerAction::<ImportTrust>::new();
    let stores = Resource::new(
        move || (read.version().get(), import.version().get()),
        move |_| load_stores(node_id, false),
    );
    view! {
        <Section title="Certificate stores on the appliance" description="What the node holds (show cert list own and trust, then each file), judged by the same rules as what it serves.">
            <div class="space-y-4" data-testid="stores">
                {move || admin.get().then(|| view! {
                    <ActionForm action=read attr:class="flex flex-wrap items-center gap-3">
                        <input type="hidden" name="node_id" value=node_id.to_string() />
                        <input type="hidden" name="read" value="true" />
                        <button type="submit" class=BUTTON disabled=move || read.pending().get()>
                            {move || if read.pending().get() { "Reading…" } else { "Read the stores now" }}
                        </button>
                    </ActionForm>
                })}
                {move || read.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
                <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                    {move || stores.get().map(|result| match result {
                        Err(error) => view! { <ErrorBox error /> }.into_any(),
                        Ok(s) => view! { <StoresView stores=s /> }.into_any(),
                    })}
                </Transition>
                {move || admin.get().then(|| view! { <ImportForm node_id action=import /> })}
            </div>
        </Section>
    }
    .into_any()
}

#[component]
fn StoresView(stores: Stores) -> impl IntoView {
    let when = match &stores.read_at {
        Some(at) => format!("Read {} UTC.", minute(at)),
        None => "Never read from the appliance.".into(),
    };
    let trust_count = stores.trust.len();
    view! {
        <p class="text-sm text-slate-600" data-testid="stores-read-at">{when}</p>
        {stores.error.clone().map(|e| view! {
            <div role="alert" class=format!("{NOTE} border-red-200 bg-red-50 text-red-800")>
                {format!("The last read ({} UTC) failed: {e}", minute(&stores.attempted_at.clone().unwrap_or_default()))}
            </div>
        })}
        {stores.tomcat_mismatch.clone().map(|m| view! {
            <div role="alert" class=format!("{NOTE} border-amber-200 bg-amber-50 text-amber-900") data-testid="tomcat-mismatch">{m}</div>
        })}
        {(!stores.own.is_empty()).then(|| view! {
            <h3 class="text-xs font-semibold uppercase tracking-wide text-slate-600">"Own certificates"</h3>
            <StoreList entries=stores.own.clone() />
        })}
        {(trust_count > 0).then(|| view! {
            <details>
                <summary class="cursor-pointer text-xs font-semibold uppercase tracking-wide text-slate-600">{format!("Trust store ({trust_count} certificates)")}</summary>
                <div class="mt-2"><StoreList entries=stores.trust.clone() /></div>
            </details>
        })}
    }
    .into_any()
}

#[component]
fn StoreList(entries: Vec<StoreEntry>) -> impl IntoView {
    view! {
        <ul class="divide-y divide-slate-100 rounded-md border border-slate-200">
            {entries.into_iter().map(|e| {
                let findings = e.findings.len();
                let summary = match (&e.subject_cn, e.days_left) {
                    (Some(cn), Some(days)) => format!("{cn} · {}", days_text(days)),
                    (None, Some(days)) => days_text(days),
                    _ => String::new(),
                };
                view! {
                    <li class="px-3 py-2" data-testid="store-entry" data-unit=e.unit.clone()>
                        <details>
                            <summary class="flex cursor-pointer flex-wrap items-center gap-2 text-sm">
                                {e.state.clone().map(|s| view! { <StateBadge state=s /> })}
                                <code class="text-xs text-slate-700">{format!("{}/{}", e.unit, e.file)}</code>
                                <span class="text-slate-800">{summary}</span>
                                {(findings > 0).then(|| view! { <span class="text-xs text-slate-600">{format!("{findings} finding(s)")}</span> })}
                                {e.error.clone().map(|err| view! { <span class="text-xs text-red-700">{err}</span> })}
                            </summary>
                            <div class="mt-2 space-y-1 pl-2 text-xs text-slate-600">
                                <p>{e.description.clone()}</p>
                                {e.issuer_cn.clone().map(|i| view! { <p>"Issuer: "{i}</p> })}
                                {e.fingerprint_sha256.clone().map(|f| view! {
                                    <p>"SHA-256: "<a class="break-all text-indigo-700 underline" href=format!("/certificates/{f}")>{f.clone()}</a></p>
                                })}
                                <Findings findings=e.findings.clone() />
                            </div>
                        </details>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn ImportForm(node_id: i64, action: ServerAction<ImportTrust>) -> impl IntoView {
    let error = error_of(action.value());
    let outcome = move || {
        action.value().get().and_then(Result::ok).map(|op| {
            let class = if op.ok { "border-emerald-200 bg-emerald-50 text-emerald-900" } else { "border-red-200 bg-red-50 text-red-800" };
            view! {
                <div role="status" class=format!("{NOTE} {class}") data-testid="import-result" data-ok=op.ok.to_string()>
                    <p>{op.message.clone()}</p>
                    <details class="mt-1">
                        <summary class="cursor-pointer text-xs">{format!("admin:{}", op.command)}</summary>
                        <pre class="mt-1 max-h-48 overflow-auto whitespace-pre-wrap text-xs" tabindex="0">{op.output.clone()}</pre>
                    </details>
                </div>
            }
        })
    };
    view! {
        <details class="rounded-md border border-slate-200 px-4 py-3" data-testid="import-form">
            <summary class="cursor-pointer text-sm font-medium text-slate-700">"Import a trust certificate into this node…"</summary>
            <p class="mt-2 text-xs text-slate-600">"Runs set cert import trust on the node and pastes the certificate. On a publisher it replicates to the subscribers; read their stores to see it arrive. Import a chain root first, then intermediates, one at a time."</p>
            <ActionForm action attr:class="mt-3 space-y-3">
                <ActionError error />
                {outcome}
                <input type="hidden" name="node_id" value=node_id.to_string() />
                <div class="max-w-xs">
                    <label for="import-unit" class=LABEL>"Trust store"</label>
                    <select id="import-unit" name="unit" class=INPUT>
                        {TRUST_UNITS.map(|u| view! { <option value=u>{u}</option> })}
                    </select>
                    <FieldError messages=field_errors(error, "unit") />
                </div>
                <div>
                    <label for="import-pem" class=LABEL>"Certificate (PEM)"</label>
                    <textarea id="import-pem" name="pem" rows="6" required class=format!("{INPUT} font-mono text-xs") placeholder="-----BEGIN CERTIFICATE-----"></textarea>
                    <FieldError messages=field_errors(error, "pem") />
                </div>
                <button type="submit" class=BUTTON disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Importing…" } else { "Import into the node" }}
                </button>
            </ActionForm>
        </details>
    }
    .into_any()
}

/// `text` with its first letter in capitals (domain messages start in lower case).
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
