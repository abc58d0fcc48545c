//! A node's CA-signed certificate (`/nodes/:id/certificate`, a page of its own so that the node
//! page's first visit stays small): its CSR generated on the node, shown and downloaded; the
//! signed certificate pasted back with its CA certificates, every check shown before anything
//! touches the node; then the upload as a plan; or the self-signed certificate regenerated.

use crate::components::*;
use crate::pages::chain_tool::percent_encode;
use crate::server_fns::trust::{
    load_csr, CheckCertificate, GenerateCsr, PlanCertificate, RegenerateCertificate,
};
use domain::trust::csr::{Csr, Regenerated};
use domain::trust::upload::UploadFindings;
use leptos::prelude::*;

#[component]
pub fn NodeCertificatePage() -> impl IntoView {
    let id = param_id("id");
    let admin = crate::pages::policy::admin_signal();
    view! {
        <Layout title="CA-signed certificate">
            <p class="text-sm"><a class="text-indigo-700 underline" href=move || format!("/nodes/{}", id())>"Back to the node"</a></p>
            {move || view! { <CertificateSigning node_id=id() admin /> }}
        </Layout>
    }
}

#[component]
fn CertificateSigning(node_id: i64, #[prop(into)] admin: Signal<bool>) -> impl IntoView {
    let generate = ServerAction::<GenerateCsr>::new();
    let check = ServerAction::<CheckCertificate>::new();
    let plan = ServerAction::<PlanCertificate>::new();
    let regenerate = ServerAction::<RegenerateCertificate>::new();
    let csr = Resource::new(move || generate.version().get(), move |_| load_csr(node_id));
    let text = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        crate::pages::chain_tool::read_bundle(&ev, text, note, "Check");
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, text, note);
    };
    open_plan_when_made(plan.value());
    let findings = move || match check.value().get() {
        Some(Ok(findings)) => {
            Some(view! { <Findings findings node_id admin=admin.get() text plan /> }.into_any())
        }
        Some(Err(error)) => Some(view! { <ErrorBox error /> }.into_any()),
        None => None,
    };
    view! {
        <Section title="CA-signed certificate" description="1. Generate a CSR on the node. 2. Have your CA sign it. 3. Paste the signed certificate with the CA's root and intermediates: every check runs before the node is touched. 4. Plan the upload: the root, then the intermediates into tomcat-trust, then the certificate into tomcat (seed 002), then the restarts it asks for.">
            <div data-testid="csr">
                <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                    {move || csr.get().map(|result| match result {
                        Err(error) => view! { <ErrorBox error /> }.into_any(),
                        Ok((fqdn, None)) => view! {
                            <h2 class="mb-2 text-base font-semibold text-slate-900" data-testid="node-fqdn">{fqdn}</h2>
                            <p class="text-sm text-slate-700">"No CSR generated through the console yet."</p>
                        }.into_any(),
                        Ok((fqdn, Some(csr))) => view! {
                            <h2 class="mb-2 text-base font-semibold text-slate-900" data-testid="node-fqdn">{fqdn}</h2>
                            <CsrView csr />
                        }.into_any(),
                    })}
                </Transition>
                <ActionError error=error_of(generate.value()) />
                {move || admin.get().then(|| view! {
                    <ActionForm action=generate attr:class="mt-3">
                        <input type="hidden" name="node_id" value=node_id.to_string() />
                        <button type="submit" class=BUTTON_SECONDARY disabled=move || generate.pending().get()>
                            {move || if generate.pending().get() { "Generating on the node…" } else { "Generate a new CSR" }}
                        </button>
                        <p class="mt-1 text-xs text-slate-600">"Runs set csr gen tomcat on the node. A new CSR replaces the last one: a certificate signed for an older request no longer fits."</p>
                    </ActionForm>
                })}
            </div>
            <ActionForm action=check attr:class="mt-5 space-y-2 border-t border-slate-200 pt-4">
                <input type="hidden" name="node_id" value=node_id.to_string() />
                <label for="signed-file" class=LABEL>"Signed certificate file"</label>
                <input id="signed-file" type="file" accept=".pem,.crt,.cer,.txt" on:change=on_file
                    class="block text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-200" />
                {move || note.get().map(|note| view! { <p class="text-xs text-slate-600">{note}</p> })}
                <label for="signed-text" class=LABEL>"The signed certificate with its root and intermediates (PEM, any order)"</label>
                <textarea id="signed-text" name="certificate" rows="6" required class=format!("{INPUT} font-mono text-xs")
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        // The findings shown are those of the text checked, never of another.
                        check.value().set(None);
                    }
                    placeholder="-----BEGIN CERTIFICATE-----"></textarea>
                <button type="submit" class=BUTTON disabled=move || check.pending().get()>"Check"</button>
            </ActionForm>
            {findings}
            {move || admin.get().then(|| view! { <Regenerate node_id action=regenerate /> })}
        </Section>
    }
}

