//! One change to an appliance as a value: the line typed, how its question is answered, and the
//! output that says it was done. A plan holds it (stored with the plan, shown to the admin who
//! confirms it) and the driver runs exactly it ([`Driver::apply`](super::Driver::apply)), so
//! what was shown is what runs. The driver's own change operations are built on the same
//! values, so there is one way to type each change.
//!
//! Its text is checked when it is made and again when it is read back from storage: a stored
//! change can no more hold a second line than a new one.

use super::line::{base64_der, shown, Answer, Line, Paste, Refused};
use super::types::{choose, Command, Product, Upload};
use crate::{Changed, CorsMode, Error as OutputError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// One change, as shown and as run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    line: Line,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<Response>,
    done: Done,
    /// Seconds the command may take.
    timeout: u64,
    /// Typed first where the CLI has contexts (BroadWorks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<Line>,
    /// A file copied to the node before the line runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upload: Option<Upload>,
}

/// How a change's question is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Response {
    /// The delete menu's entry labelled `label`; with `at`, only when the menu shows it under
    /// that number (as planned), else the menu is quit.
    Choose { label: String, at: Option<usize> },
    /// A certificate pasted at `Paste the Certificate`: its DER (re-encoded as PEM when it is
    /// typed), and what plans call it.
    Paste {
        label: String,
        #[serde(with = "base64_der")]
        der: Vec<u8>,
    },
    /// `yes` at a `(yes|no)?` question.
    Yes,
}

/// The output that says a change was done; anything else is an error with the node's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Done {
    /// `Source <source> successfully added`.
    Added { source: String },
    /// A delete menu's success line.
    Deleted,
    /// `SSL certificate verification enabled|disabled ...`.
    ClientAuth { enabled: bool },
    /// A CORS mode switched.
    Cors,
    /// One of these lines.
    Says { lines: Vec<String> },
    /// No output at all.
    Silent,
    /// `Successfully imported certificate for <unit>.`
    Imported { unit: String },
    /// `Successfully Regenerated Certificate for <unit>.`
    Regenerated { unit: String },
    /// BroadWorks' `...Done`.
    BroadWorks,
}

impl Done {
    /// Whether `output` says the change was done: what changed, or the node's words.
    pub fn judge(&self, output: String) -> Result<Changed, OutputError> {
        match self {
            Done::Added { source } => crate::parse_source_added(&output, source),
            Done::Deleted => crate::parse_deleted(&output).map(|()| Changed::from_output(output)),
            Done::ClientAuth { enabled } => crate::parse_client_auth_set(&output, *enabled),
            Done::Cors => crate::parse_cors_set(&output).map(|()| Changed::from_output(output)),
            Done::Says { lines } => {
                let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
                crate::parse_done(&output, &lines)
            }
            Done::Silent => crate::parse_silent(&output).map(|()| Changed::from_output(output)),
            Done::Imported { unit } => {
                crate::parse_imported(&output, unit)?;
                Ok(Changed {
                    restart: vec![format!("services related to {unit}")],
                    output,
                })
            }
            Done::BroadWorks => crate::parse_bw_done(&output, "the command"),
            Done::Regenerated { unit } => {
                let done = format!("Successfully Regenerated Certificate for {unit}.");
                crate::parse_done(&output, &[done.as_str()])?;
                Ok(Changed {
                    restart: vec![format!("services related to {unit}")],
                    output,
                })
            }
        }
    }
}

const DEFAULT_TIMEOUT: u64 = 30;

impl Change {
    fn new(line: Line, done: Done) -> Self {
        Self {
            line,
            answer: None,
            done,
            timeout: DEFAULT_TIMEOUT,
            context: None,
            upload: None,
        }
    }

    /// A BroadWorks command at `context` (`cd` there first), done when it says `...Done`.
    pub(super) fn broadworks(context: &'static str, line: Line) -> Self {
        let mut change = Self::new(line, Done::BroadWorks);
        change.context = Some(self::context(context));
        change
    }

    /// This change, with `upload` copied to the node before its line runs.
    pub(super) fn with_upload(mut self, upload: Upload) -> Self {
        self.upload = Some(upload);
        self
    }

    fn answered(mut self, answer: Response) -> Self {
        self.answer = Some(answer);
        self
    }

    fn within(mut self, seconds: u64) -> Self {
        self.timeout = seconds;
        self
    }

