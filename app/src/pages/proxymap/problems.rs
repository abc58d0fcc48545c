//! The problems of the text listed below it (the first ones; all are counted), each a button
//! that puts the cursor on its line and column.

use super::editor::Draft;
use leptos::prelude::*;
use proxymap::{Level, Map};

/// Problems listed below the text (all of them are counted).
const LISTED: usize = 200;

/// Every problem of the text (the first ones listed), each a button that puts the cursor on it.
#[component]
pub fn Problems(draft: Draft, checked: Memo<Map>) -> impl IntoView {
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
    let go = move |line: usize, column: usize| draft.goto.set(Some((line, column)));
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
