//! Pieces the certificate pages share: state and severity badges, the filter bar, findings
//! with their remediation, a certificate's details, and the scan panel with live progress.

use super::{minute, ErrorBox, BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL};
use crate::server_fns::certificates::{load_scan_progress, ScanCancel, ScanStart};
use certs::{CertInfo, Finding, Severity};
use domain::certificates::{Filter, ScanProgress};
use domain::inventory::model::NodeKind;
use leptos::prelude::*;

/// Tailwind classes for an alert state (`expired`, `critical`, `warning`, `ok`, `unreachable`,
/// `not_scanned`).
pub fn state_classes(state: &str) -> &'static str {
    match state {
        "expired" => "bg-red-900 text-white",
        "critical" => "bg-red-100 text-red-800 ring-1 ring-red-300",
        "warning" => "bg-amber-100 text-amber-900 ring-1 ring-amber-300",
        "ok" => "bg-emerald-100 text-emerald-800 ring-1 ring-emerald-300",
        "unreachable" => "bg-slate-700 text-white",
        _ => "bg-slate-100 text-slate-700 ring-1 ring-slate-300",
    }
}

pub fn state_label(state: &str) -> &'static str {
    match state {
        "expired" => "expired",
        "critical" => "critical",
        "warning" => "warning",
        "ok" => "ok",
        "unreachable" => "unreachable",
        "not_scanned" => "not scanned",
        _ => "unknown",
    }
}

#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    view! {
        <span class=format!("inline-flex whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-semibold {}", state_classes(&state))
            data-state=state.clone()>
            {state_label(&state)}
        </span>
    }
}

pub fn severity_classes(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "bg-red-100 text-red-800",
        Severity::Warning => "bg-amber-100 text-amber-900",
        Severity::Info => "bg-sky-100 text-sky-800",
    }
}

/// Days left as people say it.
pub fn days_text(days: i64) -> String {
    match days {
        d if d < -1 => format!("expired {} days ago", -d),
        -1 => "expired yesterday".into(),
        0 => "expires today".into(),
        1 => "1 day left".into(),
        d => format!("{d} days left"),
    }
}

