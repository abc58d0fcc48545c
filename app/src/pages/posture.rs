//! A cluster's security posture: the latest scan's score and findings (each with its severity,
//! what was observed, the vendor's sentence behind it and its fix), what could not be looked
//! at, the trend over scans, the plan that fixes what the console sets, and the printable
//! report for an auditor.

use crate::components::*;
use crate::pages::policy::admin_signal;
use crate::server_fns::posture::{load_posture, PlanPosture, ScanPosture};
use domain::posture::{Finding, Fix, Grade, PosturePoint, PostureReport, PostureView, Severity};
use leptos::prelude::*;

fn badge(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "bg-red-700 text-white ring-red-800",
        Severity::High => "bg-red-50 text-red-800 ring-red-600/30",
        Severity::Medium => "bg-amber-50 text-amber-900 ring-amber-600/30",
        Severity::Low => "bg-slate-100 text-slate-700 ring-slate-500/30",
    }
}

/// A name that may wrap after each dot or colon (host names are long, table columns narrow).
fn breakable(name: &str) -> impl IntoView {
    name.split_inclusive(['.', ':'])
        .map(|part| view! { {part.to_owned()}<wbr /> })
        .collect_view()
}

fn grade_class(grade: Grade) -> &'static str {
    match grade {
        Grade::A => "text-emerald-700",
        Grade::B => "text-lime-700",
        Grade::C => "text-amber-700",
        Grade::D => "text-red-700",
    }
}

