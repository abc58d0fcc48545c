//! The Cisco VOS `admin:` CLI's outputs, parsed into typed results (DOMAIN.md §4).
//!
//! Shared by the SSH driver (which reads what real appliances print) and the appliance
//! simulator (which must print the same). Every parser first [`normalize`]s the raw text (CRLF,
//! trailing spaces, pagination prompts, blank lines), then accepts only the shapes the
//! documentation shows: anything else is [`Error::Unexpected`] carrying the raw text, never a
//! silent success. An answer the appliance gives to refuse the input is [`Error::Rejected`].

use std::fmt;

mod access;
mod broadworks;
mod platform;
mod stores;
pub use access::*;
pub use broadworks::*;
pub use platform::*;
pub use stores::*;

/// Why an output does not mean success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The appliance refused the input (`Source X is invalid`): what it named, and its words.
    Rejected { input: String, message: String },
    /// Output none of the documented shapes match.
    Unexpected { raw: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rejected { input, message } => {
                write!(f, "the appliance refused {input}: {message}")
            }
            Error::Unexpected { raw } => write!(f, "unexpected output from the appliance: {raw:?}"),
        }
    }
}

impl std::error::Error for Error {}

fn unexpected(raw: &str) -> Error {
    Error::Unexpected {
        raw: raw.to_owned(),
    }
}

/// What VOS prints while pagination is on; the driver turns it off, but a parser never takes
/// it for content.
pub const PAGINATION_PROMPT: &str =
    "Press <enter> for 1 line, <space> for one page, or <q> to quit";

/// The output's meaningful lines: CRLF and CR made LF, trailing spaces and pagination prompts
/// removed, blank lines dropped.
pub fn normalize(raw: &str) -> Vec<&str> {
    raw.split(['\n', '\r'])
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty() && !line.contains(PAGINATION_PROMPT))
        .collect()
}

/// A restart the appliance asks for, e.g. `utils service restart Cisco Web Proxy Service`.
fn restart_hint(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| {
            let at = line.find("utils service restart ")?;
            Some(
                line[at + "utils service restart ".len()..]
                    .trim()
                    .trim_end_matches(['`', '.'])
                    .to_owned(),
            )
        })
        .collect()
}

/// What an add or a change asks for afterwards, and what the appliance printed while making it
/// (for the operator and the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changed {
    /// Services to restart for the change to take effect, as named in the output.
    pub restart: Vec<String>,
    /// The command's whole output.
    pub output: String,
}

impl Changed {
    /// The change's whole output and the restarts it names.
    pub fn from_output(output: String) -> Self {
        Self {
            restart: restart_hint(&normalize(&output)),
            output,
        }
    }
}

/// `1. value` (or `1: value` with `separator` `": "`) → `value`.
fn numbered(line: &str, separator: &str) -> Option<String> {
    let (number, value) = line.trim().split_once(separator)?;
    number.parse::<u32>().ok()?;
    Some(value.trim().to_owned())
}

/// Whether a success line is there, the restarts asked for, or the refusal (`... X is invalid`).
pub fn parse_done(raw: &str, success: &[&str]) -> Result<Changed, Error> {
    let lines = normalize(raw);
    if lines.iter().any(|l| success.contains(&l.trim())) {
        return Ok(Changed {
            restart: restart_hint(&lines),
            output: raw.to_owned(),
        });
    }
    if let Some(line) = lines
        .iter()
        .find(|l| l.starts_with("Operation failed") || l.trim_end().ends_with(" is invalid"))
    {
        let input = line
            .trim_end()
            .strip_suffix(" is invalid")
            .and_then(|rest| rest.rsplit(' ').next())
            .unwrap_or_default()
            .to_owned();
        return Err(Error::Rejected {
            input,
            message: lines.join("\n"),
        });
    }
    Err(unexpected(raw))
}

pub mod driver;

#[cfg(feature = "rest")]
pub mod rest;

#[cfg(feature = "ssh")]
pub mod ssh;

#[cfg(test)]
mod tests;
