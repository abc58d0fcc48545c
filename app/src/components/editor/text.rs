//! The map's text: line numbers and problem bands beside the box (the problems are listed
//! below it by problems.rs). A long map is edited through a window of lines
//! around the view (window.rs); the gutter, the bands, the box and the blank space standing for
//! the lines outside the window scroll together in one scrolling box, so no script keeps them
//! in step.

use super::draft::Draft;
use super::window::{line_count, widest_line, Window, WHOLE};
use leptos::prelude::*;
use proxymap::{Level, Map};

/// One line of the text, in pixels: the gutter and the marks follow the text by it.
const LINE_PX: usize = 20;
/// The box's padding above its first line.
const PAD_PX: usize = 8;
/// The lines the scrolling box shows at once (32rem of 20 px lines, and a part).
const VIEW_LINES: usize = 26;

/// The text with a line-number gutter; lines with an error or a warning get a band behind
/// them (in the gutter and the text). No style attributes (the console's CSP forbids them):
/// the bands are SVG paths and the blank space is SVG of the right height.
#[component]
pub fn TextView(draft: Draft, checked: Memo<Map>, admin: bool) -> impl IntoView {
    let total = RwSignal::new(draft.shown.with_untracked(|t| line_count(t)));
    let window = RwSignal::new(
        draft
            .shown
            .with_untracked(|t| Window::around(t, total.get_untracked(), 0..VIEW_LINES)),
    );
    let boxed = RwSignal::new(
        draft
            .shown
            .with_untracked(|t| window.get_untracked().text(t).to_owned()),
    );
    let parts = Parts {
        widest: RwSignal::new(boxed.with_untracked(|b| widest_line(b))),
        ..Parts::default()
    };
    // Lines `w` of `t` (`n` lines in all) into the box, at once and for the reactive parts.
    let show = move |t: &str, n: usize, w: Window| {
        parts.fill(t, n, w);
        window.set(w);
    };
    // A text from outside (a version, a file, a proposal): the box shows its first lines.
    Effect::watch(
        move || draft.shown.track(),
        move |_, _, _| {
            draft.shown.with_untracked(|t| {
                let n = line_count(t);
                let w = Window::around(t, n, 0..VIEW_LINES);
                total.set(n);
                show(t, n, w);
                boxed.set(w.text(t).to_owned());
            });
            parts.scroll_to(0);
        },
        false,
    );
    let typed = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let w = window.get_untracked();
        match draft.text.with_untracked(|t| w.splice(t, &value)) {
            Some(text) => {
                let now = w.typed(&value);
                // Each signal changes only when its value does: a keystroke within a line
                // redraws nothing but the box.
                if now.lines() != w.lines() {
                    total.update(|n| *n = *n + now.lines() - w.lines());
                }
                window.set(now);
                let widest = widest_line(&value);
                if parts.widest.get_untracked() != widest {
                    parts.widest.set(widest);
                }
                draft.type_in(text);
            }
            // Cannot happen (a new text resets the window); if it did, the box shows the text.
            None => draft.text.with_untracked(|t| {
                let n = line_count(t);
                let w = Window::around(t, n, 0..VIEW_LINES);
                total.set(n);
                show(t, n, w);
            }),
        }
    };
    // The view moved: when it nears the edge of the box's lines, the window moves with it.
    let scrolled = move |_: leptos::ev::Event| {
        let (view, w, n) = (parts.view(), window.get_untracked(), total.get_untracked());
        if w.holds(&view, n) || parts.selecting() {
            return;
        }
        draft.text.with_untracked(|t| {
            let next = Window::around(t, n, view);
            parts.move_window(t, n, w, next);
            window.set(next);
        });
    };
    // Put the cursor on `line`:`column` (1-based), selecting `length` characters after it, the
    // window and the view around it.
    let place = move |line: usize, column: usize, length: usize| {
        let n = total.get_untracked();
        let line = line.clamp(1, n);
        let view = line.saturating_sub(4)..line.saturating_sub(4) + VIEW_LINES;
        draft.text.with_untracked(|t| {
            let next = Window::around(t, n, view.clone());
            show(t, n, next);
            let start = next.position(t, line, column);
            parts.select(start, next.position(t, line, column.saturating_add(length)));
        });
        parts.scroll_to(view.start * LINE_PX);
    };
    Effect::watch(
        move || draft.goto.get(),
        move |to, _, _| {
            if let Some((line, column, length)) = *to {
                place(line, column, length);
            }
        },
        false,
    );
    // In a long map, Ctrl+Home and Ctrl+End go to the map's ends (not the window's), and
    // Ctrl+A selects the whole map (the box holds it all until the selection ends).
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        if !(ev.ctrl_key() || ev.meta_key()) || ev.shift_key() || total.get_untracked() <= WHOLE {
            return;
        }
        match ev.key().as_str() {
            "Home" => place(1, 1, 0),
            "End" => place(total.get_untracked(), usize::MAX, 0),
            // The browser's find sees only the box's lines: the map's own find sees them all.
            "f" | "F" => super::find::focus(),
            "a" | "A" => draft.text.with_untracked(|t| {
                let n = total.get_untracked();
                show(t, n, Window::of(t, 0, n));
                parts.select_all();
            }),
            _ => return,
        }
        ev.prevent_default();
    };
    // The window's lines (its bytes change with every keystroke; these only with a new line).
    let span = Memo::new(move |_| window.with(|w| w.first..w.last));
    let numbers = move || {
        span.with(|lines| {
            let mut out = String::with_capacity(lines.len() * 6);
            for n in lines.start + 1..=lines.end {
                out.push_str(&n.to_string());
                out.push('\n');
            }
            out
        })
    };
    // One band per line of the window with a problem, the worst level winning: drawn as one
    // path per level (two elements whatever the count, so a new line that moves every band
    // below it changes two attributes, not hundreds of elements).
    let bands = Memo::new(move |_| {
        let lines = span.get();
        checked.with(|m| {
            bands(
                &marked_lines(&m.diagnostics, lines.start + 1..lines.end + 1),
                lines.start,
            )
        })
    });
    let height = move || (span.with(|l| l.len()) * LINE_PX + 2 * PAD_PX).to_string();
    let layer = move || {
        view! {
            <svg class="absolute inset-x-0 top-0 w-full" height=height aria-hidden="true">
                <path class="fill-red-100" data-level="error" d=move || bands.with(|b| b.errors.0.clone())
                    data-lines=move || bands.with(|b| b.errors.1.clone()) />
                <path class="fill-amber-100" data-level="warning" d=move || bands.with(|b| b.warnings.0.clone())
                    data-lines=move || bands.with(|b| b.warnings.1.clone()) />
            </svg>
        }
    };
    let first = move || span.with(|l| l.start);
    // The blank space for the lines above and below the window (the box has a spare row).
    let above = move || (first() * LINE_PX).to_string();
    let below = move || {
        let after = total.get().saturating_sub(span.with(|l| l.end) + 1);
        (after * LINE_PX).to_string()
    };
    view! {
        <div node_ref=parts.scroller on:scroll=scrolled data-testid="map-scroller"
            class="relative h-[32rem] overflow-auto rounded-md border border-slate-300 font-mono text-xs leading-5 [overflow-anchor:none] focus-within:ring-2 focus-within:ring-inset focus-within:ring-indigo-500">
            <svg node_ref=parts.above class="block" width="1" height=above aria-hidden="true"></svg>
            <div class="flex">
                <div class="sticky left-0 z-10 w-14 shrink-0 border-r border-slate-200 bg-slate-50" aria-hidden="true">
                    {layer}
                    <pre class="relative py-2 pr-2 text-right text-slate-500">{numbers}</pre>
                </div>
                <div class="relative flex-1">
                    {layer}
                    <textarea node_ref=parts.area id="map-text" aria-label="Proxy map text" wrap="off" spellcheck="false" readonly=!admin
                        rows=move || rows(span.with(|l| l.len())).to_string()
                        cols=move || (parts.widest.get() + 2).to_string()
                        class="relative block min-w-full resize-none overflow-hidden whitespace-pre bg-transparent px-2 py-2 text-slate-900 focus:outline-none"
                        placeholder="finesse1.internal.com:8445=finesse1.xyz.com:443"
                        prop:value=move || boxed.get()
                        on:input=typed on:keydown=keys></textarea>
                </div>
            </div>
            <svg node_ref=parts.below class="block" width="1" height=below aria-hidden="true"></svg>
        </div>
    }
}

