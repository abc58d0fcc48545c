//! The map editor: the text with line numbers, the lines with problems marked in place and
//! listed below (a click puts the cursor there), all checked in the browser as it is typed;
//! a table view of the same text; proposing a map from the inventory, importing a file or a
//! node's map; saving with a comment (a save from an older version is refused with what
//! changed since).

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
    /// What the box holds, as typed.
    pub text: RwSignal<String>,
    /// What the box was last given from outside.
    shown: RwSignal<String>,
    /// The text as last checked.
    pub settled: RwSignal<String>,
    typed: StoredValue<u64>,
}

impl Draft {
    pub fn new(text: String) -> Self {
        Self {
            text: RwSignal::new(text.clone()),
            shown: RwSignal::new(text.clone()),
            settled: RwSignal::new(text),
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
    fn type_in(&self, text: String) {
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

/// One line of the text, in pixels: the gutter and the marks follow the text by it.
const LINE_PX: usize = 20;
/// Problems listed below the text (all of them are counted).
const LISTED: usize = 200;
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
                    <TextView draft checked admin />
                </Show>
                <Problems text checked />
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

/// The text with a line-number gutter; lines with an error or a warning get a band behind
/// them (in the gutter and the text), which scrolls with the text. No style attributes (the
/// console's CSP forbids them): the bands are SVG rectangles, the gutter follows the text by
/// its scroll position.
#[component]
fn TextView(draft: Draft, checked: Memo<Map>, admin: bool) -> impl IntoView {
    let gutter = NodeRef::<leptos::html::Div>::new();
    let behind = NodeRef::<leptos::html::Div>::new();
    let top = RwSignal::new(0usize);
    let lines = Memo::new(move |_| draft.text.read().lines().count().max(1));
    let numbers = Memo::new(move |_| {
        let mut out = String::new();
        for n in 1..=lines.get() {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        out
    });
    // One band per line with a problem in view (and a screen either side), the worst level
    // winning: a map with a warning on every line draws dozens of bands, not thousands.
    let bands = Memo::new(move |_| {
        let first = (top.get() / LINE_PX).saturating_sub(30);
        checked.with(|m| marked_lines(&m.diagnostics, first..first + 90))
    });
    // The text's padding is 8 px; the layers are as tall as the text so they can scroll.
    let height = move || ((lines.get() + 2) * LINE_PX + 16).to_string();
    let layer = move || {
        view! {
            <svg class="absolute inset-x-0 top-0 w-full" height=height aria-hidden="true">
                <For each=move || bands.get() key=|b| *b let:b>
                    <rect x="0" width="100%" y=((b.0 - 1) * LINE_PX + 8).to_string() height=LINE_PX.to_string()
                        class=if b.1 { "fill-red-100" } else { "fill-amber-100" } data-line=b.0 />
                </For>
            </svg>
        }
    };
    let follow = move |ev: leptos::ev::Event| {
        let scrolled = event_target::<leptos::web_sys::Element>(&ev).scroll_top();
        for layer in [gutter, behind] {
            if let Some(element) = layer.get_untracked() {
                element.set_scroll_top(scrolled);
            }
        }
        top.set(usize::try_from(scrolled).unwrap_or(0));
    };
    view! {
        <div class="relative flex h-[32rem] overflow-hidden rounded-md border border-slate-300 font-mono text-xs leading-5">
            <div node_ref=gutter class="relative w-14 shrink-0 overflow-hidden border-r border-slate-200 bg-slate-50" aria-hidden="true">
                <div class="relative">
                    {layer}
                    <pre class="relative py-2 pr-2 text-right text-slate-500">{numbers}</pre>
                </div>
            </div>
            <div class="relative flex-1 overflow-hidden">
                <div node_ref=behind class="pointer-events-none absolute inset-0 overflow-hidden" aria-hidden="true">
                    <div class="relative">{layer}<pre class="invisible py-2">{numbers}</pre></div>
                </div>
                <textarea id="map-text" aria-label="Proxy map text" wrap="off" spellcheck="false" readonly=!admin
                    class="relative h-full w-full resize-none whitespace-pre bg-transparent px-2 py-2 text-slate-900 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-indigo-500"
                    placeholder="finesse1.internal.com:8445=finesse1.xyz.com:443"
                    prop:value=move || draft.shown.get()
                    on:input=move |ev| draft.type_in(event_target_value(&ev))
                    on:scroll=follow></textarea>
            </div>
        </div>
    }
}

/// Every problem of the text (the first ones listed), each a button that puts the cursor on it.
#[component]
fn Problems(text: RwSignal<String>, checked: Memo<Map>) -> impl IntoView {
    let listed = move || {
        checked.with(|m| {
            m.diagnostics
                .iter()
                .take(LISTED)
                .cloned()
                .enumerate()
                .collect::<Vec<_>>()
        })
    };
    let more = move || checked.with(|m| m.diagnostics.len().saturating_sub(LISTED));
    let go = move |line: usize, column: usize| {
        let _ = (line, column, text);
        #[cfg(feature = "hydrate")]
        place_cursor(&text.get_untracked(), line, column);
    };
    view! {
        <ul class="space-y-1 text-sm" data-testid="map-problems">
            <For each=listed key=|(i, d)| (*i, d.to_string()) let:entry>
                {
                    let (_, d) = entry;
                    let (line, column) = (d.line, d.column);
                    let error = d.level == Level::Error;
                    let class = if error { "text-red-800" } else { "text-amber-900" };
                    let place = if line == 0 { "the map".to_owned() } else { format!("line {line}, column {column}") };
                    view! {
                        <li class=class data-code=d.code.as_str() data-level=d.level.as_str()>
                            <button type="button" class="text-left hover:underline" on:click=move |_| go(line, column)>
                                <span class="font-semibold">{if error { "Error" } else { "Warning" }}</span>
                                {format!(" ({place}, {}): {}", d.code.as_str(), d.message)}
                            </button>
                        </li>
                    }
                }
            </For>
        </ul>
        {move || (more() > 0).then(|| view! { <p class="text-sm text-slate-600">{format!("and {} more", more())}</p> })}
    }
}

/// Selects `line:column` (1-based, characters) in the text box and scrolls it into view.
#[cfg(feature = "hydrate")]
fn place_cursor(text: &str, line: usize, column: usize) {
    use web_sys::wasm_bindgen::JsCast;
    let Some(area) = leptos::prelude::document()
        .get_element_by_id("map-text")
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return;
    };
    // The box counts UTF-16 code units.
    let mut at = 0u32;
    for (n, l) in text.split('\n').enumerate() {
        if n + 1 == line.max(1) {
            at += l
                .chars()
                .take(column.saturating_sub(1))
                .map(|c| c.len_utf16() as u32)
                .sum::<u32>();
            break;
        }
        at += l.encode_utf16().count() as u32 + 1;
    }
    let _ = area.focus();
    let _ = area.set_selection_range(at, at);
    area.set_scroll_top(((line.saturating_sub(3)) * LINE_PX) as i32);
}

/// The mappings as a table: each with its inventory node and product, and its problems.
#[component]
fn MapTable(map: Memo<Map>, nodes: StoredValue<Vec<domain::proxy_maps::MapNode>>) -> impl IntoView {
    let rows = move || {
        map.with(|m| {
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
                    let problems: Vec<String> = m
                        .diagnostics
                        .iter()
                        .filter(|d| d.line == mapping.line)
                        .map(|d| format!("{}: {}", d.level.as_str(), d.code.as_str()))
                        .collect();
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

/// The lines in `visible` with a problem, each once, `true` where one is an error. A problem of
/// the whole map (line 0: a node without a line) marks no line.
fn marked_lines(
    diagnostics: &[proxymap::Diagnostic],
    visible: std::ops::Range<usize>,
) -> Vec<(usize, bool)> {
    let mut marks: Vec<(usize, bool)> = Vec::new();
    for d in diagnostics
        .iter()
        .filter(|d| d.line > 0 && visible.contains(&d.line))
    {
        let error = d.level == Level::Error;
        match marks.iter_mut().find(|(l, _)| *l == d.line) {
            Some(mark) => mark.1 |= error,
            None => marks.push((d.line, error)),
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::marked_lines;
    use proxymap::{Code, Diagnostic};

    #[test]
    fn a_problem_of_the_whole_map_marks_no_line_and_errors_win() {
        let diagnostics = [
            Diagnostic::warning(0, 0, Code::MissingEndpoint, "no line maps ids1:8553"),
            Diagnostic::warning(2, 1, Code::UnknownEndpoint, "unknown"),
            Diagnostic::error(2, 5, Code::InvalidPort, "port"),
            Diagnostic::warning(3, 1, Code::UnknownEndpoint, "unknown"),
            Diagnostic::warning(200, 1, Code::UnknownEndpoint, "out of view"),
        ];
        assert_eq!(
            marked_lines(&diagnostics, 0..90),
            vec![(2, true), (3, false)]
        );
    }
}
