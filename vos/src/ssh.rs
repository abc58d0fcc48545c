//! The VOS driver over SSH: password authentication, the host key checked against its pin,
//! an interactive shell (VOS has no exec) driven prompt by prompt, a small pool of shells per
//! node and a bound on concurrent sessions across the fleet.

use crate::driver::{Command, Driver, DriverError};
use russh::client;
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Preferred};
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub const PROMPT: &str = "admin:";

/// Output beyond this is not kept: the command is abandoned with an error (no CLI command
/// prints anywhere near it).
pub const MAX_OUTPUT: usize = 8 * 1024 * 1024;

/// Where and as whom to connect.
#[derive(Clone)]
pub struct Target {
    /// The management address, else the FQDN.
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A host key as the appliance presented it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// `ssh-rsa`, ...
    pub algorithm: String,
    /// The public key in OpenSSH's one-line form.
    pub openssh: String,
}

/// Timeouts and bounds.
#[derive(Debug, Clone)]
pub struct Settings {
    pub connect_timeout: Duration,
    /// Waiting for the first `admin:` prompt (the VOS CLI takes seconds to start).
    pub prompt_timeout: Duration,
    /// Shells kept open and used at once per node.
    pub per_node: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            prompt_timeout: Duration::from_secs(60),
            per_node: 2,
        }
    }
}

/// The algorithms offered: russh's defaults plus what VOS may need and the defaults leave
/// out (diffie-hellman-group14-sha1). aes-ctr, hmac-sha2-256 and ssh-rsa / rsa-sha2 host keys
/// are in the defaults.
fn preferred() -> Preferred {
    let mut kex = Preferred::DEFAULT.kex.to_vec();
    let at = kex
        .iter()
        .position(|k| *k == russh::kex::EXTENSION_SUPPORT_AS_CLIENT)
        .unwrap_or(kex.len());
    kex.insert(at, russh::kex::DH_G14_SHA1);
    Preferred {
        kex: Cow::Owned(kex),
        ..Preferred::DEFAULT
    }
}

/// One node's driver: a pool of shells behind its pin.
pub struct VosSsh {
    target: Target,
    settings: Settings,
    pinned: Mutex<Option<String>>,
    seen: Arc<Mutex<Option<HostKey>>>,
    idle: Mutex<Vec<Shell>>,
    slots: Semaphore,
    fleet: Arc<Semaphore>,
}

struct Shell {
    // Kept so the session lives as long as the channel (and to see it closed).
    session: client::Handle<Checker>,
    channel: russh::Channel<client::Msg>,
}

struct Checker {
    pinned: Option<String>,
    seen: Arc<Mutex<Option<HostKey>>>,
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false);
        };
        let seen = HostKey {
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
            algorithm: key.algorithm().to_string(),
            openssh: key.to_openssh().unwrap_or_default(),
        };
        let trusted = self
            .pinned
            .as_ref()
            .is_none_or(|pin| *pin == seen.fingerprint);
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen);
        Ok(trusted)
    }
}

impl VosSsh {
    /// `pinned`: the host key fingerprint accepted for this node (`None`: first use, any key
    /// is taken and reported by [`VosSsh::host_key`] for the caller to pin). `fleet` bounds
    /// sessions across all nodes.
    pub fn new(
        target: Target,
        pinned: Option<String>,
        settings: Settings,
        fleet: Arc<Semaphore>,
    ) -> Self {
        let slots = Semaphore::new(settings.per_node.max(1));
        Self {
            target,
            settings,
            pinned: Mutex::new(pinned),
            seen: Arc::default(),
            idle: Mutex::new(Vec::new()),
            slots,
            fleet,
        }
    }

