//! The map editor: the text with line numbers, the lines with problems marked in place and
//! listed below (a click puts the cursor there), all checked in the browser as it is typed;
//! a table view of the same text; proposing a map from the inventory, importing a file or a
//! node's map; saving with a comment (a save from an older version is refused with what
//! changed since).

use crate::components::{ErrorBox, Table, BUTTON, BUTTON_SECONDARY, INPUT, LABEL};
use crate::error::AppError;
use crate::server_fns::proxymaps::{MapPage, NodeMap, SaveMap};
use leptos::prelude::*;
use proxymap::{Level, Map};

/// One line of the text, in pixels: the gutter and the marks follow the text by it.
const LINE_PX: usize = 20;
/// Problems listed below the text (all of them are counted).
const LISTED: usize = 200;
/// Rows the table view shows (the text view has them all).
const TABLE_ROWS: usize = 1000;

#[component]
pub fn MapEditor(
    page: MapPage,
    text: RwSignal<String>,
    save: ServerAction<SaveMap>,
    admin: bool,
) -> impl IntoView {
    let context = StoredValue::new(page.context.clone());
    let checked = Memo::new(move |_| {
        let mut map = proxymap::parse(&text.get());
        context.with_value(|c| {
            if let Some(c) = c {
                proxymap::check_with(&mut map, c);
            }
        });
        map
    });
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
                {admin.then(|| view! { <Tools nodes=nodes.get_value() text /> })}
                <p class="text-sm text-slate-700" role="status" aria-live="polite" data-testid="map-summary">{move || summary(&checked.read())}</p>
                <Show when=move || !table.get() fallback=move || view! { <MapTable map=checked nodes /> }>
                    <TextView text checked admin />
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
/// them (in the gutter and the text), which scrolls with the text.
#[component]
fn TextView(text: RwSignal<String>, checked: Memo<Map>, admin: bool) -> impl IntoView {
    let scroll = RwSignal::new(0i32);
    let lines = Memo::new(move |_| text.read().lines().count().max(1));
    let numbers = move || {
        let mut out = String::new();
        for n in 1..=lines.get() {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        out
    };
    // One band per line with a problem, the worst level winning.
    let bands = Memo::new(move |_| {
        let mut marks: Vec<(usize, bool)> = Vec::new();
        checked.with(|m| {
            for d in m.diagnostics.iter().filter(|d| d.line > 0) {
                let error = d.level == Level::Error;
                match marks.iter_mut().find(|(l, _)| *l == d.line) {
                    Some(mark) => mark.1 |= error,
                    None => marks.push((d.line, error)),
                }
            }
        });
        marks
    });
    let band = move |(line, error): (usize, bool)| {
        let color = if error { "bg-red-100" } else { "bg-amber-100" };
        view! { <div class=format!("absolute inset-x-0 {color}") style=format!("top:{}px;height:{LINE_PX}px", (line - 1) * LINE_PX) data-line=line></div> }
    };
    let shift = move || format!("transform:translateY(-{}px)", scroll.get());
    view! {
        <div class="relative flex h-[32rem] overflow-hidden rounded-md border border-slate-300 font-mono text-xs" style=format!("line-height:{LINE_PX}px")>
            <div class="relative w-14 shrink-0 overflow-hidden border-r border-slate-200 bg-slate-50" aria-hidden="true">
                <div class="absolute inset-x-0 top-0 py-2" style=shift>
                    <For each=move || bands.get() key=|b| *b let:b>{band(b)}</For>
                    <pre class="relative pr-2 text-right text-slate-500">{numbers}</pre>
                </div>
            </div>
            <div class="relative flex-1 overflow-hidden">
                <div class="pointer-events-none absolute inset-x-0 top-0 py-2" style=shift aria-hidden="true">
                    <For each=move || bands.get() key=|b| *b let:b>{band(b)}</For>
                </div>
                <textarea id="map-text" aria-label="Proxy map text" wrap="off" spellcheck="false" readonly=!admin
                    class="relative h-full w-full resize-none whitespace-pre bg-transparent px-2 py-2 text-slate-900 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-indigo-500"
                    placeholder="finesse1.internal.com:8445=finesse1.xyz.com:443"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:scroll=move |ev| scroll.set(event_target::<leptos::web_sys::Element>(&ev).scroll_top())></textarea>
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

/// Starting points: a map proposed from the inventory, a file, or what a node holds now.
#[component]
fn Tools(nodes: Vec<domain::proxy_maps::MapNode>, text: RwSignal<String>) -> impl IntoView {
    let pattern = RwSignal::new("{host}.example.com:{port}".to_owned());
    let note = RwSignal::new(None::<String>);
    let from_node = ServerAction::<NodeMap>::new();
    let node_choice = RwSignal::new(nodes.first().map(|n| n.id).unwrap_or(0));
    Effect::new(move |_| {
        if let Some(Ok(map)) = from_node.value().get() {
            note.set(Some(format!(
                "{} line(s) read from the node: check and save them.",
                map.lines().count()
            )));
            text.set(map);
        }
    });
    let stored = StoredValue::new(nodes.clone());
    let generate = move |_| {
        let made = stored.with_value(|n| domain::proxy_maps::generate(n, &pattern.get_untracked()));
        note.set(Some(
            "Proposed from the inventory: check the external names, then save.".into(),
        ));
        text.set(made);
    };
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        read_map_file(&ev, text, note);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, note);
    };
    let has_nodes = !nodes.is_empty();
    view! {
        <details class="rounded-md border border-slate-200 px-4 py-3">
            <summary class="cursor-pointer text-sm font-medium text-slate-800">"Start from the inventory, a file or a node"</summary>
            <div class="mt-3 grid gap-4 md:grid-cols-3">
                <div>
                    <label for="map-pattern" class=LABEL>"External names: {host} is the node's first label, {port} its port"</label>
                    <input id="map-pattern" class=format!("{INPUT} font-mono") prop:value=move || pattern.get() on:input=move |ev| pattern.set(event_target_value(&ev)) />
                    <button type="button" class=format!("{BUTTON_SECONDARY} mt-2") disabled=!has_nodes on:click=generate>"Propose from the inventory"</button>
                    {(!has_nodes).then(|| view! { <p class="mt-1 text-xs text-slate-600">"The map's cluster has no Finesse, IdS, CUIC or LiveData node."</p> })}
                </div>
                <div>
                    <label for="map-file" class=LABEL>"A proxymap.txt file (at most 1 MiB)"</label>
                    <input id="map-file" type="file" accept=".txt,text/plain" on:change=on_file
                        class="mt-1 block text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-200" />
                </div>
                <div>
                    <label for="map-node" class=LABEL>"What a node holds (show-proxy-config-map)"</label>
                    <select id="map-node" class=INPUT disabled=!has_nodes on:change=move |ev| node_choice.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {nodes.into_iter().map(|n| view! { <option value=n.id.to_string()>{n.fqdn}</option> }).collect_view()}
                    </select>
                    <button type="button" class=format!("{BUTTON_SECONDARY} mt-2") disabled=move || !has_nodes || from_node.pending().get()
                        on:click=move |_| { from_node.dispatch(NodeMap { node_id: node_choice.get_untracked() }); }>"Read it over SSH"</button>
                </div>
            </div>
            {move || note.get().map(|n| view! { <p class="mt-3 text-sm text-slate-700" data-testid="tools-note">{n}</p> })}
            {move || from_node.value().get().and_then(Result::err).map(|error| view! { <div class="mt-3"><ErrorBox error /></div> })}
            <p class="mt-3 text-xs text-slate-600">"Each replaces the text above; nothing is saved until you save."</p>
        </details>
    }
}

/// Loads the picked file into the text (in the browser; nothing is sent): refused when larger
/// than a map may be, binary, or not UTF-8, with the reason.
#[cfg(feature = "hydrate")]
fn read_map_file(ev: &leptos::ev::Event, text: RwSignal<String>, note: RwSignal<Option<String>>) {
    use web_sys::wasm_bindgen::JsCast;
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        return;
    };
    let name = file.name();
    if file.size() > proxymap::MAX_BYTES as f64 {
        note.set(Some(format!(
            "{name} is {:.1} MB: a proxy map is at most 1 MiB (about 15,000 lines). Nothing was loaded.",
            file.size() / 1_048_576.0
        )));
        return;
    }
    note.set(Some(format!("Reading {name}…")));
    leptos::task::spawn_local(async move {
        let bytes = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => web_sys::js_sys::Uint8Array::new(&buffer).to_vec(),
            Err(_) => {
                note.set(Some(format!("{name} could not be read.")));
                return;
            }
        };
        match proxymap::decode(&bytes) {
            Ok(decoded) => {
                text.set(decoded.to_owned());
                note.set(Some(format!("{name} loaded: check it, then save.")));
            }
            Err(d) => note.set(Some(format!("{name} was not loaded: {}", d.message))),
        }
    });
}
