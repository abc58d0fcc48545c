//! What the driver's operations take and give: a command with its prompt plan, the driver's
//! errors, and the names of stores, products and versions.

use super::line::{Answer, Line, Refused};
use crate::Error as OutputError;
use std::fmt;
use std::time::Duration;

/// Answers a delete menu by the item labelled `label`; with `at`, only when that item is
/// number `at` (what was planned), else not at all.
pub(super) fn choose(
    label: String,
    at: Option<usize>,
) -> impl Fn(&str) -> Option<Answer> + Send + Sync {
    move |out| {
        let menu = crate::parse_menu(out).ok()?;
        let key = crate::menu_key(&menu, &label)?;
        match at {
            Some(at) if key != at.to_string() => None,
            _ => Line::new(key).ok().map(Answer::Line),
        }
    }
}

/// What to answer at an interactive prompt, given the output since the command (or the last
/// answer) ended with that prompt. `None`: the plan has no answer; the driver quits the prompt
/// and reports [`DriverError::UnexpectedPrompt`].
pub type Plan = Box<dyn Fn(&str) -> Option<Answer> + Send + Sync>;

/// One command line and how to see it through.
pub struct Command {
    pub(crate) line: Line,
    /// Answers to the command's questions (delete menus, `(yes|no)?`, the paste prompt).
    pub(crate) plan: Option<Plan>,
    pub(crate) timeout: Duration,
    /// Receives each output line as it arrives (restarts stream their progress).
    pub(crate) progress: Option<std::sync::mpsc::Sender<String>>,
    /// Typed first, where the CLI has contexts (BroadWorks: `cd /Interface/CTI/CTIServer`).
    pub(crate) context: Option<Line>,
    /// A file copied to the node before the line runs (BroadWorks: SCP).
    pub(crate) upload: Option<Upload>,
}

/// A certificate copied to the node as a PEM file at `path` (re-encoded from its DER, never
/// text a caller gave). Its path is checked when made and when read back from storage: it
/// reaches `scp -t <path>` on the node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Stored")]
pub struct Upload {
    path: Line,
    #[serde(with = "super::line::base64_der")]
    der: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct Stored {
    path: String,
    #[serde(with = "super::line::base64_der")]
    der: Vec<u8>,
}

impl TryFrom<Stored> for Upload {
    type Error = Refused;
    fn try_from(stored: Stored) -> Result<Self, Refused> {
        Upload::new(&stored.path, &stored.der)
    }
}

/// Where uploaded files go (seed 003's example): nowhere else.
pub const UPLOAD_DIR: &str = "/var/broadworks/tmp";

impl Upload {
    /// `path`: a file directly in [`UPLOAD_DIR`], its name of letters, digits, `.`, `-` and
    /// `_`, not starting with `.`.
    pub fn new(path: &str, der: &[u8]) -> Result<Self, Refused> {
        let ok = path.len() <= 200
            && path
                .strip_prefix(UPLOAD_DIR)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| {
                    !name.is_empty()
                        && !name.starts_with('.')
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                });
        if !ok || der.is_empty() {
            return Err(Refused {
                value: path.to_owned(),
                why: "a file is copied to /var/broadworks/tmp/<name> only (a name of letters, digits, '.', '-' and '_'), with a certificate",
            });
        }
        Ok(Self {
            path: Line::new(path.to_owned())?,
            der: der.to_vec(),
        })
    }

    pub fn path(&self) -> &Line {
        &self.path
    }

    /// The file's bytes: the certificate in PEM.
    pub fn contents(&self) -> Result<Vec<u8>, Refused> {
        let mut pem = super::line::Paste::certificate(&self.der)?.typed();
        // The paste's closing blank line is no part of a file.
        pem.pop();
        Ok(pem)
    }

    /// The file's name, after the last `/`.
    pub fn name(&self) -> &str {
        self.path.as_str().rsplit('/').next().unwrap_or_default()
    }
}

impl Command {
    /// A command with the default timeout (30 s) and no prompts expected.
    pub fn new(line: Line) -> Self {
        Self {
            line,
            plan: None,
            timeout: Duration::from_secs(30),
            progress: None,
            context: None,
            upload: None,
        }
    }

    /// Runs in this context (its `cd` line typed first).
    pub fn within(mut self, context: Line) -> Self {
        self.context = Some(context);
        self
    }

    /// Copies `upload` to the node before the line runs.
    pub fn uploading(mut self, upload: Upload) -> Self {
        self.upload = Some(upload);
        self
    }

