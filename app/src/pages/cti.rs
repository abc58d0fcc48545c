//! A BroadWorks node's CTI interface facing Webex (seed 003): the checklist as the node stands
//! (read over SSH now), what a TLS 1.2 client meets on the CTI port, and the plan of the
//! missing steps (the Webex CA chain pasted for the trust anchors).

use crate::components::*;
use crate::pages::policy::admin_signal;
use crate::server_fns::cti::{load_cti, PlanCti};
use domain::cti::{CtiProbe, CtiView, Step};
use leptos::prelude::*;

#[component]
pub fn CtiPage() -> impl IntoView {
    let id = param_id("id");
    let plan = ServerAction::<PlanCti>::new();
    let again = RwSignal::new(0u32);
    let page = Resource::new(move || (id(), again.get()), |(id, _)| load_cti(id));
    let admin = admin_signal();
    open_plan_when_made(plan.value());
    view! {
        <Layout title="CTI interface">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Reading the node and probing its CTI port…"</p> }>
                {move || page.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(view) => view! { <CtiBody view admin=admin.get() plan again /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn CtiBody(
    view: CtiView,
    admin: bool,
    plan: ServerAction<PlanCti>,
    again: RwSignal<u32>,
) -> impl IntoView {
    let node = view.node_id;
    let missing = view.missing();
    let is_as = view.server == "AS";
    let anchors_missing = view
        .checklist
        .iter()
        .any(|s| s.key == "trust_anchors" && !s.done);
    let summary = match (&view.read_error, missing) {
        (Some(_), _) => "The settings could not be read.".to_owned(),
        (None, 0) => "Every step of the checklist is done.".to_owned(),
        (None, n) => format!("{n} of {} steps missing.", view.checklist.len()),
    };
    let steps = view.checklist.clone();
    let probed = view.clone();
    let plan_form = (admin && view.read_error.is_none()).then(|| {
        view! {
            <Section title="Plan the missing steps" description="A plan of the reconciliation engine: it reads the node again, shows each command, and runs them once you confirm. Nothing is removed from the node.">
                <ActionForm action=plan attr:class="space-y-3">
                    <ActionError error=error_of(plan.value()) />
                    <input type="hidden" name="node_id" value=node.to_string() />
                    {(!is_as).then(|| view! {
                        <div>
                            <label for="cti-chain" class=LABEL>"Webex CA chain (optional)"</label>
                            <textarea id="cti-chain" name="chain" rows="6" class=format!("{INPUT} font-mono text-xs") spellcheck="false"
                                placeholder="-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----"></textarea>
                            <FieldError messages=field_errors(error_of(plan.value()), "chain") />
                            <p class="mt-1 text-xs text-slate-700">
                                {"Paste the CombinedCertChain file from Partner Hub (Services › Additional links › Download Webex CA Certificate). It is split like the "}
                                <a class="text-indigo-700 underline" href="/tools/chain">"chain tool"</a>
                                {" does; each CA certificate becomes a trust anchor named by its common name and the start of its fingerprint (aliases unique). "}
                                {if anchors_missing { "Without it the trust anchors stay missing." } else { "The anchors are in place: leave it empty unless Webex's chain changed." }}
                            </p>
                        </div>
                    })}
                    <button type="submit" class=BUTTON disabled=move || plan.pending().get() data-testid="cti-plan">
                        {if missing == 0 { "Plan (add the chain's anchors)".to_owned() } else { format!("Plan the missing steps ({missing})") }}
                    </button>
                </ActionForm>
            </Section>
        }
    });
    view! {
        <div class="space-y-6">
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div>
                    <a href=format!("/nodes/{node}") class="text-xs text-indigo-700 underline">"Node page"</a>
                    <h2 class="mt-1 break-all font-mono text-lg font-semibold text-slate-900" data-testid="node-fqdn">{view.fqdn.clone()}</h2>
                    <p class="text-sm text-slate-700">
                        {format!("{} · {} · checked {} UTC", view.cluster, server_label(&view.server), minute(&view.checked_at))}
                    </p>
                    <p class="mt-1 text-sm font-medium text-slate-900" data-testid="cti-summary">{summary}</p>
                </div>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| again.update(|n| *n += 1)>"Check again"</button>
            </div>
            {view.read_error.clone().map(|why| view! {
                <p class="rounded-md border border-red-200 bg-red-50 px-4 py-2 text-sm text-red-800 break-words" data-testid="cti-read-error">
                    {format!("The settings could not be read over SSH: {why}")}
                </p>
            })}
            {(!steps.is_empty()).then(|| view! {
                <Section title="Checklist (seed 003)">
                    <ol class="divide-y divide-slate-100" data-testid="cti-checklist">
                        {steps.into_iter().map(|step| view! { <StepRow step /> }).collect_view()}
                    </ol>
                </Section>
            })}
            {(!is_as).then(|| view! { <ProbeSection view=probed /> })}
            {plan_form}
        </div>
    }
}

fn server_label(server: &str) -> &'static str {
    match server {
        "AS" => "Application Server",
        "XSP|ADP" => "XSP|ADP",
        _ => "server unknown",
    }
}

#[component]
fn StepRow(step: Step) -> impl IntoView {
    let (mark, class) = if step.done {
        ("Done", "bg-emerald-50 text-emerald-800 ring-emerald-600/30")
    } else {
        ("Missing", "bg-red-50 text-red-800 ring-red-600/30")
    };
    view! {
        <li class="grid gap-x-4 gap-y-1 py-3 md:grid-cols-[6rem_minmax(0,1fr)_minmax(0,22rem)]" data-testid="cti-step" data-key=step.key.clone() data-done=step.done.to_string()>
            <div><span class=format!("inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset {class}")>{mark}</span></div>
            <div class="min-w-0">
                <div class="text-sm font-medium text-slate-900">{step.title}</div>
                <div class="text-xs text-slate-700 break-words">{step.observed}</div>
                <details class="mt-1 text-xs text-slate-700">
                    <summary class="cursor-pointer">{step.source}</summary>
                    <p class="mt-1 italic">{format!("“{}”", step.sentence)}</p>
                </details>
            </div>
            <div class="min-w-0 text-sm">
                {step.command.map(|command| view! {
                    <span class="sr-only">"Command: "</span>
                    <code class="block whitespace-pre-wrap break-words rounded bg-slate-50 px-2 py-1 text-xs">{command}</code>
                })}
            </div>
        </li>
    }
}

#[component]
fn ProbeSection(view: CtiView) -> impl IntoView {
    let title = format!(
        "What the Webex cloud meets on {}:{}",
        view.address, view.port
    );
    let body = match (view.probe, view.probe_error) {
        (Some(probe), _) => view! { <ProbeFacts probe findings=view.findings /> }.into_any(),
        (None, Some(why)) => view! {
            <p class="text-sm text-red-800 break-words" data-testid="cti-probe-error">{format!("The port could not be probed: {why}")}</p>
        }
        .into_any(),
        (None, None) => ().into_any(),
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white px-5 py-4 shadow-sm" aria-label="CTI port probe">
            <h3 class="text-base font-semibold text-slate-900">{title}</h3>
            <p class="mb-3 text-xs text-slate-700">"Two hellos offering TLS 1.2 only (the cloud negotiates nothing earlier): with every suite, then with only the recommended ones (ECDHE with AES-GCM or ChaCha20)."</p>
            {body}
        </section>
    }
}

#[component]
fn ProbeFacts(probe: CtiProbe, findings: Vec<domain::cti::ProbeFinding>) -> impl IntoView {
    let facts: Vec<(&str, String)> = match &probe.tls12 {
        Err(why) => vec![("TLS 1.2", format!("refused ({why})"))],
        Ok(n) => vec![
            ("Protocol", n.protocol.clone()),
            ("Suite (IANA)", n.iana.clone()),
            ("Suite (OpenSSL)", n.openssl.clone()),
            (
                "Client certificate asked",
                yes(n.client_certificate_requested),
            ),
            ("Chain complete", yes(n.chain_complete)),
        ],
    };
    let recommended = probe
        .recommended
        .clone()
        .unwrap_or_else(|| "none accepted".into());
    view! {
        <dl class="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[14rem_minmax(0,1fr)]" data-testid="cti-probe">
            {facts.into_iter().map(|(k, v)| view! { <dt class="text-slate-600">{k}</dt><dd class="break-words text-slate-900">{v}</dd> }).collect_view()}
            <dt class="text-slate-600">"Recommended suite"</dt><dd class="break-words text-slate-900">{recommended}</dd>
        </dl>
        {if findings.is_empty() {
            view! { <p class="mt-3 text-sm text-emerald-800" data-testid="cti-probe-clean">"No finding: TLS 1.2 with a recommended suite, a client certificate required, the chain complete."</p> }.into_any()
        } else {
            view! {
                <ul class="mt-3 space-y-1 text-sm" data-testid="cti-findings">
                    {findings.into_iter().map(|f| view! {
                        <li class="rounded-md bg-red-50 px-3 py-1.5 text-red-900 break-words" data-testid="cti-finding" data-rule=f.rule>{f.message}</li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

fn yes(on: bool) -> String {
    if on { "yes" } else { "no" }.into()
}
