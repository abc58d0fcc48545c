//! The VOS driver over SSH: password authentication, the host key checked against its pin,
//! an interactive shell (VOS has no exec) driven prompt by prompt (`shell.rs`), a small pool of
//! shells per node, a bound on concurrent sessions across the fleet, and optionally a [`Gate`]
//! that counts a node's sessions beyond this process (the console's replicas share one count).

mod dialect;
mod gate;
mod scp;
mod shell;

pub use dialect::Dialect;
pub use gate::{Gate, Pass};
pub use shell::MAX_OUTPUT;

use crate::driver::{Command, Driver, DriverError};
use russh::client;
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use russh::Preferred;
use shell::{exchange, read_until_prompt};
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub const PROMPT: &str = "admin:";

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
    /// A shell unused this long is closed (so that its session, and its place in a [`Gate`],
    /// goes to whoever needs it).
    pub idle_for: Duration,
    pub dialect: Dialect,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            prompt_timeout: Duration::from_secs(60),
            per_node: 2,
            idle_for: Duration::from_secs(30),
            dialect: Dialect::Vos,
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
    gate: Option<Arc<dyn Gate>>,
}

struct Shell {
    // Kept so the session lives as long as the channel (and to see it closed).
    session: client::Handle<Checker>,
    channel: russh::Channel<client::Msg>,
    /// Its place in the gate, given back when the shell is dropped.
    _pass: Option<Pass>,
    /// When it was last put back idle.
    idle_since: Instant,
    dialect: Dialect,
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
            gate: None,
        }
    }

    /// Counts this node's sessions in `gate` too: a session is opened only with a pass from it,
    /// held until the session closes.
    pub fn with_gate(mut self, gate: Arc<dyn Gate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Closes the shells that have been idle for `older_than` or longer (`Settings::idle_for`:
    /// those `run` would no longer use; zero: all, e.g. when another server waits for a place),
    /// each with a clean disconnect before its place in the gate is given back.
    pub async fn close_idle(&self, older_than: Duration) {
        let idle_for = older_than.min(self.settings.idle_for);
        let closing: Vec<Shell> = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let (keep, close) = idle.drain(..).partition(|shell| {
                shell.idle_since.elapsed() < idle_for && !shell.session.is_closed()
            });
            *idle = keep;
            close
        };
        for shell in closing {
            let _ = shell
                .session
                .disconnect(russh::Disconnect::ByApplication, "idle", "en")
                .await;
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
            if !shell.session.is_closed() && shell.idle_since.elapsed() < self.settings.idle_for {
                return Some(shell);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Shell, DriverError> {
        let pass = match &self.gate {
            Some(gate) => Some(gate.enter().await?),
            None => None,
        };
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
        let mut shell = Shell {
            session,
            channel,
            _pass: pass,
            idle_since: Instant::now(),
            dialect: self.settings.dialect,
        };
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
        if self.settings.dialect == Dialect::Vos {
            let out = exchange(
                &mut shell,
                Command::new(crate::cli!("set cli pagination off")),
            )
            .await?;
            if !out.contains("Automatic pagination is turned off") {
                return Err(DriverError::Output(crate::Error::Unexpected { raw: out }));
            }
        }
        Ok(shell)
    }
}

fn closed(_: tokio::sync::AcquireError) -> DriverError {
    DriverError::Session("the driver is shutting down".into())
}

pub(super) fn session_error(e: russh::Error) -> DriverError {
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
            shell.idle_since = Instant::now();
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(shell);
        }
        result
    }
}
