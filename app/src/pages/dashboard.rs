//! The fleet overview: endpoints by state, the expiry timeline for the year ahead (SVG drawn
//! on the server, readable without JavaScript), the certificates that expire first, findings by
//! severity, the last scan and "scan now", and the access policy's drift when there is any.
//! Filters are query parameters of a plain GET form.

use crate::components::certs::{days_text, severity_classes, FilterBar, ScanPanel, StateBadge};
use crate::components::{minute, EmptyState, ErrorBox, Layout, Section, Table};
use crate::server_fns::auth::whoami;
use crate::server_fns::certificates::load_dashboard;
use crate::server_fns::policy::load_drift;
use domain::certificates::{Dashboard, Filter, Timeline};
use domain::reconcile::About;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The filter in the page's query string.
pub fn use_filter() -> Memo<Filter> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        Filter::from_form(
            q.get("cluster"),
            q.get("kind"),
            q.get("state"),
            q.get("lint"),
        )
    })
}

/// The filter as a query string (for links that keep it).
pub fn filter_query(filter: &Filter) -> String {
    let mut parts = Vec::new();
    if let Some(c) = filter.cluster {
        parts.push(format!("cluster={c}"));
    }
    for (key, value) in [
        ("kind", &filter.kind),
        ("state", &filter.state),
        ("lint", &filter.lint),
    ] {
        if let Some(v) = value {
            parts.push(format!("{key}={v}"));
        }
    }
    parts.join("&")
}