/// Findings, most severe first, each with what to do.
#[component]
pub fn Findings(findings: Vec<Finding>) -> impl IntoView {
    if findings.is_empty() {
        return view! { <p class="text-xs text-emerald-700">"No findings."</p> }.into_any();
    }
    view! {
        <ul class="space-y-2">
            {findings.into_iter().map(|f| view! {
                <li class="text-sm" data-lint=f.id.clone()>
                    <div class="flex flex-wrap items-baseline gap-2">
                        <span class=format!("rounded px-1.5 py-0.5 text-xs font-semibold {}", severity_classes(f.severity))>{f.severity.as_str()}</span>
                        <code class="text-xs text-slate-600">{f.id.clone()}</code>
                        <span class="text-slate-800">{f.message.clone()}</span>
                    </div>
                    <p class="mt-0.5 text-xs text-slate-600">
                        <span class="font-medium">"Fix: "</span>{f.remediation.clone()}
                        <span class="text-slate-600">{format!(" ({})", f.source)}</span>
                    </p>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Every parsed fact of a certificate, in a table.
#[component]
pub fn CertDetails(info: CertInfo) -> impl IntoView {
    let rows: Vec<(&'static str, String)> = vec![
        ("Subject", info.subject.clone()),
        ("Issuer", info.issuer.clone()),
        ("Serial", info.serial.clone()),
        ("Valid from", unix_minute(info.not_before)),
        ("Valid until", unix_minute(info.not_after)),
        ("SAN DNS", join_or_dash(&info.san_dns)),
        ("SAN IP", join_or_dash(&info.san_ip)),
        ("Key", key_text(&info)),
        ("Signature", info.signature_algorithm.clone()),
        ("Version", format!("v{}", info.version)),
        (
            "CA",
            if info.is_ca {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        (
            "Key usage",
            info.key_usage.as_ref().map_or("—".into(), |k| k.join(", ")),
        ),
        ("Extended key usage", join_or_dash(&info.extended_key_usage)),
        (
            "Subject key id",
            info.subject_key_id.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            "Authority key id",
            info.authority_key_id.clone().unwrap_or_else(|| "—".into()),
        ),
        ("SHA-256", info.sha256.clone()),
        ("SHA-1", info.sha1.clone()),
        (
            "Self-signed",
            if info.self_signed {
                "yes".into()
            } else {
                "no".into()
            },
        ),
    ];
    let extensions = info
        .extensions
        .iter()
        .map(|e| {
            let name = e.name.clone().unwrap_or_else(|| e.oid.clone());
            if e.critical {
                format!("{name} (critical)")
            } else {
                name
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <dl class="grid grid-cols-1 gap-x-4 gap-y-1 text-xs sm:grid-cols-[10rem_1fr]">
            {rows.into_iter().map(|(k, v)| view! {
                <dt class="font-medium text-slate-600">{k}</dt>
                <dd class="break-all font-mono text-slate-800">{v}</dd>
            }).collect_view()}
            <dt class="font-medium text-slate-600">"Extensions"</dt>
            <dd class="break-all font-mono text-slate-800">{extensions}</dd>
        </dl>
    }
    .into_any()
}

fn join_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "—".into()
    } else {
        items.join(", ")
    }
}

fn key_text(info: &CertInfo) -> String {
    match (&info.key.curve, info.key.bits) {
        (Some(curve), _) => format!("{} {curve}", info.key.algorithm),
        (None, Some(bits)) => format!("{} {bits} bits", info.key.algorithm),
        (None, None) => info.key.algorithm.clone(),
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM` UTC.
pub fn unix_minute(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map(|t| minute(&t))
        .unwrap_or_default()
}

/// The filter bar: a plain GET form, so it works before the wasm has loaded.
#[component]
pub fn FilterBar(
    filter: Filter,
    clusters: Vec<(i64, String)>,
    action: &'static str,
) -> impl IntoView {
    let selected = |current: &Option<String>, value: &str| current.as_deref() == Some(value);
    let cluster = filter.cluster;
    let empty = filter.is_empty();
    view! {
        <form method="get" action=action class="grid gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:grid-cols-2 lg:grid-cols-5 lg:items-end" aria-label="Filter">
            <div>
                <label for="f-cluster" class=LABEL>"Cluster"</label>
                <select id="f-cluster" name="cluster" class=INPUT>
                    <option value="">"All clusters"</option>
                    {clusters.into_iter().map(|(id, name)| view! {
                        <option value=id.to_string() selected=cluster == Some(id)>{name}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="f-kind" class=LABEL>"Kind"</label>
                <select id="f-kind" name="kind" class=INPUT>
                    <option value="">"All kinds"</option>
                    {NodeKind::ALL.map(|k| view! {
                        <option value=k.as_str() selected=selected(&filter.kind, k.as_str())>{k.label()}</option>
                    })}
                </select>
            </div>
            <div>
                <label for="f-state" class=LABEL>"State"</label>
                <select id="f-state" name="state" class=INPUT>
                    <option value="">"All states"</option>
                    {["expired", "critical", "warning", "ok", "unreachable"].map(|s| view! {
                        <option value=s selected=selected(&filter.state, s)>{state_label(s)}</option>
                    })}
                </select>
            </div>
            <div>
                <label for="f-lint" class=LABEL>"Finding"</label>
                <select id="f-lint" name="lint" class=INPUT>
                    <option value="">"Any finding"</option>
                    {certs::lints::IDS.map(|id| view! {
                        <option value=id selected=selected(&filter.lint, id)>{id}</option>
                    })}
                </select>
            </div>
            <div class="flex gap-2">
                <button type="submit" class=BUTTON>"Apply"</button>
                {(!empty).then(|| view! { <a href=action class=BUTTON_SECONDARY>"Clear"</a> })}
            </div>
        </form>
    }
    .into_any()
}

/// "Scan now" for one node or the fleet, with live progress (per-endpoint results as they
/// complete, a progress bar, cancel). `running` is a scan already under way (from the page's
/// data); `finished` is bumped when a scan ends so the page can reload what it shows. Place the
/// panel outside whatever that reload re-renders, so the finished scan stays in view.
#[component]
pub fn ScanPanel(
    node_id: Option<i64>,
    #[prop(into)] running: Signal<Option<i64>>,
    #[prop(into)] admin: Signal<bool>,
    finished: RwSignal<u32>,
) -> impl IntoView {
    let start = ServerAction::<ScanStart>::new();
    let cancel = ServerAction::<ScanCancel>::new();
    // The scan shown: the one started here, else one found running; kept once it ends.
    let scan_id = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            scan_id.set(Some(id));
        }
    });
    Effect::new(move |_| {
        if let Some(id) = running.get() {
            if scan_id.get_untracked() != Some(id) {
                scan_id.set(Some(id));
            }
        }
    });
    let tick = RwSignal::new(0u32);
    let progress = Resource::new(
        move || (scan_id.get().or_else(|| running.get()), tick.get()),
        |(id, _)| async move {
            match id {
                Some(id) => Some(load_scan_progress(id).await),
                None => None,
            }
        },
    );
    // While the scan runs, ask again every second; when it ends, tell the page, once per scan.
    // A short scan may already be over at the first answer: its end is news all the same (every
    // scan shown was started here or found running).
    Effect::new(move |reported: Option<Option<i64>>| {
        let reported = reported.flatten();
        let Some(Some(Ok(p))) = progress.get() else {
            return reported;
        };
        if p.scan.is_active() {
            set_timeout(
                move || tick.update(|t| *t = t.wrapping_add(1)),
                std::time::Duration::from_secs(1),
            );
            reported
        } else if reported != Some(p.scan.id) {
            finished.update(|f| *f = f.wrapping_add(1));
            Some(p.scan.id)
        } else {
            reported
        }
    });
    let what = if node_id.is_some() {
        "this node"
    } else {
        "the whole fleet"
    };
    view! {
        <div class="space-y-3" data-testid="scan-panel">
            {move || admin.get().then(|| view! {
                <ActionForm action=start attr:class="flex flex-wrap items-center gap-3">
                    {node_id.map(|id| view! { <input type="hidden" name="node_id" value=id.to_string() /> })}
                    <button type="submit" class=BUTTON disabled=move || start.pending().get()>"Scan now"</button>
                    <span class="text-xs text-slate-600">{format!("Probes every endpoint of {what} now.")}</span>
                </ActionForm>
            })}
            {move || start.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
            {move || cancel.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
            <Transition fallback=|| ()>
                {move || progress.get().flatten().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(p) => view! { <ScanProgressView progress=p admin=admin.get() cancel /> }.into_any(),
                })}
            </Transition>
        </div>
    }
    .into_any()
}

#[component]
fn ScanProgressView(
    progress: ScanProgress,
    admin: bool,
    cancel: ServerAction<ScanCancel>,
) -> impl IntoView {
    let scan = progress.scan;
    let percent = if scan.total > 0 {
        (i64::from(scan.done) * 100 / i64::from(scan.total)).clamp(0, 100)
    } else {
        100
    };
    let running = scan.is_active();
    let headline = scan.headline();
    let id = scan.id;
    view! {
        <div class="rounded-md border border-slate-200 bg-slate-50 p-3" data-testid="scan-progress" data-state=scan.state.clone()>
            <div class="flex flex-wrap items-center justify-between gap-2">
                <p role="status" class="text-sm font-medium text-slate-800">{headline}</p>
                {(admin && running).then(|| view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class=BUTTON_DANGER>"Cancel"</button>
                    </ActionForm>
                })}
            </div>
            <progress class="mt-2 h-2 w-full" max="100" value=percent.to_string() aria-label="Scan progress">{format!("{percent}%")}</progress>
            {(!progress.results.is_empty()).then(|| view! {
                <ul class="mt-2 max-h-48 space-y-0.5 overflow-y-auto text-xs" tabindex="0">
                    {progress.results.into_iter().map(|r| {
                        let outcome = if r.ok {
                            format!("{} · {}", r.subject_cn.clone().unwrap_or_else(|| "(no CN)".into()), r.state.clone().unwrap_or_default())
                        } else {
                            format!("{}: {}", r.error_code.clone().unwrap_or_default(), r.error_message.clone().unwrap_or_default())
                        };
                        view! {
                            <li class="flex gap-2" data-testid="scan-result">
                                <span class=if r.ok { "text-emerald-700" } else { "text-red-700" }>{if r.ok { "✓" } else { "✗" }}</span>
                                <a class="font-mono text-slate-700 underline" href=format!("/nodes/{}", r.node_id)>{format!("{}:{}", r.fqdn, r.port)}</a>
                                <span class="text-slate-600">{outcome}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}
