//! The problems of the text listed below it (the first ones, errors before warnings; all are
//! counted), each a button that puts the cursor on its line and column.

use super::draft::Draft;
use leptos::prelude::*;
use proxymap::{Code, Diagnostic, Level, Map};

/// Problems listed below the text (all of them are counted).
const LISTED: usize = 200;

/// Every problem of the text (the first ones listed), each a button that puts the cursor on it.
#[component]
pub fn Problems(draft: Draft, checked: Memo<Map>) -> impl IntoView {
    let listed = move || {
        checked.with(|m| {
            listed(&m.diagnostics)
                .into_iter()
                .enumerate()
                .collect::<Vec<_>>()
        })
    };
    let more = move || checked.with(|m| unlisted(&m.diagnostics));
    let go = move |line: usize, column: usize| draft.goto.set(Some((line, column, 0)));
    view! {
        <ul class="max-h-96 space-y-1 overflow-auto text-sm" data-testid="map-problems">
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
        {move || more().map(|more| view! { <p class="text-sm text-slate-600" data-testid="map-problems-more">{more}</p> })}
    }
}

/// The problems listed: errors first (a few errors among thousands of warnings must not be out
/// of sight), each level in the validator's order.
fn listed(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    let errors = diagnostics.iter().filter(|d| d.level == Level::Error);
    let warnings = diagnostics.iter().filter(|d| d.level != Level::Error);
    errors.chain(warnings).take(LISTED).cloned().collect()
}

/// What is not listed, if anything: how many, and all problems counted by code, most first.
fn unlisted(diagnostics: &[Diagnostic]) -> Option<String> {
    let more = diagnostics.len().checked_sub(LISTED).filter(|&n| n > 0)?;
    let mut counts: Vec<(Code, usize)> = Vec::new();
    for d in diagnostics {
        match counts.iter_mut().find(|(code, _)| *code == d.code) {
            Some((_, n)) => *n += 1,
            None => counts.push((d.code, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let by_code: Vec<String> = counts
        .iter()
        .map(|(code, n)| format!("{} {n}", code.as_str()))
        .collect();
    Some(format!("and {more} more; in all: {}", by_code.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(line: usize) -> Diagnostic {
        Diagnostic::warning(line, 1, Code::UnknownEndpoint, "no endpoint")
    }

    #[test]
    fn errors_are_listed_before_any_warning_and_the_rest_is_counted_by_code() {
        let mut all: Vec<Diagnostic> = (1..=300).map(warning).collect();
        all.push(Diagnostic::error(301, 5, Code::InvalidPort, "bad port"));
        all.insert(
            0,
            Diagnostic::warning(0, 0, Code::MissingEndpoint, "no line"),
        );
        let shown = listed(&all);
        assert_eq!(shown.len(), LISTED);
        assert_eq!((shown[0].line, shown[0].level), (301, Level::Error));
        assert_eq!((shown[1].line, shown[1].code), (0, Code::MissingEndpoint));
        assert_eq!(shown[2].line, 1);
        assert_eq!(
            unlisted(&all).as_deref(),
            Some("and 102 more; in all: unknown-endpoint 300, invalid-port 1, missing-endpoint 1")
        );
        assert_eq!(unlisted(&all[..LISTED]), None);
    }
}
