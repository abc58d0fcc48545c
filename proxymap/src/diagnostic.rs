//! What is wrong, where, and what to change.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Level {
    /// The map must not be published: a node would refuse it, or remote agents would break.
    Error,
    /// Allowed, but probably not what was meant.
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// Stable codes: tools and tests match on them; the messages may be reworded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Code {
    /// The upload is larger than [`crate::MAX_BYTES`].
    TooLarge,
    /// A NUL byte: not a text file.
    Binary,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A control character other than tab inside a line.
    ControlCharacter,
    /// A line longer than [`crate::MAX_LINE_CHARS`].
    LineTooLong,
    /// No `=` between the two sides.
    MissingEquals,
    /// More than one `=`.
    ExtraEquals,
    /// A side with no host.
    EmptyHost,
    /// A host that is not an RFC 1123 name, an IPv4 address or a bracketed IPv6 address.
    InvalidHost,
    /// A port that is not a number from 1 to 65535.
    InvalidPort,
    /// An address where the components expect a name.
    AddressLiteral,
    /// The same internal host:port on two lines.
    DuplicateInternal,
    /// Two internal endpoints exposed as one external host:port.
    SharedExternal,
    /// An external side that looks like a LAN name or a private address.
    ExternalLooksInternal,
    /// An internal side that is no endpoint of the inventory.
    UnknownEndpoint,
    /// An endpoint the map needs a line for has none (line 0: the map as a whole).
    MissingEndpoint,
    /// The external side differs from the proxy's public name only in case.
    ExternalCase,
    /// No certificate of the proxy covers the external host.
    NoCertificate,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::TooLarge => "too-large",
            Code::Binary => "binary",
            Code::InvalidUtf8 => "invalid-utf8",
            Code::ControlCharacter => "control-character",
            Code::LineTooLong => "line-too-long",
            Code::MissingEquals => "missing-equals",
            Code::ExtraEquals => "extra-equals",
            Code::EmptyHost => "empty-host",
            Code::InvalidHost => "invalid-host",
            Code::InvalidPort => "invalid-port",
            Code::AddressLiteral => "address-literal",
            Code::DuplicateInternal => "duplicate-internal",
            Code::SharedExternal => "shared-external",
            Code::ExternalLooksInternal => "external-looks-internal",
            Code::UnknownEndpoint => "unknown-endpoint",
            Code::MissingEndpoint => "missing-endpoint",
            Code::ExternalCase => "external-case",
            Code::NoCertificate => "no-certificate",
        }
    }
}

/// One problem at a 1-based line and column (columns count characters, not bytes); line 0 is
/// the map as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub level: Level,
    pub code: Code,
    pub message: String,
}

impl Diagnostic {
    pub fn error(line: usize, column: usize, code: Code, message: impl Into<String>) -> Self {
        Self {
            line,
            column,
            level: Level::Error,
            code,
            message: message.into(),
        }
    }

    pub fn warning(line: usize, column: usize, code: Code, message: impl Into<String>) -> Self {
        Self {
            level: Level::Warning,
            ..Self::error(line, column, code, message)
        }
    }
}

/// `line:column: level: code: message` (the CLI puts the file name in front).
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}: {}",
            self.line,
            self.column,
            self.level.as_str(),
            self.code.as_str(),
            self.message
        )
    }
}
