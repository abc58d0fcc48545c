//! Which lines of a long map the text box holds. The browser's own text box slows down with its
//! text (10,000 lines cost over 100 ms a keystroke in Chromium, which lays the whole box out
//! again): a map of up to [`WHOLE`] lines is in the box whole; a longer one is edited through a
//! window of lines around the view, with blank space of the right height standing for the rest,
//! and the window moves as the view does (text.rs).

use std::ops::Range;

/// A map of up to this many lines is in the box whole.
pub(super) const WHOLE: usize = 1_000;
/// Lines the box holds beyond the view, either side, in a longer map.
const AROUND: usize = 150;
/// How near the view may come to the edge of the box's lines before they move.
const EDGE: usize = 50;

/// Lines `first..last` of the text (0-based), which are its bytes `start..end` (`end` before
/// the newline that ends line `last - 1`, so the box never shows a line that is not there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Window {
    pub first: usize,
    pub last: usize,
    pub start: usize,
    pub end: usize,
}

/// How many lines `text` has: one more than its newlines (as the box shows it, with an empty
/// line after a last newline).
pub(super) fn line_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count() + 1
}

/// The length of `text` in UTF-16 code units: how a text box counts its cursor positions.
pub(super) fn utf16_len(text: &str) -> u32 {
    if text.is_ascii() {
        text.len() as u32
    } else {
        text.encode_utf16().count() as u32
    }
}

/// The most characters a line of `text` has: the box is that wide, so the scrolling box around
/// it scrolls sideways (with the line numbers staying in place) and shows its scroll bar.
pub(super) fn widest_line(text: &str) -> usize {
    text.split('\n')
        .map(|l| {
            if l.is_ascii() {
                l.len()
            } else {
                l.chars().count()
            }
        })
        .max()
        .unwrap_or(0)
}

impl Window {
    /// Lines `first..last` of `text`, within the lines it has.
    pub fn of(text: &str, first: usize, last: usize) -> Self {
        let last = last.clamp(1, line_count(text));
        let first = first.min(last - 1);
        let mut start = 0;
        let mut end = text.len();
        // The newline at `at` ends line `line`.
        for (line, (at, _)) in text.match_indices('\n').enumerate() {
            if line + 1 == first {
                start = at + 1;
            }
            if line + 1 == last {
                end = at;
                break;
            }
        }
        Self {
            first,
            last,
            start,
            end,
        }
    }

    /// The lines the box should hold for a view of lines `view`, in a text of `total` lines.
    pub fn around(text: &str, total: usize, view: Range<usize>) -> Self {
        if total <= WHOLE {
            return Self::of(text, 0, total);
        }
        Self::of(text, view.start.saturating_sub(AROUND), view.end + AROUND)
    }

    /// Whether the window can stay as it is for a view of lines `view`: the view is well inside
    /// it, and it is not far larger than needed (as after "select all" in a long map).
    pub fn holds(&self, view: &Range<usize>, total: usize) -> bool {
        let small = total <= WHOLE || self.lines() <= view.len() + 4 * AROUND;
        small
            && (self.first == 0 || view.start >= self.first + EDGE)
            && (self.last >= total || view.end + EDGE <= self.last)
    }

    pub fn lines(&self) -> usize {
        self.last - self.first
    }

