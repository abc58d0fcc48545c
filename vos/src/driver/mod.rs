//! The appliance driver: a small required core (run one CLI command, answering its prompts
//! by the caller's plan) and every operation as a default method built on it that parses
//! the output into a typed result, in the spirit of pingora's `ProxyHttp`. An implementation
//! needs only [`Driver::run`]; it may override an operation where its appliance offers a
//! better way (a REST API, say).

mod change;
pub mod cti;
mod finesse;
mod line;
mod types;
mod web;
pub use change::{Change, Done, Response};
pub use cti::CtiSettings;
pub use finesse::FinesseSettings;
pub use line::{base64_der, shown, typeable, Answer, Line, Paste, Refused};
pub use types::*;
pub use web::WebAccess;

#[cfg(test)]
mod tests;

use crate::{CertEntry, Changed, ConnectedUsers};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The operations of DOMAIN.md §4, each parsed. Only [`Driver::run`] is required.
pub trait Driver: Sync {
    /// Runs one command (after the session's `set cli pagination off`) and returns its
    /// output: the command's echo and the final prompt removed.
    fn run(&self, command: Command) -> impl Future<Output = Result<String, DriverError>> + Send;

    /// Runs one [`Change`] as it was planned: its line, its answer, judged by its output.
    fn apply(&self, change: &Change) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let command = change.command();
        let done = change.done().clone();
        async move {
            let out = self.run(command?).await?;
            Ok(done.judge(out)?)
        }
    }

    /// `show version active`.
    fn version(&self) -> impl Future<Output = Result<Version, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!("show version active")))
                .await?;
            Ok(Version {
                active: crate::parse_version_active(&out)?,
            })
        }
    }

    /// `show tls min-version`: the lowest TLS version the node's services accept.
    fn tls_min_version(&self) -> impl Future<Output = Result<String, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!("show tls min-version")))
                .await?;
            Ok(crate::parse_tls_min_version(&out)?)
        }
    }

    /// `utils system reverse-proxy allowed-hosts list`.
    fn allowed_hosts(&self) -> impl Future<Output = Result<Vec<String>, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils system reverse-proxy allowed-hosts list"
                )))
                .await?;
            Ok(crate::parse_source_list(&out)?)
        }
    }

    fn add_allowed_host(
        &self,
        source: &str,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::add_allowed_host(source);
        async move { self.apply(&change?).await }
    }

    /// Deletes `source` through the menu; with `at`, only when the menu offers it under that
    /// number (as planned), else the menu is quit and [`DriverError::UnexpectedPrompt`] says
    /// what it offered.
    fn delete_allowed_host(
        &self,
        source: &str,
        at: Option<usize>,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::delete_allowed_host(source, at);
        async move { self.apply(&change).await }
    }

    /// `utils system reverse-proxy config-uri list`.
    fn config_uris(&self) -> impl Future<Output = Result<Vec<String>, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils system reverse-proxy config-uri list"
                )))
                .await?;
            Ok(crate::parse_source_list(&out)?)
        }
    }

    /// The appliance fetches the URI and refuses it unless it serves a valid map.
    fn add_config_uri(
        &self,
        uri: &str,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::add_config_uri(uri);
        async move { self.apply(&change?).await }
    }

    fn delete_config_uri(
        &self,
        uri: &str,
        at: Option<usize>,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::delete_config_uri(uri, at);
        async move { self.apply(&change).await }
    }

    /// Minutes between map fetches (`None`: no config URI yet).
    fn update_frequency(&self) -> impl Future<Output = Result<Option<u32>, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils system reverse-proxy show-config-update-frequency"
                )))
                .await?;
            Ok(crate::parse_update_frequency(&out)?)
        }
    }

    fn set_update_frequency(
        &self,
        minutes: u32,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::set_update_frequency(minutes);
        async move { self.apply(&change).await }
    }

    fn proxy_config_map(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, String)>, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils system reverse-proxy show-proxy-config-map"
                )))
                .await?;
            Ok(crate::parse_proxy_config_map(&out)?)
        }
    }

    fn client_auth(&self) -> impl Future<Output = Result<bool, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils system reverse-proxy client-auth status"
                )))
                .await?;
            Ok(crate::parse_client_auth_status(&out)?)
        }
    }

    fn set_client_auth(
        &self,
        enable: bool,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::set_client_auth(enable);
        async move { self.apply(&change).await }
    }

    /// `utils finesse show_connected_users summary` (Finesse only).
    fn connected_users(&self) -> impl Future<Output = Result<ConnectedUsers, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils finesse show_connected_users summary"
                )))
                .await?;
            Ok(crate::parse_connected_users(&out)?)
        }
    }

    /// `utils service list`.
    fn services(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::ServiceState>, DriverError>> + Send {
        async {
            Ok(crate::parse_service_list(
                &self
                    .run(Command::new(crate::cli!("utils service list")))
                    .await?,
            )?)
        }
    }

    /// `set cert regen <unit>`, answering yes.
    fn regenerate(&self, unit: &str) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::regenerate(unit);
        async move { self.apply(&change?).await }
    }

    /// `set csr gen <unit>` (no OU in the CSR), then `show csr own <unit>`: the CSR's PEM.
    fn generate_csr(&self, unit: &str) -> impl Future<Output = Result<String, DriverError>> + Send {
        let line = crate::cli!("set csr gen").arg(unit);
        let show = crate::cli!("show csr own").arg(unit);
        let done = format!("Successfully Generated CSR for {unit}.");
        async move {
            let command = Command::new(line?)
                .plan(|q| q.contains("(yes|no)?").then(|| crate::cli!("no").into()))
                .timeout(Duration::from_secs(120));
            let out = self.run(command).await?;
            crate::parse_done(&out, &[done.as_str()])?;
            Ok(crate::parse_csr_pem(&self.run(Command::new(show?)).await?)?)
        }
    }

    /// `show cert list own|trust`.
    fn cert_list(
        &self,
        store: Store,
    ) -> impl Future<Output = Result<Vec<CertEntry>, DriverError>> + Send {
        let line = crate::cli!("show cert list").then(store.line());
        async move {
            Ok(crate::parse_cert_list(
                &self.run(Command::new(line)).await?,
            )?)
        }
    }

    /// The PEM of `unit/file` in `store` (names as the node listed them).
    fn cert_pem(
        &self,
        store: Store,
        entry: &CertEntry,
    ) -> impl Future<Output = Result<String, DriverError>> + Send {
        let line = crate::cli!("show cert")
            .then(store.line())
            .arg(&format!("{}/{}", entry.unit, entry.file));
        async move {
            Ok(crate::parse_cert_pem(
                &self.run(Command::new(line?)).await?,
            )?)
        }
    }

    /// `set cert import trust <unit>`: pastes the certificate `der` (re-encoded as PEM by
    /// [`Paste::certificate`], never text the caller was given) at the prompt.
    fn import_trust(
        &self,
        unit: &str,
        der: &[u8],
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::import_trust(unit, der, "a certificate");
        async move { self.apply(&change?).await }
    }

    /// `utils service restart <service>` (a name of several words, as `utils service list`
    /// prints it), its states sent to `progress` as they come.
    fn restart(
        &self,
        service: &str,
        progress: Option<std::sync::mpsc::Sender<String>>,
    ) -> impl Future<Output = Result<(), DriverError>> + Send {
        let line = crate::cli!("utils service restart").rest(service);
        let service = service.to_owned();
        async move {
            let mut command = Command::new(line?).timeout(Duration::from_secs(600));
            command.progress = progress;
            Ok(crate::parse_restarted(&self.run(command).await?, &service)?)
        }
    }
}

/// Any driver behind a pointer (`&dyn Console`): the engine drives appliances of every kind
/// through it (the VOS CLI over SSH today; a BroadWorks CLI or another transport is one more
/// implementation of [`Driver::run`]). Every operation of [`Driver`] and of its extensions
/// works on a `dyn Console`, as its default method built on `run`: a driver that overrides an
/// operation (a REST API instead of the CLI) is reached through `Console` by `run` only, so
/// such an override must be forwarded here too.
pub trait Console: Send + Sync {
    fn run_boxed(
        &self,
        command: Command,
    ) -> Pin<Box<dyn Future<Output = Result<String, DriverError>> + Send + '_>>;
}

impl<D: Driver + Send> Console for D {
    fn run_boxed(
        &self,
        command: Command,
    ) -> Pin<Box<dyn Future<Output = Result<String, DriverError>> + Send + '_>> {
        Box::pin(self.run(command))
    }
}

impl Driver for dyn Console + '_ {
    fn run(&self, command: Command) -> impl Future<Output = Result<String, DriverError>> + Send {
        self.run_boxed(command)
    }
}