    /// The key the node presented at the last connection.
    pub fn host_key(&self) -> Option<HostKey> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    fn take_idle(&self) -> Option<Shell> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(shell) = idle.pop() {
            if !shell.session.is_closed() {
                return Some(shell);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Shell, DriverError> {
        let pinned = self
            .pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let checker = Checker {
            pinned: pinned.clone(),
            seen: self.seen.clone(),
        };
        let config = Arc::new(client::Config {
            preferred: preferred(),
            inactivity_timeout: Some(Duration::from_secs(600)),
            nodelay: true,
            ..Default::default()
        });
        let address = (self.target.host.as_str(), self.target.port);
        let connected = tokio::time::timeout(
            self.settings.connect_timeout,
            client::connect(config, address, checker),
        )
        .await;
        let mut session = match connected {
            Err(_) => {
                return Err(DriverError::Connect(format!(
                    "no answer within {} s",
                    self.settings.connect_timeout.as_secs()
                )))
            }
            Ok(Ok(session)) => session,
            Ok(Err(russh::Error::UnknownKey)) => {
                let presented = self.host_key().map(|k| k.fingerprint).unwrap_or_default();
                return Err(DriverError::HostKeyChanged {
                    pinned: pinned.unwrap_or_default(),
                    presented,
                });
            }
            Ok(Err(russh::Error::IO(e))) => return Err(DriverError::Connect(e.to_string())),
            Ok(Err(e)) => return Err(DriverError::Session(e.to_string())),
        };
        let auth = session
            .authenticate_password(&self.target.username, &self.target.password)
            .await
            .map_err(session_error)?;
        if !auth.success() {
            return Err(DriverError::Authentication);
        }
        let channel = session
            .channel_open_session()
            .await
            .map_err(session_error)?;
        channel
            .request_pty(false, "vt100", 200, 50, 0, 0, &[])
            .await
            .map_err(session_error)?;
        channel.request_shell(false).await.map_err(session_error)?;
        let mut shell = Shell { session, channel };
        let deadline = Instant::now() + self.settings.prompt_timeout;
        read_until_prompt(&mut shell, deadline, None, None, None)
            .await
            .map_err(|e| match e {
                DriverError::Timeout { partial, .. } => DriverError::Session(format!(
                    "no admin: prompt within {} s (got {partial:?})",
                    self.settings.prompt_timeout.as_secs()
                )),
                other => other,
            })?;
        let out = exchange(&mut shell, Command::new("set cli pagination off")).await?;
        if !out.contains("Automatic pagination is turned off") {
            return Err(DriverError::Output(crate::Error::Unexpected { raw: out }));
        }
        Ok(shell)
    }
}

fn closed(_: tokio::sync::AcquireError) -> DriverError {
    DriverError::Session("the driver is shutting down".into())
}

fn session_error(e: russh::Error) -> DriverError {
    DriverError::Session(e.to_string())
}

impl Driver for VosSsh {
    async fn run(&self, command: Command) -> Result<String, DriverError> {
        let _fleet = self.fleet.acquire().await.map_err(closed)?;
        let _slot = self.slots.acquire().await.map_err(closed)?;
        let mut shell = match self.take_idle() {
            Some(shell) => shell,
            None => self.connect().await?,
        };
        let result = exchange(&mut shell, command).await;
        // A shell whose command timed out or dropped is in an unknown state: not reused.
        if !matches!(
            result,
            Err(DriverError::Timeout { .. }
                | DriverError::Dropped { .. }
                | DriverError::Session(_))
        ) {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(shell);
        }
        result
    }
}

/// Sends one command and reads its output to the next prompt, answering questions by plan.
async fn exchange(shell: &mut Shell, command: Command) -> Result<String, DriverError> {
    let deadline = Instant::now() + command.timeout;
    shell
        .channel
        .data_bytes(format!("{}\n", command.line).into_bytes())
        .await
        .map_err(session_error)?;
    let raw = read_until_prompt(
        shell,
        deadline,
        Some(&command.line),
        command.plan.as_ref(),
        command.progress.as_ref(),
    )
    .await?;
    // The terminal echoes the command line first.
    let out = match raw.split_once('\n') {
        Some((first, rest)) if first.trim_end().ends_with(command.line.trim()) => rest,
        _ => raw.as_str(),
    };
    Ok(out.to_owned())
}

/// Reads until the output ends with the `admin:` prompt (which is removed). Pagination
/// prompts are paged through; questions are answered by `plan` (without one, quit with `q`
/// and report the question), shown the output after the `echo` of the command line.
async fn read_until_prompt(
    shell: &mut Shell,
    deadline: Instant,
    echo: Option<&str>,
    plan: Option<&crate::driver::Plan>,
    progress: Option<&std::sync::mpsc::Sender<String>>,
) -> Result<String, DriverError> {
    let mut raw = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    // Where the part of the output not yet looked at for a question starts.
    let mut asked_from = 0;
    let mut lines_sent = 0;
    let mut unanswered: Option<String> = None;
    loop {
        let message = match tokio::time::timeout_at(deadline, shell.channel.wait()).await {
            Err(_) => {
                return Err(DriverError::Timeout {
                    after: deadline.saturating_duration_since(Instant::now()),
                    partial: raw,
                })
            }
            Ok(message) => message,
        };
        match message {
            Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                bytes.extend_from_slice(&data);
                // Decode only whole UTF-8 sequences.
                let valid = match std::str::from_utf8(&bytes) {
                    Ok(_) => bytes.len(),
                    Err(e) if e.error_len().is_none() => e.valid_up_to(),
                    Err(_) => bytes.len(),
                };
                raw.push_str(&String::from_utf8_lossy(&bytes[..valid]));
                bytes.drain(..valid);
                if raw.len() > MAX_OUTPUT {
                    return Err(DriverError::Session(format!(
                        "the output exceeded {} MiB; the command was abandoned",
                        MAX_OUTPUT / (1024 * 1024)
                    )));
                }
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                return Err(DriverError::Dropped { partial: raw })
            }
            Some(_) => continue,
        }
        if let Some(progress) = progress {
            let complete: Vec<&str> = raw
                .split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .collect();
            for line in &complete[lines_sent.min(complete.len())..] {
                let _ = progress.send(line.trim_end().to_owned());
            }
            lines_sent = complete.len();
        }
        let tail = raw.trim_end_matches([' ', '\t']);
        if tail.ends_with(PROMPT) && tail[..tail.len() - PROMPT.len()].ends_with(['\n', '\r'])
            || tail == PROMPT
        {
            let out = raw[..raw.rfind(PROMPT).unwrap_or(raw.len())].to_owned();
            return match unanswered {
                Some(question) => Err(DriverError::UnexpectedPrompt { raw: question }),
                None => Ok(out),
            };
        }
        if asked_from == 0 {
            if let (Some(line), Some((first, _))) = (echo, raw.split_once('\n')) {
                if first.trim_end().ends_with(line.trim()) {
                    asked_from = first.len() + 1;
                }
            }
        }
        let fresh = &raw[asked_from..];
        if fresh.trim_end().ends_with(crate::PAGINATION_PROMPT) {
            asked_from = raw.len();
            send(shell, " ").await?;
            continue;
        }
        if is_question(fresh) {
            asked_from = raw.len();
            let answer = plan.and_then(|plan| plan(fresh));
            match answer {
                Some(answer) => send(shell, &format!("{answer}\n")).await?,
                None => {
                    unanswered = Some(fresh.to_owned());
                    send(shell, "q\n").await?;
                }
            }
        }
    }
}

/// Whether the output so far ends with a question waiting for input.
fn is_question(fresh: &str) -> bool {
    let trimmed = fresh.trim_end_matches([' ', '\t']);
    let last_line = trimmed.rsplit(['\n', '\r']).next().unwrap_or_default();
    let waiting = last_line.ends_with('?')
        || last_line.ends_with("):")
        || last_line.ends_with("]:")
        || last_line.ends_with("? ):");
    let paste = trimmed
        .trim_end_matches(['\r', '\n'])
        .ends_with("Paste the Certificate and Hit Enter")
        && trimmed.ends_with('\n');
    waiting || paste
}

async fn send(shell: &mut Shell, text: &str) -> Result<(), DriverError> {
    shell
        .channel
        .data_bytes(text.as_bytes().to_vec())
        .await
        .map_err(session_error)
}