    /// The line typed (without the answers).
    pub fn line(&self) -> &Line {
        &self.line
    }

    pub fn done(&self) -> &Done {
        &self.done
    }

    /// The command the driver runs: the line, the answer to its question, its timeout.
    pub fn command(&self) -> Result<Command, Refused> {
        let mut command =
            Command::new(self.line.clone()).timeout(Duration::from_secs(self.timeout.max(1)));
        if let Some(context) = &self.context {
            command = command.within(context.clone());
        }
        if let Some(upload) = &self.upload {
            command = command.uploading(upload.clone());
        }
        Ok(match &self.answer {
            None => command,
            Some(Response::Choose { label, at }) => command.plan(choose(label.clone(), *at)),
            Some(Response::Paste { der, .. }) => {
                let paste = Answer::Paste(Paste::certificate(der)?);
                command
                    .plan(move |out| out.contains("Paste the Certificate").then(|| paste.clone()))
            }
            Some(Response::Yes) => command.plan(|out| {
                (out.contains("(yes|no)") || out.contains("(yes/no)"))
                    .then(|| crate::cli!("yes").into())
            }),
        })
    }

    /// `utils system reverse-proxy allowed-hosts add <source>`.
    pub fn add_allowed_host(source: &str) -> Result<Self, Refused> {
        let line = crate::cli!("utils system reverse-proxy allowed-hosts add").arg(source)?;
        Ok(Self::new(
            line,
            Done::Added {
                source: source.into(),
            },
        ))
    }

    /// `utils system reverse-proxy allowed-hosts delete`, choosing `source` (numbered `at`).
    pub fn delete_allowed_host(source: &str, at: Option<usize>) -> Self {
        Self::delete(
            crate::cli!("utils system reverse-proxy allowed-hosts delete"),
            source,
            at,
        )
    }

    /// `utils system reverse-proxy config-uri add <uri>`: the node fetches the URI and refuses
    /// it unless it serves a valid map (so it may take a while).
    pub fn add_config_uri(uri: &str) -> Result<Self, Refused> {
        let line = crate::cli!("utils system reverse-proxy config-uri add").arg(uri)?;
        Ok(Self::new(line, Done::Added { source: uri.into() }).within(60))
    }

    pub fn delete_config_uri(uri: &str, at: Option<usize>) -> Self {
        Self::delete(
            crate::cli!("utils system reverse-proxy config-uri delete"),
            uri,
            at,
        )
    }

    /// `utils system reverse-proxy set-config-update-frequency <minutes>`.
    pub fn set_update_frequency(minutes: u32) -> Self {
        let line = crate::cli!("utils system reverse-proxy set-config-update-frequency");
        // Digits are always one word.
        let line = line.clone().arg(&minutes.to_string()).unwrap_or(line);
        Self::new(line, Done::Silent)
    }

    /// `utils finesse set_property webservices <name> <value>`.
    pub fn set_property(name: &str, value: &str) -> Result<Self, Refused> {
        let line = crate::cli!("utils finesse set_property webservices")
            .arg(name)?
            .arg(value)?;
        Ok(Self::new(line, says("Property successfully updated.")))
    }

    /// `set tls min-version <version>`, answering yes: the node reboots afterwards (so the
    /// command may take a while to answer).
    pub fn set_tls_min_version(version: &str) -> Result<Self, Refused> {
        let line = crate::cli!("set tls min-version").arg(version)?;
        let done = format!("Successfully set minimum TLS version to {version}");
        Ok(Self::new(line, says(&done))
            .answered(Response::Yes)
            .within(120))
    }

    /// `utils system reverse-proxy client-auth enable|disable`.
    pub fn set_client_auth(enabled: bool) -> Self {
        let line = if enabled {
            crate::cli!("utils system reverse-proxy client-auth enable")
        } else {
            crate::cli!("utils system reverse-proxy client-auth disable")
        };
        Self::new(line, Done::ClientAuth { enabled })
    }

    /// `utils <product> cors enable_all|enable|disable`.
    pub fn set_cors(product: Product, mode: CorsMode) -> Self {
        let line = product.utils().then(match mode {
            CorsMode::EnableAll => crate::cli!("cors enable_all"),
            CorsMode::Enable => crate::cli!("cors enable"),
            CorsMode::Disable => crate::cli!("cors disable"),
        });
        Self::new(line, Done::Cors)
    }

