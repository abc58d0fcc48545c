//! Bytes to text: the refusals that stop reading (too large, binary, not UTF-8) and the
//! byte-order mark taken off.

use crate::diagnostic::{Code, Diagnostic};

/// The largest file read (the console's request limit too): a map of 10,000 lines is about
/// 600 KB.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The longest line read: a mapping of two 253-character names with ports is 519 characters.
pub const MAX_LINE_CHARS: usize = 1024;

/// The file as text, or why it is not a map at all (one diagnostic, at the first offending byte).
pub fn decode(bytes: &[u8]) -> Result<&str, Diagnostic> {
    if bytes.len() > MAX_BYTES {
        return Err(Diagnostic::error(
            1,
            1,
            Code::TooLarge,
            format!(
                "the file is larger than {} KiB, the most a proxy map may have (about 15,000 lines): is this the right file?",
                MAX_BYTES / 1024
            ),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // `contains` runs memchr; the position is looked for only in a file that has a NUL.
    if let Some(at) = bytes
        .contains(&0)
        .then(|| bytes.iter().position(|&b| b == 0))
        .flatten()
    {
        let (line, column) = position(bytes, at);
        return Err(Diagnostic::error(
            line,
            column,
            Code::Binary,
            "the file contains NUL bytes: it is not a text file (a proxy map is plain text)",
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = position(bytes, e.valid_up_to());
        Diagnostic::error(
            line,
            column,
            Code::InvalidUtf8,
            "these bytes are not UTF-8: save the file as UTF-8 (or plain ASCII) text",
        )
    })
}

/// The 1-based line and column (in characters) of byte `at`, counting only the valid text
/// before it.
fn position(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let text = String::from_utf8_lossy(&before[line_start..]);
    (line, text.chars().count() + 1)
}
