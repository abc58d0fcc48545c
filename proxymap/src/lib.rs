//! The Proxy-config map (`proxymap.txt`, DOMAIN.md §3): which internal `host:port` of Finesse,
//! IdS, CUIC, LiveData, IM&P or the IdP is exposed as which external `host:port` through the
//! VPN-less reverse proxy. No I/O here: the server, the browser (live diagnostics as the admin
//! types) and `gatehouse proxymap check FILE` run the same code.
//!
//! ```text
//! bytes ──decode──▶ text ──parse──▶ Map (mappings with positions) ──check──▶ diagnostics
//!   (input.rs)        (syntax.rs: one line, one mapping)        (meaning.rs: the map as a whole)
//!                                                    ──check_with(Context)──▶ more diagnostics
//!                                                      (context.rs: inventory, proxy names, certificates)
//! ```
//!
//! Every problem is a [`Diagnostic`] with a stable [`Code`], a 1-based line and column (in
//! characters) and a message that says what to change. Syntax errors skip their line; the rest of
//! the file is still read, so one typo shows once, not as a cascade.
//!
//! The file as people have it is fine: CRLF line ends, a byte-order mark, blank lines, spaces
//! around a line or around `=`, a last line without newline. Lines starting with `#` are comments
//! for the people who edit the map in Gatehouse; the file Gatehouse serves to the nodes is
//! [`Map::render`]ed from the mappings alone (`internal-host:port=external-host:port`, ports
//! always written), since the nodes' own parser is not documented to accept anything more.

mod context;
mod diagnostic;
mod diff;
mod host;
mod input;
mod meaning;
mod syntax;

pub use context::{check_with, Context, Endpoint};
pub use diagnostic::{Code, Diagnostic, Level};
pub use diff::diff;
pub use host::DEFAULT_PORT;
pub use host::{Host, HostPort};
pub use input::{decode, MAX_BYTES, MAX_LINE_CHARS};
pub use syntax::Mapping;

#[cfg(test)]
mod tests;

/// A parsed map: its mappings in file order, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Map {
    pub mappings: Vec<Mapping>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Map {
    /// Whether any diagnostic is an error (the map must not be published).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.level == Level::Error)
    }

    /// The file the nodes fetch: one `internal-host:port=external-host:port` line per mapping,
    /// in order, each ending in `\n`; comments and blank lines left out.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.mappings.len() * 64);
        for m in &self.mappings {
            out.push_str(&m.to_string());
            out.push('\n');
        }
        out
    }
}

/// Reads `text` (already decoded): every line's syntax, then the map's meaning. Diagnostics are
/// sorted by line and column.
pub fn parse(text: &str) -> Map {
    let mut map = syntax::lines(text);
    meaning::check(&mut map);
    sort(&mut map.diagnostics);
    map
}

/// By line and column, errors before warnings at one place.
fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.line, d.column, d.level != Level::Error));
}

/// Reads a file's bytes: [`decode`] (a refusal is the only diagnostic), then [`parse`].
pub fn parse_bytes(bytes: &[u8]) -> Map {
    match decode(bytes) {
        Ok(text) => parse(text),
        Err(refusal) => Map {
            mappings: Vec::new(),
            diagnostics: vec![refusal],
        },
    }
}