#[component]
fn CsrView(csr: Csr) -> impl IntoView {
    let href = format!("data:application/pkcs10,{}", percent_encode(&csr.pem));
    let file = format!("{}-{}.csr", csr.fqdn, csr.unit);
    let sans = if csr.has_san {
        csr.san_dns.join(", ")
    } else {
        "none asked (the CA writes them)".to_owned()
    };
    view! {
        <dl class="grid grid-cols-1 gap-x-4 gap-y-1 text-sm text-slate-800 sm:grid-cols-2">
            <div><dt class="inline text-slate-600">"Subject: "</dt><dd class="inline break-all">{csr.subject.clone()}</dd></div>
            <div><dt class="inline text-slate-600">"SANs: "</dt><dd class="inline break-words" data-testid="csr-sans">{sans}</dd></div>
            <div><dt class="inline text-slate-600">"Key: "</dt><dd class="inline">{csr.key.clone()}</dd></div>
            <div><dt class="inline text-slate-600">"Generated: "</dt><dd class="inline">{format!("{} UTC by {}", minute(&csr.generated_at), csr.generated_by)}</dd></div>
        </dl>
        <ul class="mt-2 list-disc space-y-1 pl-5 text-xs text-slate-700">
            {csr.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
        </ul>
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <a class=BUTTON_SECONDARY href=href download=file.clone()>{format!("Download {file}")}</a>
        </div>
        <details class="mt-2">
            <summary class="cursor-pointer text-xs text-slate-700">"PEM"</summary>
            <pre class="mt-1 overflow-x-auto rounded bg-slate-50 p-2 text-xs" data-testid="csr-pem">{csr.pem.clone()}</pre>
        </details>
    }
}

/// Each check and, when all passed, the upload's plan.
#[component]
fn Findings(
    findings: UploadFindings,
    node_id: i64,
    admin: bool,
    text: RwSignal<String>,
    plan: ServerAction<PlanCertificate>,
) -> impl IntoView {
    let ready = findings.ready;
    view! {
        <div class="mt-4" data-testid="upload-findings" data-ready=ready.to_string()>
            <p class=if ready { "text-sm font-medium text-emerald-800" } else { "text-sm font-medium text-red-800" }>
                {if ready { "Every check passed: the upload can be planned." } else { "Not ready: the node would refuse this certificate, or serve it badly. Nothing was sent to the node." }}
            </p>
            <ul class="mt-2 space-y-2 text-sm">
                {findings.checks.into_iter().map(|c| view! {
                    <li data-testid="upload-check" data-id=c.id.clone() data-passed=c.passed.to_string()>
                        <span class=if c.passed { "font-medium text-emerald-800" } else { "font-medium text-red-800" }>{if c.passed { "✓ passed: " } else { "✗ failed: " }}</span>
                        <span class="text-slate-800 break-words">{c.message}</span>
                        <div class="text-xs text-slate-600 break-words">{c.source}</div>
                    </li>
                }).collect_view()}
            </ul>
            <p class="mt-3 text-sm font-medium text-slate-800">"In upload order"</p>
            <ol class="mt-1 list-decimal space-y-1 pl-5 text-sm text-slate-800" data-testid="upload-order">
                {findings.chain.pieces.iter().map(|p| view! {
                    <li class="break-words">{format!("{} ({}) → {}", p.subject_cn.clone().unwrap_or_else(|| p.subject.clone()), p.role.as_str(), p.store)}</li>
                }).collect_view()}
            </ol>
            {(!findings.chain.notes.is_empty()).then(|| view! {
                <ul class="mt-1 list-disc space-y-1 pl-5 text-xs text-amber-800">
                    {findings.chain.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            })}
            <p class="mt-1 text-xs text-slate-600">"Only the CAs that issued the certificate are uploaded; on a subscriber they go to the publisher, which replicates them."</p>
            {(ready && admin).then(|| view! {
                <ActionForm action=plan attr:class="mt-3">
                    <input type="hidden" name="node_id" value=node_id.to_string() />
                    <input type="hidden" name="certificate" prop:value=move || text.get() />
                    <button type="submit" class=BUTTON disabled=move || plan.pending().get()>"Plan the upload"</button>
                </ActionForm>
            })}
            <ActionError error=error_of(plan.value()) />
        </div>
    }
}

/// Regenerating the self-signed certificate: behind a confirmation (it replaces a CA-signed
/// one), then who must trust the new one.
#[component]
fn Regenerate(node_id: i64, action: ServerAction<RegenerateCertificate>) -> impl IntoView {
    let sure = RwSignal::new(false);
    let result = move || match action.value().get() {
        Some(Ok(done)) => Some(view! { <RegeneratedView done /> }.into_any()),
        Some(Err(error)) => Some(view! { <ErrorBox error /> }.into_any()),
        None => None,
    };
    view! {
        <details class="mt-5 border-t border-slate-200 pt-4" data-testid="regenerate">
            <summary class="cursor-pointer text-sm font-medium text-slate-800">"Regenerate a self-signed certificate…"</summary>
            <p class="mt-2 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">"This runs set cert regen tomcat: the node makes a new self-signed certificate and overwrites any CA-signed certificate imported for tomcat. Every node and browser that trusts the current one must trust the new one."</p>
            <ActionForm action attr:class="mt-2 space-y-2">
                <input type="hidden" name="node_id" value=node_id.to_string() />
                <label class="flex items-center gap-2 text-sm text-slate-800">
                    <input type="checkbox" prop:checked=move || sure.get() on:change=move |ev| sure.set(event_target_checked(&ev)) />
                    "I understand that a CA-signed certificate is replaced"
                </label>
                <button type="submit" class=BUTTON_DANGER disabled=move || !sure.get() || action.pending().get()>"Regenerate"</button>
            </ActionForm>
            {result}
        </details>
    }
}

#[component]
fn RegeneratedView(done: Regenerated) -> impl IntoView {
    let ok = done.operation.ok;
    let mut clusters: Vec<(i64, String)> = done
        .trusted_by
        .iter()
        .map(|t| (t.cluster_id, t.cluster.clone()))
        .collect();
    clusters.sort();
    clusters.dedup();
    view! {
        <div class="mt-3 space-y-2 text-sm" data-testid="regenerated" data-ok=ok.to_string()>
            <p class=if ok { "font-medium text-emerald-800" } else { "font-medium text-red-800" }>{done.operation.message.clone()}</p>
            {(!done.operation.output.is_empty()).then(|| view! { <pre class="overflow-x-auto rounded bg-slate-50 p-2 text-xs">{done.operation.output.clone()}</pre> })}
            {ok.then(|| view! {
                <div>
                    <p class="text-slate-800">{if done.trusted_by.is_empty() { "No node of the inventory must trust it.".to_owned() } else { format!("These nodes must trust it again: {}.", done.trusted_by.iter().map(|t| t.fqdn.clone()).collect::<Vec<_>>().join(", ")) }}</p>
                    <ul class="mt-1 space-y-1">
                        {clusters.into_iter().map(|(id, name)| view! {
                            <li><a class="text-indigo-700 underline" href=format!("/clusters/{id}/trust")>{format!("Plan their imports: the trust matrix of {name}")}</a></li>
                        }).collect_view()}
                    </ul>
                    <p class="mt-1 text-xs text-slate-700">"Their stores show the old certificate until they are read again (the matrix then says \"different certificate\")."</p>
                    <p class="mt-1 text-xs text-slate-700">{done.browsers.clone()}</p>
                </div>
            })}
        </div>
    }
}