/// Whether `area` has the focus.
fn focused(area: &leptos::web_sys::HtmlTextAreaElement) -> bool {
    document().active_element().is_some_and(|e| e == ***area)
}

/// The box's rows for `lines` lines: one spare (room for a new line, or the sideways scroll
/// bar), and at least enough to fill the scrolling box (a click anywhere in it reaches the box).
fn rows(lines: usize) -> usize {
    (lines + 1).max(VIEW_LINES - 2)
}

/// The elements the window is moved in. In the browser each move is written to them at once
/// (the box's text, its rows, the blank space), so the view never lays out a half-moved window;
/// the reactive attributes follow with the same values.
#[derive(Clone, Copy, Default)]
struct Parts {
    scroller: NodeRef<leptos::html::Div>,
    area: NodeRef<leptos::html::Textarea>,
    above: NodeRef<leptos::svg::Svg>,
    below: NodeRef<leptos::svg::Svg>,
    /// The longest line in the box, in characters: the box is as wide.
    widest: RwSignal<usize>,
}

impl Parts {
    /// The lines in view (0-based).
    fn view(&self) -> std::ops::Range<usize> {
        let Some(s) = self.scroller.get_untracked() else {
            return 0..VIEW_LINES;
        };
        let top = usize::try_from(s.scroll_top()).unwrap_or(0);
        let first = top.saturating_sub(PAD_PX) / LINE_PX;
        first..first + usize::try_from(s.client_height()).unwrap_or(0) / LINE_PX + 2
    }