    /// `utils <product> cors allowed_origin add <a,b>`.
    pub fn add_allowed_origins(product: Product, origins: &[&str]) -> Result<Self, Refused> {
        let line = product
            .utils()
            .then(crate::cli!("cors allowed_origin add"))
            .list(origins)?;
        Ok(Self::new(line, says("Origin(s) successfully added.")))
    }

    pub fn delete_allowed_origin(product: Product, origin: &str, at: Option<usize>) -> Self {
        let line = product
            .utils()
            .then(crate::cli!("cors allowed_origin delete"));
        Self::delete(line, origin, at)
    }

    /// `utils <product> frame_access_allowed_list add <a,b>`.
    pub fn add_frame_sources(product: Product, sources: &[&str]) -> Result<Self, Refused> {
        let line = product
            .utils()
            .then(crate::cli!("frame_access_allowed_list add"))
            .list(sources)?;
        Ok(Self::new(line, says("Source(s) successfully added.")))
    }

    pub fn delete_frame_source(product: Product, source: &str, at: Option<usize>) -> Self {
        let line = product
            .utils()
            .then(crate::cli!("frame_access_allowed_list delete"));
        Self::delete(line, source, at)
    }

    /// `set cert import trust <unit>`, pasting the certificate `der` (re-encoded, never text
    /// the caller was given); `label` names it in the plan.
    pub fn import_trust(unit: &str, der: &[u8], label: &str) -> Result<Self, Refused> {
        Self::import(
            crate::cli!("set cert import trust").arg(unit)?,
            unit,
            der,
            label,
        )
    }

    /// `set cert import own <unit>`: the node's own certificate (CA-signed, for the key of its
    /// last CSR), pasted as parsed like a trust import.
    pub fn import_own(unit: &str, der: &[u8], label: &str) -> Result<Self, Refused> {
        Self::import(
            crate::cli!("set cert import own").arg(unit)?,
            unit,
            der,
            label,
        )
    }

    fn import(line: Line, unit: &str, der: &[u8], label: &str) -> Result<Self, Refused> {
        // Checked now rather than when it runs.
        Paste::certificate(der)?;
        Ok(Self::new(line, Done::Imported { unit: unit.into() })
            .answered(Response::Paste {
                label: label.into(),
                der: der.to_vec(),
            })
            .within(60))
    }

    /// `set cert regen <unit>`, answering yes.
    pub fn regenerate(unit: &str) -> Result<Self, Refused> {
        let line = crate::cli!("set cert regen").arg(unit)?;
        Ok(Self::new(line, Done::Regenerated { unit: unit.into() })
            .answered(Response::Yes)
            .within(120))
    }

    /// An interactive delete `line`, choosing the entry labelled `label` (at number `at`).
    pub fn delete(line: Line, label: &str, at: Option<usize>) -> Self {
        Self::new(line, Done::Deleted).answered(Response::Choose {
            label: label.into(),
            at,
        })
    }
}

fn says(line: &str) -> Done {
    Done::Says {
        lines: vec![line.into()],
    }
}

/// As plans show it: the line, then the answer after ` → ` (the menu number, `paste <what>`,
/// `yes`). A certificate's name is shown on one line whatever its subject holds.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A BroadWorks command as the seed writes it: `<context>> <line>`.
        if let Some(context) = &self.context {
            let path = context
                .as_str()
                .strip_prefix("cd ")
                .unwrap_or(context.as_str());
            write!(f, "{path}> ")?;
        }
        write!(f, "{}", self.line)?;
        if self.upload.is_some() {
            f.write_str(" (the certificate copied there first)")?;
        }
        match &self.answer {
            None => Ok(()),
            Some(Response::Choose { at: Some(at), .. }) => write!(f, " → {at}"),
            Some(Response::Choose { label, at: None }) => write!(f, " → {}", shown(label)),
            Some(Response::Paste { label, .. }) => write!(f, " → paste {}", shown(label)),
            Some(Response::Yes) => f.write_str(" → yes"),
        }
    }
}

/// `cd <context>`, where a CLI has contexts (BroadWorks).
pub fn context(path: &'static str) -> Line {
    // The contexts are constants of one word each.
    crate::cli!("cd").arg(path).unwrap_or(crate::cli!("cd"))
}

#[cfg(test)]
mod tests;