    /// The line typed.
    pub fn line(&self) -> &Line {
        &self.line
    }

    /// The plan's answer to a question (`None`: it has none).
    pub fn answer(&self, question: &str) -> Option<Answer> {
        self.plan.as_ref().and_then(|plan| plan(question))
    }

    pub fn plan(mut self, plan: impl Fn(&str) -> Option<Answer> + Send + Sync + 'static) -> Self {
        self.plan = Some(Box::new(plan));
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn progress(mut self, lines: std::sync::mpsc::Sender<String>) -> Self {
        self.progress = Some(lines);
        self
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("line", &self.line)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why an operation on an appliance did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverError {
    /// No connection (refused, unreachable, name unknown, timed out connecting).
    Connect(String),
    /// The appliance presents a different host key than the one pinned: nothing is sent
    /// until an admin accepts the new key.
    HostKeyChanged { pinned: String, presented: String },
    /// The username or password was refused.
    Authentication,
    /// No `admin:` prompt, or the SSH session failed.
    Session(String),
    /// The command did not finish in time; what it printed so far.
    Timeout { after: Duration, partial: String },
    /// The connection dropped before the command finished; what it printed so far.
    Dropped { partial: String },
    /// The command asked something the caller's plan has no answer to.
    UnexpectedPrompt { raw: String },
    /// The output means the command did not do what was asked.
    Output(OutputError),
    /// The operation is not offered by this appliance or driver.
    Unsupported(&'static str),
    /// A value cannot be typed at the CLI (a line break, a control character, a space in
    /// one argument): nothing was sent.
    Refused(Refused),
}

impl DriverError {
    /// What the node printed before the command failed (a timeout, a dropped connection, an
    /// unexpected question, output none of the documented shapes match); `None` when it
    /// failed before running or refused the input in words of its own.
    pub fn partial(&self) -> Option<&str> {
        match self {
            DriverError::Timeout { partial, .. } | DriverError::Dropped { partial } => {
                Some(partial)
            }
            DriverError::UnexpectedPrompt { raw }
            | DriverError::Output(OutputError::Unexpected { raw }) => Some(raw),
            _ => None,
        }
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Connect(why) => write!(f, "cannot connect: {why}"),
            DriverError::HostKeyChanged { pinned, presented } => write!(
                f,
                "the host key changed (pinned {pinned}, presented {presented}): accept the new key before anything is sent"
            ),
            DriverError::Authentication => write!(f, "the username or password was refused"),
            DriverError::Session(why) => write!(f, "SSH session failed: {why}"),
            DriverError::Timeout { after, .. } => {
                write!(f, "the command did not finish within {} s", after.as_secs())
            }
            DriverError::Dropped { .. } => write!(f, "the connection dropped during the command"),
            DriverError::UnexpectedPrompt { raw } => {
                write!(f, "the appliance asked something unexpected: {raw:?}")
            }
            DriverError::Output(e) => e.fmt(f),
            DriverError::Unsupported(what) => write!(f, "{what} is not supported"),
            DriverError::Refused(refused) => write!(f, "{refused}; nothing was sent"),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<Refused> for DriverError {
    fn from(e: Refused) -> Self {
        DriverError::Refused(e)
    }
}

impl From<OutputError> for DriverError {
    fn from(e: OutputError) -> Self {
        DriverError::Output(e)
    }
}

/// `show version active`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub active: String,
}

/// Certificate store: `own` or `trust`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Own,
    Trust,
}

impl Store {
    pub fn word(self) -> &'static str {
        match self {
            Store::Own => "own",
            Store::Trust => "trust",
        }
    }

    /// The store as typed: `own` or `trust`.
    pub fn line(self) -> Line {
        match self {
            Store::Own => crate::cli!("own"),
            Store::Trust => crate::cli!("trust"),
        }
    }
}

/// Whose CORS commands: `utils finesse|cuic|live-data cors ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Finesse,
    Cuic,
    LiveData,
}

impl Product {
    pub fn word(self) -> &'static str {
        match self {
            Product::Finesse => "finesse",
            Product::Cuic => "cuic",
            Product::LiveData => "live-data",
        }
    }

    /// `utils <product>`, the start of its commands.
    pub fn utils(self) -> Line {
        match self {
            Product::Finesse => crate::cli!("utils finesse"),
            Product::Cuic => crate::cli!("utils cuic"),
            Product::LiveData => crate::cli!("utils live-data"),
        }
    }
}