    /// Whether the box has the focus and a selection in it (the window does not move under it;
    /// a selection left behind in a box without the focus does not hold it).
    fn selecting(&self) -> bool {
        self.area.get_untracked().is_some_and(|a| {
            focused(&a) && a.selection_start().ok().flatten() != a.selection_end().ok().flatten()
        })
    }

    /// Shows `w` of `text` (`total` lines) in the box; the cursor is wherever the box puts it.
    fn fill(&self, text: &str, total: usize, w: Window) {
        let widest = widest_line(w.text(text));
        if let Some(a) = self.area.get_untracked() {
            a.set_value(w.text(text));
            a.set_rows(rows(w.lines()) as u32);
            a.set_cols((widest + 2) as u32);
        }
        self.widest.set(widest);
        for (part, lines) in [
            (self.above, w.first),
            (self.below, total.saturating_sub(w.last + 1)),
        ] {
            if let Some(svg) = part.get_untracked() {
                let _ = svg.set_attribute("height", &(lines * LINE_PX).to_string());
            }
        }
    }

    /// Moves the window from `old` to `next`, keeping the cursor where it was in the text (or
    /// leaving the box when the view has gone far from it) and the view where it is.
    fn move_window(&self, text: &str, total: usize, old: Window, next: Window) {
        let (Some(a), Some(s)) = (self.area.get_untracked(), self.scroller.get_untracked()) else {
            return;
        };
        let focused = focused(&a);
        let cursor = a.selection_start().ok().flatten();
        let top = s.scroll_top();
        self.fill(text, total, next);
        if focused {
            match cursor.and_then(|at| old.carry(&next, text, at)) {
                Some(at) => {
                    let _ = a.set_selection_range(at, at);
                }
                None => {
                    let _ = a.blur();
                }
            }
        }
        s.set_scroll_top(top);
    }

    fn select(&self, start: u32, end: u32) {
        if let Some(a) = self.area.get_untracked() {
            let _ = a.focus();
            let _ = a.set_selection_range(start, end);
        }
    }

    fn select_all(&self) {
        if let Some(a) = self.area.get_untracked() {
            a.select();
        }
    }

    fn scroll_to(&self, px: usize) {
        if let Some(s) = self.scroller.get_untracked() {
            s.set_scroll_top(i32::try_from(px).unwrap_or(i32::MAX));
        }
    }
}

/// The bands of one level: an SVG path of a rectangle per line, and the lines (space separated).
#[derive(Clone, Default, PartialEq)]
struct Bands(String, String);

#[derive(Clone, Default, PartialEq)]
struct Levels {
    errors: Bands,
    warnings: Bands,
}

/// The paths of `marks` in a window starting at line `first` (0-based). Each band is wider than
/// any text box; the SVG clips it.
fn bands(marks: &[(usize, bool)], first: usize) -> Levels {
    let mut levels = Levels::default();
    for &(line, error) in marks {
        let Bands(path, lines) = match error {
            true => &mut levels.errors,
            false => &mut levels.warnings,
        };
        let y = (line - 1 - first) * LINE_PX + PAD_PX;
        path.push_str(&format!("M0 {y}h9999v{LINE_PX}h-9999z"));
        if !lines.is_empty() {
            lines.push(' ');
        }
        lines.push_str(&line.to_string());
    }
    levels
}

/// The lines in `visible` with a problem, each once, `true` where one is an error (`diagnostics`
/// sorted by line, as a map's are). A problem of the whole map (line 0: a node without a line)
/// marks no line.
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
        // Sorted by line: a line's problems are together.
        match marks.last_mut() {
            Some(mark) if mark.0 == d.line => mark.1 |= error,
            _ => marks.push((d.line, error)),
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::{bands, marked_lines};
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

    #[test]
    fn bands_are_one_path_per_level_placed_in_the_window() {
        let levels = bands(&[(101, true), (102, false), (105, false)], 100);
        assert_eq!(levels.errors.0, "M0 8h9999v20h-9999z");
        assert_eq!(levels.errors.1, "101");
        assert_eq!(
            levels.warnings.0,
            "M0 28h9999v20h-9999zM0 88h9999v20h-9999z"
        );
        assert_eq!(levels.warnings.1, "102 105");
    }
}
