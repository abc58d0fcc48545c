//! The map editor: the text with line numbers, the lines with problems marked in place and
//! listed below (a click puts the cursor there), all checked in the browser as it is typed;
//! a table view of the same text; proposing a map from the inventory, importing a file or a
//! node's map; saving with a comment (a save from an older version is refused with what
//! changed since).

use super::find::Find;
use super::problems::Problems;
use super::text::TextView;
use super::tools::Tools;
use crate::components::{ErrorBox, Table, BUTTON, INPUT, LABEL};
use crate::error::AppError;
use crate::server_fns::proxymaps::{MapPage, SaveMap};
use leptos::prelude::*;
use proxymap::{Level, Map};

/// How long typing must pause before the text is checked again (typing itself never waits).
const SETTLE_MS: u64 = 150;

/// The text being edited. Typing updates `text` only; the checks, the marks and the derived
/// output follow `settled`, which catches up once typing pauses, so a keystroke costs the same
/// on a 10,000-line map as on a short one. A version, a file or a proposal replaces all three.
#[derive(Clone, Copy)]
pub struct Draft {
    /// The whole map as typed (for a long map the box holds a window of it; text.rs splices
    /// each keystroke in).
    pub text: RwSignal<String>,
    /// The whole map as last given from outside (a version, a file, a proposal).
    pub(super) shown: RwSignal<String>,
    /// The text as last checked.
    pub settled: RwSignal<String>,
    /// A place to put the cursor (line, column; 1-based) and how many characters after it to
    /// select, asked for by the list of problems and by find.
    pub(super) goto: RwSignal<Option<(usize, usize, usize)>>,
    typed: StoredValue<u64>,
}

impl Draft {
    pub fn new(text: String) -> Self {
        Self {
            text: RwSignal::new(text.clone()),
            shown: RwSignal::new(text.clone()),
            settled: RwSignal::new(text),
            goto: RwSignal::new(None),
            typed: StoredValue::new(0),
        }
    }

    /// Puts `text` in the box and checks it at once.
    pub fn replace(&self, text: String) {
        self.text.set(text.clone());
        self.shown.set(text.clone());
        self.settled.set(text);
    }

    /// What typing does: the text changes now, the check once typing pauses.
    pub(super) fn type_in(&self, text: String) {
        self.text.set(text);
        let this = *self;
        let generation = self.typed.get_value() + 1;
        self.typed.set_value(generation);
        set_timeout(
            move || {
                if this.typed.get_value() == generation {
                    this.settled.set(this.text.get_untracked());
                }
            },
            std::time::Duration::from_millis(SETTLE_MS),
        );
    }
}

/// The settled text checked as the server checks it: alone, and against the map's cluster
/// (`context`) when it has one.
pub fn checked(draft: Draft, context: Option<proxymap::Context>) -> Memo<Map> {
    let context = StoredValue::new(context);
    Memo::new(move |_| {
        let started = now_ms();
        let mut map = proxymap::parse(&draft.settled.read());
        context.with_value(|c| {
            if let Some(c) = c {
                proxymap::check_with(&mut map, c);
            }
        });
        mark_check_time(now_ms() - started);
        map
    })
}

/// The browser's clock in milliseconds (fractions included); 0 outside the browser.
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        return performance.now();
    }
    0.0
}

/// How long the last check took, on `<html data-map-check-ms>` (`./x bench editor` reads it).
fn mark_check_time(_ms: f64) {
    #[cfg(feature = "hydrate")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-map-check-ms", &format!("{_ms:.2}"));
    }
}

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
        AppError::Diverged { message, changes } => view! {
            <div role="alert" class="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="stale-save">
                <p>{message}" Your text is still here; the changes since (by the internal host:port):"</p>
                <ul class="mt-2 font-mono text-xs">{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                <p class="mt-2">"Reload the page to start from the latest version (copy your text first), or edit yours to include them."</p>
            </div>
        }.into_any(),
        AppError::Validation(fields) => view! {
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