#[component]
pub fn PosturePage() -> impl IntoView {
    let id = param_id("cluster");
    let scan = ServerAction::<ScanPosture>::new();
    let plan = ServerAction::<PlanPosture>::new();
    let page = Resource::new(
        move || (id(), scan.version().get()),
        |(id, _)| load_posture(id),
    );
    let admin = admin_signal();
    open_plan_when_made(plan.value());
    view! {
        <Layout title="Security posture">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                {move || page.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(view) => view! { <PostureBody view admin=admin.get() scan plan /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn PostureBody(
    view: PostureView,
    admin: bool,
    scan: ServerAction<ScanPosture>,
    plan: ServerAction<PlanPosture>,
) -> impl IntoView {
    let cluster = view.cluster_id;
    let scanning = move || scan.pending().get();
    let scan_button = admin.then(|| {
        view! {
            <ActionForm action=scan>
                <input type="hidden" name="cluster_id" value=cluster.to_string() />
                <button type="submit" class=BUTTON_SECONDARY disabled=scanning>
                    {move || if scanning() { "Scanning…" } else { "Scan now" }}
                </button>
            </ActionForm>
        }
    });
    let body = match view.report {
        None => view! {
            <p class="rounded-md border border-slate-200 bg-white px-4 py-3 text-sm text-slate-700" data-testid="posture-empty">
                {"Not scanned yet. A scan reads each node's security settings over SSH (trustAllCertificates, secureSystemInfo, the notification ports, HTTPS redirect, client-auth, CORS, the gadget allow list, the lowest TLS version), probes its HTTP, HSTS, notification and TLS ports, and adds the certificate findings and the trust matrix's red cells. "}
                {if admin { "Scan now to see the report." } else { "An admin can scan it." }}
            </p>
        }
        .into_any(),
        Some(report) => view! { <Report report trend=view.trend admin plan /> }.into_any(),
    };
    view! {
        <div class="space-y-6">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 class="text-lg font-semibold text-slate-900" data-testid="cluster-name">{view.cluster}</h2>
                <div class="flex flex-wrap items-center gap-2">
                    <a class=BUTTON_SECONDARY href=format!("/api/v1/clusters/{cluster}/posture?format=html") target="_blank" rel="noopener">"Printable report"</a>
                    {scan_button}
                </div>
            </div>
            <ActionError error=error_of(scan.value()) />
            <ActionError error=error_of(plan.value()) />
            {body}
        </div>
    }
}

#[component]
fn Report(
    report: PostureReport,
    trend: Vec<PosturePoint>,
    admin: bool,
    plan: ServerAction<PlanPosture>,
) -> impl IntoView {
    let cluster = report.cluster_id;
    let plannable = report.plannable();
    let counts = Severity::ALL
        .iter()
        .map(|s| format!("{} {}", report.count(*s), s.as_str()))
        .collect::<Vec<_>>()
        .join(" · ");
    let findings = report.findings.clone();
    let gaps = report.gaps.clone();
    view! {
        <div class="flex flex-wrap items-end gap-6 rounded-lg border border-slate-200 bg-white px-5 py-4" data-testid="posture-score">
            <div>
                <div class="text-xs font-medium uppercase tracking-wide text-slate-600">"Score"</div>
                <div class="text-4xl font-bold text-slate-900">{report.score}<span class="text-lg font-medium text-slate-600">" / 100"</span></div>
            </div>
            <div>
                <div class="text-xs font-medium uppercase tracking-wide text-slate-600">"Grade"</div>
                <div class=format!("text-4xl font-bold {}", grade_class(report.grade))>{format!("{:?}", report.grade)}</div>
            </div>
            <div class="text-sm text-slate-700">
                <div data-testid="posture-counts">{counts}</div>
                <div>{format!("Scanned {} UTC · {} nodes", minute(&report.scanned_at), report.nodes.len())}</div>
            </div>
            {(admin && plannable > 0).then(|| view! {
                <ActionForm action=plan attr:class="ml-auto">
                    <input type="hidden" name="cluster_id" value=cluster.to_string() />
                    <button type="submit" class=BUTTON disabled=move || plan.pending().get()>
                        {format!("Plan the fixes ({plannable})")}
                    </button>
                </ActionForm>
            })}
        </div>
        {(!report.complete).then(|| view! {
            <p class="rounded-md border border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900" data-testid="posture-incomplete">
                {format!("Incomplete: {} check(s) could not run (listed under Not looked at). The score counts only what this scan saw.", report.gaps.len())}
            </p>
        })}
        <p class="text-xs text-slate-600">"Score = max(0, 100 − 20 × critical − 10 × high − 4 × medium − 1 × low); grade A from 90, B from 75, C from 50, D below. A plan sets what the console can (Finesse properties, the lowest TLS version); the other findings name the page or command that fixes them."</p>
        <Trend trend />
        <Section title="Findings">
            <Findings findings />
        </Section>
        {(!gaps.is_empty()).then(|| view! {
            <Section title="Not looked at" description="What this scan could not see: no finding here is no pass.">
                <ul class="divide-y divide-slate-100 text-sm" data-testid="posture-gaps">
                    {gaps.into_iter().map(|g| view! {
                        <li class="py-2"><span class="font-medium text-slate-900">{g.node}</span>": "{g.what}" — "<span class="text-slate-700 break-words">{g.why}</span></li>
                    }).collect_view()}
                </ul>
            </Section>
        })}
    }
}

#[component]
fn Findings(findings: Vec<Finding>) -> impl IntoView {
    if findings.is_empty() {
        return view! { <p class="text-sm text-slate-700" data-testid="posture-clean">"No finding: every rule this scan could check holds."</p> }.into_any();
    }
    let items = findings
        .into_iter()
        .map(|f| {
            let fix = match f.fix {
                Fix::Plan { item, to } => view! { <span>{format!("Plan: set {item} to {to}")}</span> }.into_any(),
                Fix::Page { label, href } => view! { <a class="text-indigo-700 underline" href=href>{format!("Change it on {label}")}</a> }.into_any(),
                Fix::Command { command } => view! {
                    <code class="block whitespace-pre-wrap break-words rounded bg-slate-50 px-2 py-1 text-xs">{command.replace("; ", "\n")}</code>
                }.into_any(),
            };
            let rule = f.rule.clone();
            let node = match f.port {
                Some(port) => format!("{}:{port}", f.node),
                None => f.node.clone(),
            };
            view! {
                <li class="grid gap-x-4 gap-y-1 py-3 md:grid-cols-[5rem_minmax(0,14rem)_minmax(0,1fr)_minmax(0,16rem)]" data-testid="posture-finding" data-rule=rule>
                    <div><span class=format!("inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", badge(f.severity))>{f.severity.as_str()}</span></div>
                    <div class="text-sm"><a class="text-slate-900 underline" href=format!("/nodes/{}", f.node_id)>{breakable(&node)}</a></div>
                    <div class="min-w-0">
                        <div class="text-sm font-medium text-slate-900">{f.title}</div>
                        <div class="text-xs text-slate-700 break-words">{f.observed}</div>
                        <details class="mt-1 text-xs text-slate-700">
                            <summary class="cursor-pointer">{f.source}</summary>
                            {(!f.sentence.is_empty()).then(|| view! { <p class="mt-1 italic">{format!("“{}”", f.sentence)}</p> })}
                            <p class="mt-1 font-mono">{f.rule}</p>
                        </details>
                    </div>
                    <div class="text-sm"><span class="sr-only">"Fix: "</span>{fix}
                        {f.advice.map(|advice| view! { <p class="mt-1 text-xs text-slate-700">{advice}</p> })}
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="hidden gap-x-4 border-b border-slate-200 pb-2 text-xs font-medium text-slate-700 md:grid md:grid-cols-[5rem_minmax(0,14rem)_minmax(0,1fr)_minmax(0,16rem)]" aria-hidden="true">
            <span>"Severity"</span><span>"Node"</span><span>"Finding"</span><span>"Fix"</span>
        </div>
        <ul class="divide-y divide-slate-100" data-testid="posture-findings">{items}</ul>
    }
    .into_any()
}

/// The score over the scans: a line, and the last few scans in words.
#[component]
fn Trend(trend: Vec<PosturePoint>) -> impl IntoView {
    if trend.len() < 2 {
        return view! { <p class="text-xs text-slate-600" data-testid="posture-trend">"The trend shows from the second scan on."</p> }.into_any();
    }
    let (width, height) = (600.0_f64, 80.0_f64);
    let step = width / (trend.len() - 1) as f64;
    let points = trend
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                height - f64::from(p.score) * height / 100.0
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let first = trend.first().map(|p| p.score).unwrap_or_default();
    let last = trend.last().map(|p| p.score).unwrap_or_default();
    let label = format!("Score over {} scans, from {first} to {last}", trend.len());
    let recent = trend
        .iter()
        .rev()
        .take(5)
        .map(|p| format!("{} UTC: {}", minute(&p.scanned_at), p.score))
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <Section title="Trend">
            <svg viewBox=format!("0 0 {width} {height}") class="h-20 w-full max-w-2xl" role="img" aria-label=label.clone() data-testid="posture-trend" preserveAspectRatio="none">
                <polyline points=points fill="none" stroke="#4f46e5" stroke-width="2" vector-effect="non-scaling-stroke" />
            </svg>
            <p class="mt-1 text-xs text-slate-600">{label}". Latest: "{recent}</p>
        </Section>
    }
    .into_any()
}
