//! The map editor: the text with line numbers, the lines with problems marked in place and
//! listed below (a click puts the cursor there), all checked in the browser as it is typed;
//! a table view of the same text; proposing a map from the inventory, importing a file or a
//! node's map; saving with a comment (a save from an older version is refused with what
//! changed since).

use super::tools::Tools;
use crate::components::editor::{Draft, Find, Problems, TextView};
use crate::components::{ErrorBox, Table, BUTTON, INPUT, LABEL};
use crate::error::AppError;
use crate::server_fns::proxymaps::{MapPage, SaveMap};
use leptos::prelude::*;
use proxymap::{Level, Map};

/// Rows the table view shows (the text view has them all).
const TABLE_ROWS: usize = 1000;

#[component]
pub fn MapEditor(
    page: MapPage,
    draft: Draft,
    checked: Memo<Map>,
    save: ServerAction<SaveMap>,
    admin: bool,
) -> impl IntoView {
    let text = draft.text;
    let table = RwSignal::new(false);
    let comment = RwSignal::new(String::new());
    let base = page.map.latest_version;
    let id = page.map.id;
    let errors = move || {
        checked.with(|m| {
            m.diagnostics
                .iter()
                .filter(|d| d.level == Level::Error)
                .count()
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveMap {
            id,
            text: text.get_untracked(),
            base_version: base,
            comment: comment.get_untracked(),
        });
    };
    let nodes = StoredValue::new(page.nodes.clone());
    let tab = |on: bool| {
        if on {
            "rounded-md bg-slate-800 px-3 py-1 text-sm font-medium text-white"
        } else {
            "rounded-md px-3 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100"
        }
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="map-editor">
            <div class="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-5 py-3">
                <h2 class="text-sm font-semibold text-slate-800">"Map"</h2>
                <div class="flex gap-1" role="group" aria-label="View">
                    <button type="button" class=move || tab(!table.get()) aria-pressed=move || (!table.get()).to_string() on:click=move |_| table.set(false)>"Text"</button>
                    <button type="button" class=move || tab(table.get()) aria-pressed=move || table.get().to_string() on:click=move |_| table.set(true)>"Table"</button>
                </div>
            </div>
            <div class="space-y-4 px-5 py-4">
                {admin.then(|| view! { <Tools nodes=nodes.get_value() draft /> })}
                <p class="text-sm text-slate-700" role="status" aria-live="polite" data-testid="map-summary">{move || summary(&checked.read())}</p>
                <Show when=move || !table.get() fallback=move || view! { <MapTable map=checked nodes /> }>
                    <Find draft />
                    <TextView draft checked admin />
                </Show>
                <Problems draft checked />
                {admin.then(|| view! {
                    <form on:submit=submit class="flex flex-wrap items-end gap-3">
                        <div class="min-w-64 flex-1">
                            <label for="map-comment" class=LABEL>"Why (kept with the version)"</label>
                            <input id="map-comment" class=INPUT maxlength="500" placeholder="add the second CUIC node" prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev)) />
                        </div>
                        <button type="submit" class=BUTTON disabled=move || { save.pending().get() || errors() > 0 }>
                            {move || if errors() > 0 { "Fix the errors to save".to_owned() } else { format!("Save as version {}", base + 1) }}
                        </button>
                    </form>
                })}
                {move || save.value().get().and_then(Result::err).map(|error| view! { <SaveError error /> })}
            </div>
        </section>
    }
}

fn summary(map: &Map) -> String {
    let errors = map
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    let warnings = map.diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{} · {} · {}",
        plural(map.mappings.len(), "mapping"),
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// A refused save: a stale one with the changes to merge, an invalid one with its problems.
#[component]
fn SaveError(error: AppError) -> impl IntoView {
    match error {
        AppError { message, changes, failure: crate::error::Failure::Outdated(_), .. } => view! {
            <div role="alert" class="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="stale-save">
                <p>{message}" Your text is still here; the changes since (by the internal host:port):"</p>
                <ul class="mt-2 font-mono text-xs">{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                <p class="mt-2">"Reload the page to start from the latest version (copy your text first), or edit yours to include them."</p>
            </div>
        }.into_any(),
        AppError { fields, failure: crate::error::Failure::Invalid, .. } => view! {
            <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
                <p>"The server found errors:"</p>
                <ul class="mt-1 font-mono text-xs">{fields.into_values().flatten().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
            </div>
        }.into_any(),
        other => view! { <ErrorBox error=other /> }.into_any(),
    }
}

/// The mappings as a table: each with its inventory node and product, and its problems.
#[component]
fn MapTable(map: Memo<Map>, nodes: StoredValue<Vec<domain::proxy_maps::MapNode>>) -> impl IntoView {
    let rows = move || {
        map.with(|m| {
            // Each line's problems, found once (not once per row: a long map has thousands).
            let mut by_line = std::collections::HashMap::<usize, Vec<String>>::new();
            for d in &m.diagnostics {
                by_line.entry(d.line).or_default().push(format!(
                    "{}: {}",
                    d.level.as_str(),
                    d.code.as_str()
                ));
            }
            m.mappings
                .iter()
                .take(TABLE_ROWS)
                .map(|mapping| {
                    let internal = mapping.internal.host.to_string();
                    let node = nodes.with_value(|n| {
                        n.iter()
                            .find(|n| n.fqdn.eq_ignore_ascii_case(&internal))
                            .cloned()
                    });
                    let problems = by_line.remove(&mapping.line).unwrap_or_default();
                    (
                        mapping.line,
                        mapping.internal.to_string(),
                        mapping.external.to_string(),
                        node,
                        problems,
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let more = move || map.with(|m| m.mappings.len().saturating_sub(TABLE_ROWS));
    view! {
        <div class="max-h-[32rem] overflow-auto" data-testid="map-table">
            <Table headers=&["Line", "Internal", "External", "Node", "Product", "Status"]>
                {move || rows().into_iter().map(|(line, internal, external, node, problems)| view! {
                    <tr class="border-t border-slate-100">
                        <td class="py-1 pr-3 text-slate-600">{line}</td>
                        <td class="py-1 pr-3 font-mono text-xs">{internal}</td>
                        <td class="py-1 pr-3 font-mono text-xs">{external}</td>
                        <td class="py-1 pr-3">{node.as_ref().map_or("not in the inventory".to_owned(), |n| n.fqdn.clone())}</td>
                        <td class="py-1 pr-3">{node.map_or(String::new(), |n| n.kind.label().to_owned())}</td>
                        <td class="py-1 pr-3">{if problems.is_empty() { "ok".to_owned() } else { problems.join(", ") }}</td>
                    </tr>
                }).collect_view()}
            </Table>
            {move || (more() > 0).then(|| view! { <p class="mt-2 text-sm text-slate-600">{format!("The first {TABLE_ROWS} mappings; {} more in the text view.", more())}</p> })}
        </div>
    }
}
