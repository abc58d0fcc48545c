//! A text editor for long documents in the browser: a virtualised text view (only the lines
//! in sight are in the DOM, so a keystroke costs the same on 10,000 lines as on ten) with line
//! numbers and marks, find, and the list of problems, all over one [`Draft`] whose check runs
//! once typing pauses. The proxy-map page uses it with the map's checker (`checked`).
//!
//! Dependency order, bottom up: `window` (which lines are in sight) and `draft` (the text and
//! its check); `find` and `problems` (on the draft); `text` (the view, on all of them).

mod draft;
mod find;
mod problems;
mod text;
mod window;

pub use draft::{checked, Draft};
pub use find::Find;
pub use problems::Problems;
pub use text::TextView;
