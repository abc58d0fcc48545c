//! Find in the map: the whole text is searched, not only the lines in the text box (a long map
//! holds a window of them, so the browser's own find would miss the rest), and the found text is
//! selected in the box.

use super::draft::Draft;
use crate::components::INPUT;
use leptos::prelude::*;

/// The id of the find box: Ctrl+F in a long map's text box comes here.
const FIND_ID: &str = "map-find";

/// Where `needle` next occurs in `text` at or after byte `from` (ASCII letters matched whatever
/// their case), wrapping to the start: its byte offset and its place as (line, column, length),
/// 1-based, in characters. `None` when it does not occur or spans a line.
pub fn next(text: &str, needle: &str, from: usize) -> Option<(usize, (usize, usize, usize))> {
    if needle.is_empty() || needle.contains('\n') {
        return None;
    }
    let found = |at: usize| {
        text.get(at..)?
            .as_bytes()
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
            .map(|i| at + i)
    };
    let at = found(from.min(text.len())).or_else(|| found(0))?;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].bytes().filter(|&b| b == b'\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    Some((at, (line, column, needle.chars().count())))
}

/// How many times `needle` occurs in `text` (not overlapping, case as [`next`]).
pub fn count(text: &str, needle: &str) -> usize {
    if needle.is_empty() || needle.contains('\n') {
        return 0;
    }
    let (hay, needle) = (text.as_bytes(), needle.as_bytes());
    let (mut n, mut at) = (0, 0);
    while at + needle.len() <= hay.len() {
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            n += 1;
            at += needle.len();
        } else {
            at += 1;
        }
    }
    n
}

/// Puts the focus in the map's find box.
pub fn focus() {
    #[cfg(feature = "hydrate")]
    {
        use web_sys::wasm_bindgen::JsCast;
        let found = document().get_element_by_id(FIND_ID);
        if let Some(input) = found.and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            let _ = input.focus();
            input.select();
        }
    }
}

/// The find box: Enter (or "Find next") selects the next occurrence after the last one found,
/// wrapping at the end; it says how many there are.
#[component]
pub fn Find(draft: Draft) -> impl IntoView {
    let needle = RwSignal::new(String::new());
    // Where the next search starts: after the last one found (a new needle starts at the top).
    let from = StoredValue::new(0usize);
    let said = RwSignal::new(None::<String>);
    let find = move || {
        let wanted = needle.get_untracked();
        let hit = draft.text.with_untracked(|t| {
            next(t, &wanted, from.get_value()).map(|(at, place)| (at, place, count(t, &wanted)))
        });
        match hit {
            Some((at, (line, column, length), n)) => {
                from.set_value(at + wanted.len());
                said.set(Some(format!(
                    "line {line}, column {column} ({n} in the map)"
                )));
                draft.goto.set(Some((line, column, length)));
            }
            None if wanted.contains('\n') || wanted.is_empty() => said.set(None),
            None => said.set(Some("not in the map".to_owned())),
        }
    };
    view! {
        <form class="flex flex-wrap items-center gap-2" role="search"
            on:submit=move |ev| { ev.prevent_default(); find(); }>
            <div class="w-full sm:w-80">
                <input id=FIND_ID type="search" class=format!("{INPUT} font-mono") aria-label="Find in the map"
                    placeholder="Find in the map" spellcheck="false" prop:value=move || needle.get()
                    on:input=move |ev| { needle.set(event_target_value(&ev)); from.set_value(0); said.set(None); } />
            </div>
            <button type="submit" class="rounded-md px-3 py-1.5 text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-100">"Find next"</button>
            <span class="text-sm text-slate-600" role="status" data-testid="map-find-status">{move || said.get()}</span>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_occurrence_is_found_after_the_last_whatever_the_case_and_wraps() {
        let text = "a.lan:8445=A.xyz\nb.lan:8445=b.xyz\néé.lan:1=x\n";
        assert_eq!(next(text, "A.LAN", 0), Some((0, (1, 1, 5))));
        assert_eq!(next(text, ".lan", 2), Some((18, (2, 2, 4))));
        // Columns count characters, not bytes.
        assert_eq!(next(text, ".lan", 19), Some((38, (3, 3, 4))));
        // Past the last one: from the top again.
        assert_eq!(next(text, ".lan", 39), Some((1, (1, 2, 4))));
        assert_eq!(next(text, "nowhere", 0), None);
        assert_eq!(next(text, "", 0), None);
        assert_eq!(next(text, "xyz\nb", 0), None);
        assert_eq!(next(text, "x", 10_000), Some((13, (1, 14, 1))));
        assert_eq!(count(text, ".LAN"), 3);
        assert_eq!(count("aaaa", "aa"), 2);
        assert_eq!(count(text, ""), 0);
    }
}