/// The dashboard narrowed to one state, keeping the rest of the filter.
fn state_link(filter: &Filter, state: &str) -> String {
    let narrowed = Filter {
        state: Some(state.to_owned()),
        ..filter.clone()
    };
    format!("/?{}", filter_query(&narrowed))
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let filter = use_filter();
    let finished = RwSignal::new(0u32);
    let data = Resource::new(
        move || (filter.get(), finished.get()),
        |(f, _)| load_dashboard(f.cluster.map(|c| c.to_string()), f.kind, f.state, f.lint),
    );
    let me = Resource::new(|| (), |_| whoami());
    let is_admin = move || {
        me.get()
            .and_then(|m| m.ok().flatten())
            .is_some_and(|m| m.is_admin())
    };
    let loaded = move || data.get().and_then(Result::ok);
    // Once there are clusters, the scan panel stays (reloads of the data do not reset it).
    let has_clusters = RwSignal::new(false);
    Effect::new(move |_| {
        if loaded().is_some_and(|d| !d.clusters.is_empty()) {
            has_clusters.set(true);
        }
    });
    let running = Signal::derive(move || loaded().and_then(|d| d.running.map(|s| s.id)));
    let last_scan = move || match loaded().and_then(|d| d.last_scan) {
        Some(s) => format!(
            "Last complete scan {} UTC by {}: {} endpoints, {} failed.",
            minute(&s.finished_at.clone().unwrap_or_default()),
            s.requested_by,
            s.done,
            s.failed
        ),
        None => "No scan has completed yet.".to_owned(),
    };

    view! {
        <Layout title="Dashboard">
            // Outside the data's Transition: a finished scan reloads the data, not the panel.
            <Show when=move || has_clusters.get()>
                <section class="rounded-lg border border-slate-200 bg-white shadow-sm">
                    <div class="border-b border-slate-200 px-5 py-3">
                        <h2 class="text-sm font-semibold text-slate-800">"Scans"</h2>
                        <p class="mt-0.5 text-xs text-slate-600" data-testid="last-scan">{last_scan}</p>
                    </div>
                    <div class="px-5 py-4">
                        <ScanPanel node_id=None running admin=Signal::derive(is_admin) finished />
                        {move || (!is_admin()).then(|| view! {
                            <p class="text-sm text-slate-600">"Admins start scans here; scheduled scans run every few hours."</p>
                        })}
                    </div>
                </section>
            </Show>
            <PolicyDrift />
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading the fleet…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(d) if d.clusters.is_empty() => view! {
                        <EmptyState
                            title="No clusters yet"
                            body="The dashboard shows what every node's endpoints serve (expired, critical, warning, ok, unreachable), an expiry timeline for the next year and findings by severity. Start by adding a cluster and its nodes."
                        >
                            <a href="/inventory" class="text-sm font-medium text-indigo-700 underline">"Go to Inventory"</a>
                        </EmptyState>
                    }.into_any(),
                    Ok(d) => view! { <Overview d /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

/// A drifted node's items of one subject, as one line of the dashboard's drift panel.
struct DriftLine {
    node_id: i64,
    fqdn: String,
    cluster: String,
    about: Option<About>,
    items: Vec<String>,
}

/// Drift, when there is any: which nodes differ from what was last applied to them (an access
/// policy, a proxy map's rollout), each linked to the page where it is applied again.
#[component]
fn PolicyDrift() -> impl IntoView {
    let drift = Resource::new(|| (), |_| load_drift());
    view! {
        <Transition fallback=|| ()>
            {move || drift.get().and_then(Result::ok).filter(|d| !d.is_empty()).map(|items| {
                // One line per node and what manages the drifted items.
                let mut lines: Vec<DriftLine> = Vec::new();
                for d in &items {
                    match lines.iter_mut().find(|l| l.node_id == d.node_id && l.about == d.about) {
                        Some(line) => line.items.push(d.item.clone()),
                        None => lines.push(DriftLine {
                            node_id: d.node_id,
                            fqdn: d.fqdn.clone(),
                            cluster: d.cluster.clone(),
                            about: d.about.clone(),
                            items: vec![d.item.clone()],
                        }),
                    }
                }
                let mut nodes: Vec<i64> = items.iter().map(|d| d.node_id).collect();
                nodes.dedup();
                let title = format!("Drift: {} item(s) on {} node(s)", items.len(), nodes.len());
                view! {
                    <section class="rounded-lg border border-red-200 bg-white shadow-sm" data-testid="dashboard-drift">
                        <div class="border-b border-red-200 px-5 py-3">
                            <h2 class="text-sm font-semibold text-red-800">{title}</h2>
                            <p class="mt-0.5 text-xs text-slate-600">"These nodes no longer match what was last applied to them (an access policy, a proxy map's rollout). Apply it again from its page; a policy's drift can also be adopted there."</p>
                        </div>
                        <ul class="divide-y divide-slate-100 px-5">
                            {lines.into_iter().map(|DriftLine { fqdn, cluster, about, items: what, .. }| view! {
                                <li class="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                                    <span><span class="font-medium">{fqdn}</span><span class="text-slate-600">{format!(" ({cluster}): {}", what.join(", "))}</span></span>
                                    {about.map(|a| view! { <a class="text-indigo-700 underline" href=a.href>{format!("Open {}", a.link.to_lowercase())}</a> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(d: Dashboard) -> impl IntoView {
    let query = filter_query(&d.filter);
    let list_link = if query.is_empty() {
        "/certificates".to_owned()
    } else {
        format!("/certificates?{query}")
    };
    let c = d.counts;
    let cards = [
        ("expired", c.expired),
        ("critical", c.critical),
        ("warning", c.warning),
        ("ok", c.ok),
        ("unreachable", c.unreachable),
    ];
    view! {
        <FilterBar filter=d.filter.clone() clusters=d.clusters.clone() action="/" />
        <section aria-label="Endpoints by state" class="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
            {cards.map(|(state, n)| view! {
                <a href=state_link(&d.filter, state) class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300" data-testid=format!("count-{state}")>
                    <StateBadge state=state />
                    <p class="mt-2 text-2xl font-semibold tabular-nums">{n}</p>
                    <p class="text-xs text-slate-600">{if state == "unreachable" { "endpoints" } else { "endpoints by expiry" }}</p>
                </a>
            })}
            <div class="rounded-lg border border-dashed border-slate-300 bg-white p-4">
                <p class="text-xs font-semibold text-slate-600">"In view"</p>
                <p class="mt-2 text-sm text-slate-700">{format!("{} nodes · {} endpoints · {} certificates", d.nodes, d.endpoints, d.certificates)}</p>
                {(c.not_scanned > 0).then(|| view! { <p class="mt-1 text-xs text-slate-600">{format!("{} endpoints not scanned yet", c.not_scanned)}</p> })}
            </div>
        </section>
        <Section title="Expiry timeline" description="Certificates served in the fleet by the week they expire, over the next 365 days. Hover a bar for its week.">
            <TimelineChart timeline=d.timeline.clone() />
        </Section>
        <div class="grid gap-6 xl:grid-cols-3">
            <div class="min-w-0 xl:col-span-2">
                <Section title="Expiring first">
                    {if d.soonest.is_empty() {
                        view! { <p class="text-sm text-slate-600">"No certificates in view. Scan the fleet, or widen the filter."</p> }.into_any()
                    } else {
                        view! {
                            <Table headers=&["Expiry", "Certificate", "Served at", "Expires"]>
                                        {d.soonest.iter().map(|r| view! {
                                            <tr data-testid="soonest-row">
                                                <td class="py-1.5 pr-3"><StateBadge state=r.state.clone() /></td>
                                                <td class="py-1.5 pr-3"><a class="underline" href=format!("/certificates/{}", r.fingerprint_sha256)>{r.subject_cn.clone().unwrap_or_else(|| "(no CN)".into())}</a></td>
                                                <td class="py-1.5 pr-3"><a class="font-mono text-xs underline" href=format!("/nodes/{}", r.node_id)>{format!("{}:{}", r.fqdn, r.port)}</a></td>
                                                <td class="py-1.5 whitespace-nowrap text-slate-700">{days_text(r.days_left)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </Table>
                            <a href=list_link class="mt-3 inline-block text-sm font-medium text-indigo-700 underline">"All certificates"</a>
                        }.into_any()
                    }}
                </Section>
            </div>
            <Section title="Findings">
                <div class="flex flex-wrap gap-2 text-sm">
                    {[(certs::Severity::Critical, d.severities[0]), (certs::Severity::Warning, d.severities[1]), (certs::Severity::Info, d.severities[2])].map(|(s, n)| view! {
                        <span class=format!("rounded px-2 py-1 font-semibold {}", severity_classes(s)) data-testid=format!("severity-{}", s.as_str())>{format!("{n} {}", s.as_str())}</span>
                    })}
                </div>
                {if d.lints.is_empty() {
                    view! { <p class="mt-3 text-sm text-slate-600">"No findings in view."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-3 space-y-1 text-sm">
                            {d.lints.iter().map(|l| view! {
                                <li class="flex items-center justify-between gap-2">
                                    <a class="font-mono text-xs underline" href=format!("/certificates?lint={}", l.id)>{l.id.clone()}</a>
                                    <span class=format!("rounded px-1.5 text-xs font-semibold {}", severity_classes(l.severity))>{l.count}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Section>
        </div>
    }
    .into_any()
}

/// The year ahead as weekly bars (critical, warning, ok stacked), expired certificates left of
/// the axis. Plain SVG drawn by the server; every bar has a title, and the totals are also text.
#[component]
fn TimelineChart(timeline: Timeline) -> impl IntoView {
    const LEFT: f64 = 56.0;
    const STEP: f64 = 13.0;
    const BASE: f64 = 150.0;
    const TALL: f64 = 130.0;
    let highest = timeline
        .weeks
        .iter()
        .map(|w| w.counts.iter().sum::<u32>())
        .max()
        .unwrap_or(0)
        .max(timeline.expired)
        .max(1);
    let scale = |n: u32| f64::from(n) * TALL / f64::from(highest);
    let width = LEFT + STEP * timeline.weeks.len() as f64 + 4.0;
    let expired_height = scale(timeline.expired);
    let bars = timeline
        .weeks
        .iter()
        .enumerate()
        .flat_map(|(i, week)| {
            let x = LEFT + STEP * i as f64;
            let mut y = BASE;
            let total: u32 = week.counts.iter().sum();
            let title = format!(
                "Week of {}: {} certificate(s) ({} critical, {} warning, {} ok)",
                week.starts, total, week.counts[0], week.counts[1], week.counts[2]
            );
            let mut parts: Vec<AnyView> = week
                .counts
                .iter()
                .zip(["fill-red-600", "fill-amber-500", "fill-emerald-500"])
                .filter(|(n, _)| **n > 0)
                .map(|(n, class)| {
                    let h = scale(*n).max(2.0);
                    y -= h;
                    view! {
                        <rect x=format!("{x:.1}") y=format!("{y:.1}") width="11" height=format!("{h:.1}") class=class>
                            <title>{title.clone()}</title>
                        </rect>
                    }
                    .into_any()
                })
                .collect();
            if total > 0 {
                parts.push(view! {
                    <text x=format!("{:.1}", x + 5.5) y=format!("{:.1}", y - 3.0) text-anchor="middle" class="fill-slate-700 text-[9px]">{total}</text>
                }.into_any());
            }
            parts
        })
        .collect_view();
    let months = timeline
        .months
        .iter()
        .map(|(day, label)| {
            let x = LEFT + STEP * f64::from(*day) / 7.0;
            view! {
                <line x1=format!("{x:.1}") x2=format!("{x:.1}") y1="150" y2="156" class="stroke-slate-400" />
                <text x=format!("{:.1}", x + 2.0) y="168" class="fill-slate-500 text-[9px]">{label.clone()}</text>
            }
        })
        .collect_view();
    let [w30, w90, w365] = timeline.within;
    view! {
        <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0">
            <svg viewBox=format!("0 0 {width:.0} 176") class="h-48 w-full min-w-[640px]" role="img"
                aria-label=format!("Expiry timeline: {} expired, {w30} within 30 days, {w90} within 90 days, {w365} within a year", timeline.expired)
                data-testid="timeline">
                <line x1="0" x2=format!("{width:.0}") y1="150" y2="150" class="stroke-slate-300" />
                <rect x="8" y=format!("{:.1}", BASE - expired_height.max(if timeline.expired > 0 { 2.0 } else { 0.0 })) width="30"
                    height=format!("{:.1}", expired_height.max(if timeline.expired > 0 { 2.0 } else { 0.0 })) class="fill-red-900">
                    <title>{format!("{} expired certificate(s)", timeline.expired)}</title>
                </rect>
                <text x="8" y="168" class="fill-slate-500 text-[9px]">"expired"</text>
                <text x="23" y=format!("{:.1}", BASE - expired_height - 4.0) text-anchor="middle" class="fill-slate-700 text-[9px]">{timeline.expired}</text>
                {bars}
                {months}
            </svg>
        </div>
        <p class="mt-2 text-sm text-slate-700" data-testid="timeline-summary">
            {format!("Expired: {} · within 30 days: {w30} · within 90 days: {w90} · within a year: {w365} · later: {}", timeline.expired, timeline.later)}
        </p>
        <p class="mt-1 flex flex-wrap gap-3 text-xs text-slate-600">
            <span><span class="mr-1 inline-block h-2 w-2 rounded-sm bg-red-900"></span>"expired"</span>
            <span><span class="mr-1 inline-block h-2 w-2 rounded-sm bg-red-600"></span>"critical"</span>
            <span><span class="mr-1 inline-block h-2 w-2 rounded-sm bg-amber-500"></span>"warning"</span>
            <span><span class="mr-1 inline-block h-2 w-2 rounded-sm bg-emerald-500"></span>"ok"</span>
        </p>
    }
    .into_any()
}
