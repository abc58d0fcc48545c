//! One line, one mapping: `internal-host[:port]=external-host[:port]`; blank lines and `#`
//! comments skipped; surrounding spaces (and CR of CRLF) ignored.

use crate::diagnostic::{Code, Diagnostic};
use crate::host::{parse_side, HostPort};
use crate::input::MAX_LINE_CHARS;
use crate::Map;
use std::fmt;

/// The port of a side written without one.
pub const DEFAULT_PORT: u16 = 443;

/// One line of the map, with where each side starts (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub line: usize,
    /// The component as used on the LAN (compared case-insensitively).
    pub internal: HostPort,
    /// What the reverse proxy exposes (compared exactly: case matters).
    pub external: HostPort,
    pub internal_column: usize,
    pub external_column: usize,
}

/// `internal-host:port=external-host:port`, ports always written.
impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.internal, self.external)
    }
}

/// Reads every line of `text`.
pub(crate) fn lines(text: &str) -> Map {
    let mut map = Map::default();
    // About one mapping per 40 bytes: one allocation instead of a dozen while the map grows.
    map.mappings.reserve(text.len() / 40);
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let raw = match raw.as_bytes().last() {
            Some(b'\r') => &raw[..raw.len() - 1],
            _ => raw,
        };
        match line(number, raw) {
            Ok(Some(mapping)) => map.mappings.push(mapping),
            Ok(None) => {}
            Err(diagnostic) => map.diagnostics.push(diagnostic),
        }
    }
    map
}

fn line(number: usize, raw: &str) -> Result<Option<Mapping>, Diagnostic> {
    if raw.len() > MAX_LINE_CHARS && raw.chars().count() > MAX_LINE_CHARS {
        return Err(Diagnostic::error(
            number,
            MAX_LINE_CHARS + 1,
            Code::LineTooLong,
            format!(
                "this line has {} characters; a mapping has at most {MAX_LINE_CHARS}: is a line break missing?",
                raw.chars().count()
            ),
        ));
    }
    // Control characters are below 0x20, 0x7f, or U+0080..U+009F (UTF-8 lead byte 0xC2): look
    // closer only when such a byte is there.
    let suspect = raw
        .bytes()
        .any(|b| (b < 0x20 && b != b'\t') || b == 0x7f || b == 0xc2);
    let control = suspect
        .then(|| {
            raw.chars()
                .enumerate()
                .find(|(_, c)| c.is_control() && *c != '\t')
        })
        .flatten();
    if let Some((at, c)) = control {
        return Err(Diagnostic::error(
            number,
            at + 1,
            Code::ControlCharacter,
            format!(
                "the control character U+{:04X} is not allowed in a proxy map: remove it",
                c as u32
            ),
        ));
    }
    let content = raw.trim();
    if content.is_empty() || content.as_bytes()[0] == b'#' {
        return Ok(None);
    }
    let indent = raw.chars().take_while(|c| c.is_whitespace()).count();
    let column = |offset_in_content: usize| indent + offset_in_content + 1;
    let mut equals = content
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'=')
        .map(|(i, _)| i);
    let Some(at) = equals.next() else {
        return Err(Diagnostic::error(
            number,
            column(0),
            Code::MissingEquals,
            "expected `internal-host[:port]=external-host[:port]`; this line has no `=`",
        ));
    };
    if let Some(second) = equals.next() {
        return Err(Diagnostic::error(
            number,
            column(content[..second].chars().count()),
            Code::ExtraEquals,
            "a mapping has one `=` between the internal and the external side; this is a second one (one mapping per line)",
        ));
    }
    let (left, right) = (&content[..at], &content[at + 1..]);
    let left_start = left.chars().take_while(|c| c.is_whitespace()).count();
    let right_start =
        left.chars().count() + 1 + right.chars().take_while(|c| c.is_whitespace()).count();
    let side = |text: &str, start: usize, which: &str| {
        parse_side(text.trim()).map_err(|(offset, code, message)| {
            Diagnostic::error(
                number,
                column(start + offset),
                code,
                format!("{which}: {message}"),
            )
        })
    };
    let internal = side(left, left_start, "internal side")?;
    let external = side(right, right_start, "external side")?;
    Ok(Some(Mapping {
        line: number,
        internal,
        external,
        internal_column: column(left_start),
        external_column: column(right_start),
    }))
}

impl HostPort {
    /// The key the internal side compares by: host lowercased, port.
    pub fn internal_key(&self) -> (String, u16) {
        (self.host.folded().into_owned(), self.port)
    }
}
