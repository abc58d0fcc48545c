//! The certificate list (every served certificate, soonest expiry first, filterable) and one
//! certificate's page (its facts, findings, PEM, and every place it is or was served).

use crate::components::certs::{days_text, CertDetails, FilterBar, Findings, StateBadge};
use crate::components::{minute, EmptyState, ErrorBox, Layout, Section, Table, BUTTON_SECONDARY};
use crate::pages::dashboard::use_filter;
use crate::server_fns::certificates::{load_certificate_list, load_certificate_report};
use domain::certificates::{CertificateReport, LIST_LIMIT};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn CertificatesPage() -> impl IntoView {
    let filter = use_filter();
    let data = Resource::new(
        move || filter.get(),
        |f| load_certificate_list(f.cluster.map(|c| c.to_string()), f.kind, f.state, f.lint),
    );
    view! {
        <Layout title="Certificates">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading certificates…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok((dashboard, rows, total)) => {
                        let filtered = !dashboard.filter.is_empty();
                        let scanned = dashboard.last_scan.is_some() || dashboard.running.is_some();
                        view! {
                            <p class="mb-3 text-sm text-slate-700">"A CA's bundle to split and order for upload? "<a class="font-medium text-indigo-700 underline" href="/tools/chain">"Chain tool"</a></p>
                            <FilterBar filter=dashboard.filter clusters=dashboard.clusters action="/certificates" />
                            {if rows.is_empty() {
                                let body = if filtered {
                                    "No served certificate matches this filter."
                                } else if scanned {
                                    "The scans found no certificates: every endpoint was unreachable or not yet probed. See the dashboard for reasons."
                                } else {
                                    "Certificates appear here once a scan has probed the nodes' endpoints. Start one from the dashboard or a node's page."
                                };
                                view! { <EmptyState title="No certificates" body=body /> }.into_any()
                            } else {
                                view! {
                                    <Section title="Served certificates" description=list_description(rows.len(), total)>
                                        <Table headers=&["Expiry", "Subject CN", "Issuer", "Served at", "Expires", "Findings"]>
                                                    {rows.into_iter().map(|r| view! {
                                                        <tr data-testid="certificate-row">
                                                            <td class="py-1.5 pr-3"><StateBadge state=r.state.clone() />{r.mute.as_ref().map(|m| view! { <span class="ml-1 text-xs text-slate-600" title=format!("muted until {} by {}", minute(&m.until), m.muted_by)>"muted"</span> })}</td>
                                                            <td class="py-1.5 pr-3"><a class="underline" href=format!("/certificates/{}", r.fingerprint_sha256)>{r.subject_cn.clone().unwrap_or_else(|| "(no CN)".into())}</a></td>
                                                            <td class="py-1.5 pr-3 text-slate-600">{r.issuer_cn.clone().unwrap_or_default()}</td>
                                                            <td class="py-1.5 pr-3">
                                                                <a class="font-mono text-xs underline" href=format!("/nodes/{}", r.node_id)>{format!("{}:{}", r.fqdn, r.port)}</a>
                                                                <span class="ml-1 text-xs text-slate-600">{if r.chain_position == 0 { "leaf".to_owned() } else { format!("chain #{}", r.chain_position) }}</span>
                                                            </td>
                                                            <td class="py-1.5 pr-3 whitespace-nowrap">{days_text(r.days_left)}</td>
                                                            <td class="py-1.5 font-mono text-xs text-slate-700">{r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>().join(", ")}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                </Table>
                                    </Section>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                })}
            </Transition>
        </Layout>
    }
}

fn list_description(shown: usize, total: usize) -> String {
    if shown < total {
        format!(
            "{total} served certificates in this view, soonest expiry first; the first {LIST_LIMIT} are listed. Narrow the list with the filters, or read all of them from GET /api/v1/certificates."
        )
    } else {
        format!("{total} served certificate(s), soonest expiry first.")
    }
}

#[component]
pub fn CertificatePage() -> impl IntoView {
    let params = use_params_map();
    let sha256 = move || params.read().get("sha256").unwrap_or_default();
    let data = Resource::new(sha256, load_certificate_report);
    view! {
        <Layout title="Certificate">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading the certificate…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> <a href="/certificates" class="text-sm text-indigo-700 underline">"All certificates"</a> }.into_any(),
                    Ok(report) => view! { <CertificateView report /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn CertificateView(report: CertificateReport) -> impl IntoView {
    let info = report.details.clone();
    let title = info
        .subject_cn
        .clone()
        .unwrap_or_else(|| info.subject.clone());
    let pem_href = format!("/api/v1/certificates/{}/pem", info.sha256);
    view! {
        <div class="flex flex-wrap items-start justify-between gap-3">
            <div>
                <h2 class="text-lg font-semibold" data-testid="certificate-title">{title}</h2>
                <p class="text-sm text-slate-600">{format!("Issued by {} · {} · first seen {} UTC", info.issuer_cn.clone().unwrap_or_else(|| info.issuer.clone()), days_text(report.days_left), minute(&report.first_seen_at))}</p>
            </div>
            <a href=pem_href download class=BUTTON_SECONDARY>"Download PEM"</a>
        </div>
        <Section title="Where it is served" description="Every endpoint that has served this certificate; findings are judged where it is served now.">
            {if report.placements.is_empty() {
                view! { <p class="text-sm text-slate-600">"Not served anywhere in the inventory any more."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100">
                        {report.placements.into_iter().map(|p| view! {
                            <li class="py-3" data-testid="placement">
                                <div class="flex flex-wrap items-center gap-2 text-sm">
                                    {match p.state.clone() { Some(s) => view! { <StateBadge state=s /> }.into_any(), None => view! { <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">"no longer served"</span> }.into_any() }}
                                    <a class="font-mono underline" href=format!("/nodes/{}", p.node_id)>{format!("{}:{}", p.fqdn, p.port)}</a>
                                    <span class="text-xs text-slate-600">{format!("{} · {} · seen {} to {} UTC", p.cluster, if p.chain_position == 0 { "leaf".to_owned() } else { format!("chain #{}", p.chain_position) }, minute(&p.first_seen_at), minute(&p.last_seen_at))}</span>
                                </div>
                                {p.current.then(|| view! { <div class="mt-2"><Findings findings=p.findings.clone() /></div> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Section>
        <Section title="Details">
            <CertDetails info />
            <details class="mt-4">
                <summary class="cursor-pointer text-sm font-medium text-slate-700">"PEM"</summary>
                <pre class="mt-2 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100" tabindex="0">{report.pem}</pre>
            </details>
        </Section>
    }
    .into_any()
}
