//! The text being edited and its check: the bottom of the editor's dependency order (the
//! text view, find and the problems list all work on a [`Draft`]; it uses none of them).

use leptos::prelude::*;
use proxymap::Map;

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
    pub(crate) shown: RwSignal<String>,
    /// The text as last checked.
    pub settled: RwSignal<String>,
    /// A place to put the cursor (line, column; 1-based) and how many characters after it to
    /// select, asked for by the list of problems and by find.
    pub(crate) goto: RwSignal<Option<(usize, usize, usize)>>,
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
    pub(crate) fn type_in(&self, text: String) {
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
