//! Every saved version (who, when, why, what it changed), a comparison of any two, and
//! restoring an old one as the next version.

use crate::components::{minute, ErrorBox, Section, BUTTON_SECONDARY, INPUT, LABEL};
use crate::server_fns::policy::{PolicyDiff, RestoreVersion};
use domain::access_policy::{Change, VersionView};
use leptos::prelude::*;

#[component]
fn Changes(changes: Vec<Change>) -> impl IntoView {
    if changes.is_empty() {
        return view! { <p class="text-xs text-slate-600">"No change."</p> }.into_any();
    }
    view! {
        <ul class="space-y-0.5 font-mono text-xs">
            {changes.into_iter().map(|c| {
                let class = match c.sign { '+' => "text-emerald-800", '-' => "text-red-800", _ => "text-amber-900" };
                view! { <li class=class>{c.to_string()}</li> }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn Versions(
    cluster_id: i64,
    versions: Vec<VersionView>,
    latest: i32,
    admin: bool,
    restore: ServerAction<RestoreVersion>,
) -> impl IntoView {
    if versions.is_empty() {
        return ().into_any();
    }
    let compare = ServerAction::<PolicyDiff>::new();
    let numbers: Vec<i32> = (0..=latest).collect();
    let select = move |name: &'static str, label: &'static str, chosen: i32| {
        let numbers = numbers.clone();
        let id = format!("compare-{name}");
        view! {
            <div>
                <label for=id.clone() class=LABEL>{label}</label>
                <select id=id name=name class=INPUT>
                    {numbers.into_iter().map(|n| view! {
                        <option value=n.to_string() selected=n == chosen>{if n == 0 { "empty".to_owned() } else { format!("version {n}") }}</option>
                    }).collect_view()}
                </select>
            </div>
        }
    };
    view! {
        <Section title="Versions" description="Every saved version is kept. Compare any two, or restore an old one as the next version (then plan and apply it).">
            <div class="space-y-4" data-testid="versions">
                {move || restore.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
                <ActionForm action=compare attr:class="flex flex-wrap items-end gap-3">
                    <input type="hidden" name="cluster_id" value=cluster_id.to_string() />
                    {select("from", "Compare", (latest - 1).max(0))}
                    {select("to", "with", latest)}
                    <button type="submit" class=BUTTON_SECONDARY>"Compare"</button>
                </ActionForm>
                {move || compare.value().get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(changes) => view! { <div data-testid="compare" class="rounded-md border border-slate-200 bg-slate-50 p-3"><Changes changes /></div> }.into_any(),
                })}
                <ol class="divide-y divide-slate-100">
                    {versions.into_iter().map(|v| view! {
                        <li class="py-3" data-testid="version">
                            <div class="flex flex-wrap items-center justify-between gap-2">
                                <p class="text-sm"><span class="font-semibold">{format!("Version {}", v.version)}</span>
                                    {format!(" · {} · {} UTC", v.author, minute(&v.saved_at))}
                                    {(!v.reason.is_empty()).then(|| view! { <span class="text-slate-700">{format!(" · {}", v.reason)}</span> })}</p>
                                {(admin && v.version != latest).then(|| view! {
                                    <ActionForm action=restore>
                                        <input type="hidden" name="cluster_id" value=cluster_id.to_string() />
                                        <input type="hidden" name="version" value=v.version.to_string() />
                                        <input type="hidden" name="base_version" value=latest.to_string() />
                                        <button type="submit" class=BUTTON_SECONDARY>"Restore as a new version"</button>
                                    </ActionForm>
                                })}
                            </div>
                            <div class="mt-1"><Changes changes=v.changes /></div>
                        </li>
                    }).collect_view()}
                </ol>
            </div>
        </Section>
    }
    .into_any()
}
