//! One line, one mapping: `internal-host[:port]=external-host[:port]`; blank lines and `#`
//! comments skipped; surrounding spaces (and CR of CRLF) ignored.

use crate::diagnostic::{Code, Diagnostic};
use crate::host::{parse_side, split_once, HostPort};
use crate::input::MAX_LINE_CHARS;
use crate::Map;
use std::fmt;

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
    // At most one mapping a line: one allocation of the right size while the map grows.
    map.mappings
        .reserve(text.bytes().filter(|&b| b == b'\n').count() + 1);
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

/// A line's text, with what is known of it: in an ASCII line (nearly every line of every map)
/// a byte is a character, so columns are byte offsets and need no counting.
#[derive(Clone, Copy)]
struct Text {
    ascii: bool,
}

impl Text {
    fn chars(self, text: &str) -> usize {
        if self.ascii {
            text.len()
        } else {
            text.chars().count()
        }
    }

    /// Leading and trailing white space taken off (Unicode's in a line that is not ASCII).
    fn trim(self, text: &str) -> &str {
        if self.ascii {
            text.trim_ascii()
        } else {
            text.trim()
        }
    }

    /// How many characters of white space `text` starts with.
    fn indent(self, text: &str) -> usize {
        if self.ascii {
            text.len() - text.trim_ascii_start().len()
        } else {
            text.chars().take_while(|c| c.is_whitespace()).count()
        }
    }
}

fn line(number: usize, raw: &str) -> Result<Option<Mapping>, Diagnostic> {
    let text = Text {
        ascii: raw.is_ascii(),
    };
    if raw.len() > MAX_LINE_CHARS && text.chars(raw) > MAX_LINE_CHARS {
        return Err(Diagnostic::error(
            number,
            MAX_LINE_CHARS + 1,
            Code::LineTooLong,
            format!(
                "this line has {} characters; a mapping has at most {MAX_LINE_CHARS}: is a line break missing?",
                text.chars(raw)
            ),
        ));
    }
    // Control characters are below 0x20, 0x7f, or U+0080..U+009F (UTF-8 lead byte 0xC2): look
    // closer only when such a byte is there. (A fold, not `any`: no early exit, so it runs a
    // word at a time.)
    let suspect = raw.bytes().fold(false, |seen, b| {
        seen | ((b < 0x20) & (b != b'\t')) | (b == 0x7f) | (b == 0xc2)
    });
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
    let content = text.trim(raw);
    if content.is_empty() || content.as_bytes()[0] == b'#' {
        return Ok(None);
    }
    let indent = text.indent(raw);
    let column = |offset_in_content: usize| indent + offset_in_content + 1;
    let Some((left, right)) = split_once(content, b'=') else {
        return Err(Diagnostic::error(
            number,
            column(0),
            Code::MissingEquals,
            "expected `internal-host[:port]=external-host[:port]`; this line has no `=`",
        ));
    };
    if let Some(second) = right.bytes().position(|b| b == b'=') {
        let second = left.len() + 1 + second;
        return Err(Diagnostic::error(
            number,
            column(text.chars(&content[..second])),
            Code::ExtraEquals,
            "a mapping has one `=` between the internal and the external side; this is a second one (one mapping per line)",
        ));
    }
    let left_start = text.indent(left);
    let right_start = text.chars(left) + 1 + text.indent(right);
    let side = |part: &str, start: usize, which: &str| {
        parse_side(text.trim(part)).map_err(|(offset, code, message)| {
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
