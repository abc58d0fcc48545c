//! The audit log: filters, paging, export (CSV, JSON Lines) and a check of the hash chain.
//! The filter form is a plain GET form, so filtering works before the wasm has loaded.

use crate::components::{
    EmptyState, ErrorBox, Layout, Section, BUTTON, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::audit::{list_audit, verify_audit};
use domain::audit::{AuditEntry, AuditFilter, PAGE_SIZE};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
        AuditFilter {
            actor: get("actor"),
            action: get("action"),
            target: get("target"),
            outcome: get("outcome"),
            from: get("from"),
            to: get("to"),
        }
    });
    let offset = Memo::new(move |_| {
        query
            .read()
            .get("offset")
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0)
    });
    let page = Resource::new(
        move || (filter.get(), offset.get()),
        |(f, o)| list_audit(f, o),
    );
    let verify = Action::new(|_: &()| verify_audit());

    let field = move |name: &'static str, label: &'static str, placeholder: &'static str| {
        let value = move || query.read().get(name).unwrap_or_default();
        view! {
            <div>
                <label for=format!("f-{name}") class=LABEL>{label}</label>
                <input id=format!("f-{name}") name=name value=value placeholder=placeholder class=INPUT />
            </div>
        }
    };
    let export = move |format: &'static str| {
        let q = filter.get().to_query();
        if q.is_empty() {
            format!("/api/v1/audit?format={format}")
        } else {
            format!("/api/v1/audit?format={format}&{q}")
        }
    };

    view! {
        <Layout title="Audit log">
            <Section title="Filter">
                <form method="get" action="/audit" class="grid gap-3 sm:grid-cols-3 lg:grid-cols-7 lg:items-end">
                    {field("actor", "Actor", "alice")}
                    {field("action", "Action", "auth. or user.create")}
                    {field("target", "Target contains", "user:bob")}
                    <div>
                        <label for="f-outcome" class=LABEL>"Outcome"</label>
                        <select id="f-outcome" name="outcome" class=INPUT>
                            {["", "success", "failure", "denied"].map(|o| {
                                let selected = move || query.read().get("outcome").unwrap_or_default() == o;
                                view! { <option value=o selected=selected>{if o.is_empty() { "any" } else { o }}</option> }
                            })}
                        </select>
                    </div>
                    {field("from", "From", "YYYY-MM-DD")}
                    {field("to", "To", "YYYY-MM-DD")}
                    <div class="flex gap-2">
                        <button type="submit" class=BUTTON>"Apply"</button>
                        <a href="/audit" class=BUTTON_SECONDARY>"Clear"</a>
                    </div>
                </form>
            </Section>
            <div class="flex flex-wrap items-center gap-3">
                <a href=move || export("csv") download="audit.csv" class=BUTTON_SECONDARY data-testid="export-csv">"Export CSV"</a>
                <a href=move || export("jsonl") download="audit.jsonl" class=BUTTON_SECONDARY data-testid="export-jsonl">"Export JSON Lines"</a>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| { verify.dispatch(()); }>
                    "Verify hash chain"
                </button>
                {move || verify.value().get().map(|result| match result {
                    Ok(report) if report.ok => view! {
                        <span role="status" class="text-sm text-emerald-700">{format!("Chain intact: {} entries verified.", report.entries)}</span>
                    }.into_any(),
                    Ok(report) => view! {
                        <span role="alert" class="text-sm font-semibold text-red-700">
                            {format!("Chain broken at entry {}: {}", report.first_broken.unwrap_or_default(), report.reason.unwrap_or_default())}
                        </span>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                })}
            </div>
            <Section title="Entries" description="Newest first. Reading this page is itself recorded.">
                <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                    {move || page.get().map(|result| match result {
                        Ok(p) if p.entries.is_empty() => view! {
                            <EmptyState title="No entries match" body="Change or clear the filters." />
                        }.into_any(),
                        Ok(p) => {
                            let query = filter.get().to_query();
                            view! { <EntryTable entries=p.entries.clone() /> <Pager total=p.total offset=p.offset query /> }.into_any()
                        }
                        Err(error) => view! { <ErrorBox error /> }.into_any(),
                    })}
                </Transition>
            </Section>
        </Layout>
    }
}

fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "success" => "text-emerald-700",
        "failure" => "text-red-700 font-semibold",
        _ => "text-amber-700 font-semibold",
    }
}

#[component]
fn EntryTable(entries: Vec<AuditEntry>) -> impl IntoView {
    let rows = entries
        .into_iter()
        .map(|e| {
            let change = match (&e.before, &e.after) {
                (None, None) => String::new(),
                (before, after) => format!(
                    "{} → {}",
                    before.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
                    after.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "—".into())
                ),
            };
            view! {
                <tr data-testid="audit-row" class="align-top">
                    <td class="py-2 pr-3 font-mono text-xs text-slate-600">{e.id}</td>
                    <td class="whitespace-nowrap py-2 pr-3 text-xs">{e.at.chars().take(19).collect::<String>().replace('T', " ")}</td>
                    <td class="py-2 pr-3">{e.actor.clone()}<span class="text-xs text-slate-600">{e.actor_role.clone().map(|r| format!(" ({r})"))}</span></td>
                    <td class="py-2 pr-3 text-xs text-slate-600">{e.source.clone()}</td>
                    <td class="py-2 pr-3 font-mono text-xs">{e.action.clone()}</td>
                    <td class="py-2 pr-3 text-xs">{e.target.clone()}</td>
                    <td class=format!("py-2 pr-3 text-xs {}", outcome_class(&e.outcome))>{e.outcome.clone()}</td>
                    <td class="max-w-md break-words py-2 text-xs text-slate-600">{e.detail.clone()}" "<span class="font-mono">{change}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead>
                    <tr class="text-left text-xs uppercase tracking-wide text-slate-600">
                        <th class="py-2 pr-3">"#"</th><th class="py-2 pr-3">"Time (UTC)"</th><th class="py-2 pr-3">"Actor"</th>
                        <th class="py-2 pr-3">"Source"</th><th class="py-2 pr-3">"Action"</th><th class="py-2 pr-3">"Target"</th>
                        <th class="py-2 pr-3">"Outcome"</th><th class="py-2">"Details"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn Pager(total: i64, offset: i64, query: String) -> impl IntoView {
    let link = move |o: i64| {
        if query.is_empty() {
            format!("/audit?offset={o}")
        } else {
            format!("/audit?{query}&offset={o}")
        }
    };
    let last = (offset + PAGE_SIZE).min(total);
    let prev = (offset > 0).then(|| link((offset - PAGE_SIZE).max(0)));
    let next = (last < total).then(|| link(offset + PAGE_SIZE));
    view! {
        <div class="mt-4 flex items-center justify-between text-sm text-slate-600">
            <span>{format!("{}–{} of {}", offset + 1, last, total)}</span>
            <div class="flex gap-2">
                {prev.map(|href| view! { <a href=href class=BUTTON_SECONDARY>"Newer"</a> })}
                {next.map(|href| view! { <a href=href class=BUTTON_SECONDARY>"Older"</a> })}
            </div>
        </div>
    }
}