    /// What the box holds.
    pub fn text<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or_default()
    }

    /// `text` with the box's part replaced by `typed` (what the box holds now), or `None` when
    /// the window does not fit `text` (it always does: a new text resets the window).
    pub fn splice(&self, text: &str, typed: &str) -> Option<String> {
        let (before, after) = (text.get(..self.start)?, text.get(self.end..)?);
        let mut out = String::with_capacity(before.len() + typed.len() + after.len());
        out.push_str(before);
        out.push_str(typed);
        out.push_str(after);
        Some(out)
    }

    /// The window once the box holds `typed`: same first line, its own length.
    pub fn typed(self, typed: &str) -> Self {
        Self {
            last: self.first + line_count(typed),
            end: self.start + typed.len(),
            ..self
        }
    }

    /// Where a cursor at `at` (UTF-16, in the box as `self` filled it) is in the box as `next`
    /// fills it, if it is there at all.
    pub fn carry(&self, next: &Self, text: &str, at: u32) -> Option<u32> {
        let moved = if next.start <= self.start {
            at.checked_add(utf16_len(text.get(next.start..self.start)?))?
        } else {
            at.checked_sub(utf16_len(text.get(self.start..next.start)?))?
        };
        (moved <= utf16_len(next.text(text))).then_some(moved)
    }

    /// The cursor position (UTF-16, in the box) of 1-based `line` and `column` (characters),
    /// or the end of the box when the line is not in it.
    pub fn position(&self, text: &str, line: usize, column: usize) -> u32 {
        let held = self.text(text);
        let mut at = 0;
        for (n, l) in (self.first + 1..).zip(held.split('\n')) {
            if n == line {
                let chars = l.char_indices().nth(column.saturating_sub(1));
                return at + utf16_len(&l[..chars.map_or(l.len(), |(i, _)| i)]);
            }
            at += utf16_len(l) + 1;
        }
        utf16_len(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(lines: usize) -> String {
        (1..=lines).map(|n| format!("line{n}\n")).collect()
    }

    #[test]
    fn a_window_is_whole_lines_without_the_newline_after_them() {
        let text = "a\nbb\nccc\n";
        assert_eq!(
            line_count(text),
            4,
            "the empty line after the last newline counts"
        );
        let w = Window::of(text, 1, 3);
        assert_eq!((w.first, w.last, w.text(text)), (1, 3, "bb\nccc"));
        assert_eq!(
            Window::of(text, 0, 99).text(text),
            text,
            "clamped to the text"
        );
        assert_eq!(Window::of(text, 3, 4).text(text), "");
        assert_eq!(
            Window::of("", 5, 9),
            Window {
                first: 0,
                last: 1,
                start: 0,
                end: 0
            }
        );
    }

    #[test]
    fn typing_in_the_box_changes_only_the_box_part_of_the_text() {
        let text = "a\nbb\nccc\ndd";
        let w = Window::of(text, 1, 3);
        let typed = "bb\nnew\nccc";
        assert_eq!(
            w.splice(text, typed).as_deref(),
            Some("a\nbb\nnew\nccc\ndd")
        );
        let w = w.typed(typed);
        assert_eq!((w.first, w.last), (1, 4));
        assert_eq!(w.text("a\nbb\nnew\nccc\ndd"), typed);
        let past = Window { end: 99, ..w };
        assert_eq!(
            past.splice(text, "x"),
            None,
            "a window that does not fit is refused"
        );
    }

    #[test]
    fn a_short_map_is_held_whole_and_a_long_one_around_the_view() {
        let short = numbered(WHOLE - 1);
        let w = Window::around(&short, line_count(&short), 500..525);
        assert_eq!((w.first, w.last), (0, WHOLE));
        assert!(w.holds(&(900..925), WHOLE));
        let long = numbered(10_000);
        let total = line_count(&long);
        let w = Window::around(&long, total, 5_000..5_025);
        assert_eq!((w.first, w.last), (4_850, 5_175));
        assert_eq!(w.text(&long).lines().next(), Some("line4851"));
        assert!(w.holds(&(5_010..5_035), total));
        assert!(!w.holds(&(5_120..5_145), total), "near the edge: move");
        assert!(
            !Window::of(&long, 0, total).holds(&(0..25), total),
            "far too large: shrink"
        );
    }

    #[test]
    fn the_cursor_is_carried_into_the_moved_window_or_dropped() {
        let text = "é1\nab\ncd\nef\n";
        let old = Window::of(text, 1, 3);
        // "cd" starts at 3 in "ab\ncd"; with "é1\n" before it (3 UTF-16 units), at 6.
        let bigger = Window::of(text, 0, 4);
        assert_eq!(old.carry(&bigger, text, 3), Some(6));
        let later = Window::of(text, 2, 4);
        assert_eq!(old.carry(&later, text, 3), Some(0));
        assert_eq!(old.carry(&later, text, 1), None, "above the new window");
        assert_eq!(later.position(text, 4, 2), 4);
        assert_eq!(bigger.position(text, 1, 2), 1);
        assert_eq!(bigger.position(text, 99, 1), utf16_len("é1\nab\ncd\nef"));
    }
}
