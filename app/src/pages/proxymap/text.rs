//! The map's text: line numbers and problem bands beside the box, and the problems listed
//! below it (a click puts the cursor on one).

use super::editor::Draft;
use leptos::prelude::*;
use proxymap::{Level, Map};

/// One line of the text, in pixels: the gutter and the marks follow the text by it.
const LINE_PX: usize = 20;
/// Problems listed below the text (all of them are counted).
const LISTED: usize = 200;

/// The text with a line-number gutter; lines with an error or a warning get a band behind
/// them (in the gutter and the text), which scrolls with the text. No style attributes (the
/// console's CSP forbids them): the bands are SVG rectangles, the gutter follows the text by
/// its scroll position.
#[component]
pub fn TextView(draft: Draft, checked: Memo<Map>, admin: bool) -> impl IntoView {
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
pub fn Problems(text: RwSignal<String>, checked: Memo<Map>) -> impl IntoView {
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
