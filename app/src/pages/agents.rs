//! Connected agents: users signed in to each Finesse node (desktop, FIPPA, third-party;
//! LAN/WAN or through the VPN-less proxy), per cluster and for the fleet, read from the nodes
//! while the page is open, with the fleet's last 24 hours as a chart.

use crate::components::{ask_again, minute, EmptyState, ErrorBox, Layout, Section};
use crate::server_fns::appliances::{load_connected_agents, load_node_agents};
use domain::appliances::{ConnectedAgents, Counts, HistoryPoint, NodeAgents};
use leptos::prelude::*;

/// How often the open page asks again.
const REFRESH_SECONDS: u64 = 10;

#[component]
pub fn AgentsPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let data = Resource::new(move || tick.get(), |_| load_connected_agents());
    ask_again(tick, REFRESH_SECONDS, move || data.get().is_some());
    view! {
        <Layout title="Connected agents">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Reading the Finesse nodes…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(agents) if agents.nodes.is_empty() => view! {
                        <EmptyState title="No Finesse nodes" body="Connected agents are read from Finesse nodes (utils finesse show_connected_users summary). Add Finesse nodes to the inventory and enter their platform admin account on each node's page." />
                    }.into_any(),
                    Ok(agents) => view! { <AgentsView agents /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn AgentsView(agents: ConnectedAgents) -> impl IntoView {
    let read = match &agents.read_at {
        Some(at) => format!(
            "Latest read {} UTC; asked again every {REFRESH_SECONDS} s while this page is open.",
            minute(at)
        ),
        None => "No node has been read yet.".into(),
    };
    view! {
        <div class="space-y-6">
            <div>
                <CountCards counts=agents.totals />
                <p class="mt-2 text-xs text-slate-600" data-testid="agents-read-at">{read}</p>
            </div>
            <Section title="Last 24 hours" description="Fleet total (dark) and via the proxy (light), one point per sampling round.">
                <HistoryChart points=agents.history.clone() />
            </Section>
            {(!agents.proxied.is_empty()).then(|| {
                let rows = agents.proxied.iter().map(|a| view! {
                    <tr data-testid="proxied-agent">
                        <td class="py-1 pr-3 font-medium">{a.user.clone()}</td>
                        <td class="py-1 pr-3 font-mono text-xs">{a.address.clone()}</td>
                        <td class="py-1 pr-3">{format!("via {} ({})", a.instance, a.pair)}</td>
                        <td class="py-1 pr-3">{a.websockets}</td>
                        <td class="py-1 pr-3 text-xs text-slate-600">{format!("{} UTC", minute(&a.last))}</td>
                    </tr>
                }).collect_view();
                view! {
                    <Section title="Through the VPN-less proxies" description="Each agent the gatehouse-proxy instances reported in the last minute, with the instance it comes through. Agents not listed here reach Finesse on the LAN (or through another proxy).">
                        <crate::components::Table headers=&["Agent", "Address", "Through", "WebSockets", "Last request"]>{rows}</crate::components::Table>
                    </Section>
                }
            })}
            <Section title="By node">
                <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0">
                    <table class="min-w-full text-sm">
                        <thead class="text-left text-xs uppercase tracking-wide text-slate-600">
                            <tr>
                                {["Node", "Desktop", "FIPPA", "Third-party", "Total", "LAN/WAN", "Via proxy", "Read"].map(|h| view! { <th class="px-2 py-2 font-medium">{h}</th> })}
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {agents.clusters.iter().map(|c| {
                                let nodes: Vec<_> = agents.nodes.iter().filter(|n| n.cluster_id == c.cluster_id).cloned().collect();
                                view! {
                                    <tr class="bg-slate-50 font-semibold text-slate-800" data-testid="cluster-row">
                                        <td class="px-2 py-2">{c.cluster.clone()}</td>
                                        <CountCells counts=Some(c.counts) />
                                        <td></td>
                                    </tr>
                                    {nodes.into_iter().map(|n| view! {
                                        <tr data-testid="node-row">
                                            <td class="px-2 py-2 pl-5"><a class="font-mono text-indigo-700 underline" href=format!("/nodes/{}", n.node_id)>{n.fqdn.clone()}</a></td>
                                            <CountCells counts=n.counts />
                                            <td class="px-2 py-2 text-xs text-slate-600">
                                                {read_text(&n)}
                                                {n.error.clone().map(|e| view! { <span class="block text-red-700">{e}</span> })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                }
                            }).collect_view()}
                            {agents.nodes.iter().filter(|n| !agents.clusters.iter().any(|c| c.cluster_id == n.cluster_id)).map(|n| view! {
                                <tr data-testid="node-row">
                                    <td class="px-2 py-2"><a class="font-mono text-indigo-700 underline" href=format!("/nodes/{}", n.node_id)>{n.fqdn.clone()}</a><span class="block text-xs text-slate-600">{n.cluster.clone()}</span></td>
                                    <CountCells counts=None />
                                    <td class="px-2 py-2 text-xs text-slate-600">
                                        "never"
                                        {n.error.clone().map(|e| view! { <span class="block text-red-700">{e}</span> })}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </Section>
        </div>
    }
    .into_any()
}

/// When a node was last read, and from where.
fn read_text(n: &NodeAgents) -> String {
    let source = match n.source.as_deref() {
        Some("rest") => " · REST API",
        Some("cli") => " · CLI",
        _ => "",
    };
    match n.read_at.as_deref() {
        Some(at) => format!("{} UTC{source}", minute(at)),
        None => "never".into(),
    }
}

/// The six counts as cards (`total-<count>` test ids).
#[component]
fn CountCards(counts: Counts) -> impl IntoView {
    let c = counts;
    let cards = [
        ("Signed in", c.total, "total"),
        ("Desktop", c.desktop, "desktop"),
        ("FIPPA", c.fippa, "fippa"),
        ("Third-party", c.third_party, "third_party"),
        ("LAN/WAN", c.lan, "lan"),
        ("Via proxy", c.proxy, "proxy"),
    ];
    view! {
        <div class="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
            {cards.map(|(label, value, id)| view! {
                <div class="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm" data-testid=format!("total-{id}")>
                    <p class="text-xs text-slate-600">{label}</p>
                    <p class="text-2xl font-semibold text-slate-900">{value}</p>
                </div>
            })}
        </div>
    }
}

/// The node page's section for a Finesse node (nothing for other kinds): its connected users,
/// read again every [`REFRESH_SECONDS`] while the page is open.
#[component]
pub fn NodeConnectedUsers(node_id: i64) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let data = Resource::new(move || tick.get(), move |_| load_node_agents(node_id));
    ask_again(tick, REFRESH_SECONDS, move || data.get().is_some());
    view! {
        <Transition fallback=|| ()>
            {move || data.get().map(|result| match result {
                Ok(None) => ().into_any(),
                Err(error) => view! { <Section title="Connected users"><ErrorBox error /></Section> }.into_any(),
                Ok(Some(n)) => view! {
                    <Section title="Connected users" description="Users signed in to this Finesse node: from the ConnectedUsersInfo REST API when it answers the stored account, else from utils finesse show_connected_users summary.">
                        <div class="space-y-2" data-testid="node-agents">
                            {match n.counts {
                                Some(counts) => view! { <CountCards counts /> }.into_any(),
                                None => view! { <p class="text-sm text-slate-600">"Not read yet."</p> }.into_any(),
                            }}
                            <p class="text-xs text-slate-600" data-testid="node-agents-read">
                                {format!("Read {}; asked again every {REFRESH_SECONDS} s while this page is open.", read_text(&n))}
                            </p>
                            {n.error.clone().map(|e| view! { <p role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{e}</p> })}
                        </div>
                    </Section>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn CountCells(counts: Option<Counts>) -> impl IntoView {
    let cell = move |v: Option<u32>| {
        view! { <td class="px-2 py-2 tabular-nums">{v.map(|v| v.to_string()).unwrap_or_else(|| "—".into())}</td> }
    };
    let c = counts;
    view! {
        {cell(c.map(|c| c.desktop))}
        {cell(c.map(|c| c.fippa))}
        {cell(c.map(|c| c.third_party))}
        {cell(c.map(|c| c.total))}
        {cell(c.map(|c| c.lan))}
        {cell(c.map(|c| c.proxy))}
    }
}

/// An SVG line chart, drawn on the server (readable without JavaScript).
#[component]
fn HistoryChart(points: Vec<HistoryPoint>) -> impl IntoView {
    const W: f64 = 720.0;
    const H: f64 = 160.0;
    const PAD: f64 = 28.0;
    if points.len() < 2 {
        return view! { <p class="text-sm text-slate-600">"The chart appears once the nodes have been read twice."</p> }.into_any();
    }
    let (first, last) = (points[0].at, points[points.len() - 1].at);
    let span = ((last - first) as f64).max(1.0);
    let top = f64::from(points.iter().map(|p| p.total).max().unwrap_or(0).max(1));
    let x = |at: i64| PAD + (at - first) as f64 / span * (W - 2.0 * PAD);
    let y = |v: u32| H - PAD - f64::from(v) / top * (H - 2.0 * PAD);
    let line = |value: fn(&HistoryPoint) -> u32| {
        points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.at), y(value(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let label = |at: i64| {
        time::OffsetDateTime::from_unix_timestamp(at)
            .map(|t| format!("{:02}:{:02} UTC", t.hour(), t.minute()))
            .unwrap_or_default()
    };
    let summary = format!(
        "From {} to {}: now {} signed in ({} via the proxy), at most {}.",
        label(first),
        label(last),
        points[points.len() - 1].total,
        points[points.len() - 1].proxy,
        top
    );
    view! {
        <figure>
            <svg viewBox=format!("0 0 {W} {H}") class="h-40 w-full" role="img" aria-label=summary.clone()>
                <line x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD stroke="#cbd5e1" />
                <text x=PAD y=H - 8.0 font-size="11" fill="#64748b">{label(first)}</text>
                <text x=W - PAD y=H - 8.0 font-size="11" fill="#64748b" text-anchor="end">{label(last)}</text>
                <text x=4.0 y=PAD font-size="11" fill="#64748b">{top.to_string()}</text>
                <polyline points=line(|p| p.proxy) fill="none" stroke="#a5b4fc" stroke-width="2" />
                <polyline points=line(|p| p.total) fill="none" stroke="#4338ca" stroke-width="2" />
            </svg>
            <figcaption class="mt-1 text-xs text-slate-600" data-testid="history-summary">{summary}</figcaption>
        </figure>
    }
    .into_any()
}
