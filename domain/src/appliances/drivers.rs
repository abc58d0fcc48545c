//! The drivers of the fleet's nodes (one SSH driver per node, rebuilt when what it was built
//! from changes), the node as the appliance layer reads it, and why a node may not be reached.
//! What `Services` holds of the appliance layer: nothing here acts for anyone (the operations,
//! their checks and their audit are in `store`).

use super::secret::Sealer;
use crate::Error;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use vos::driver::DriverError;
use vos::ssh::{Dialect, Settings, Target, VosSsh};

/// The drivers of the fleet's nodes and what they share.
pub struct Appliances {
    pub(crate) sealer: Sealer,
    /// Bounds SSH sessions across the fleet.
    fleet: Arc<Semaphore>,
    drivers: Mutex<HashMap<i64, (DriverKey, Arc<VosSsh>)>>,
    /// Nodes whose connected users are being read now (one read per node at a time).
    sampling: Mutex<std::collections::HashSet<i64>>,
    /// The nodes' session places shared with the other replicas (none: this process's bound
    /// only).
    slots: Option<Arc<super::slots::SshSlots>>,
}

impl std::fmt::Debug for Appliances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appliances").finish_non_exhaustive()
    }
}

/// What a driver was built from: a change of any of it makes a new driver.
#[derive(Clone, PartialEq, Eq)]
struct DriverKey {
    host: String,
    port: u16,
    username: String,
    credentials_at: OffsetDateTime,
    pin: Option<String>,
    kind: String,
}

impl Appliances {
    pub fn new(sealer: Sealer, concurrency: usize) -> Self {
        Self {
            sealer,
            fleet: Arc::new(Semaphore::new(concurrency.max(1))),
            drivers: Mutex::new(HashMap::new()),
            sampling: Mutex::default(),
            slots: None,
        }
    }

    /// Counts each node's sessions in `slots` too, so that the bound holds across replicas.
    pub fn with_slots(mut self, slots: super::slots::SshSlots) -> Self {
        self.slots = Some(Arc::new(slots));
        self
    }

    /// Closes every idle shell to the node at once when another replica waits for one of its
    /// session places (announced on `slots::WANTED`); runs for ever.
    pub async fn give_way(self: Arc<Self>, pool: PgPool) {
        crate::notify::listen(pool, &[super::slots::WANTED], |_, payload| {
            let Ok(node_id) = payload.parse::<i64>() else {
                return;
            };
            let driver = self
                .drivers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&node_id)
                .map(|(_, driver)| driver.clone());
            if let Some(driver) = driver {
                tokio::spawn(async move { driver.close_idle(Duration::ZERO).await });
            }
        })
        .await
    }

    /// When the console stops, before the database closes: every idle shell closed and every
    /// session place this replica holds given back (the shells of jobs still running close when
    /// those are dropped).
    pub async fn shut_down(&self) {
        let drivers: Vec<Arc<VosSsh>> = self
            .drivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, (_, driver))| driver)
            .collect();
        for driver in drivers {
            driver.close_idle(Duration::ZERO).await;
        }
        if let Some(slots) = &self.slots {
            if let Err(error) = slots.release_all().await {
                tracing::warn!(%error, "giving back the SSH session places at stop; their leases will run out");
            }
        }
    }

    /// Every few seconds: closes the shells idle too long (their places go to whoever needs
    /// them) and renews the leases of the places still held.
    pub async fn upkeep(&self) {
        let drivers: Vec<Arc<VosSsh>> = self
            .drivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|(_, driver)| driver.clone())
            .collect();
        for driver in drivers {
            driver.close_idle(Duration::MAX).await;
        }
        if let Some(slots) = &self.slots {
            if let Err(error) = slots.renew().await {
                tracing::warn!(%error, "renewing the leases of SSH session places");
            }
        }
    }

    /// Whether a read of `node_id`'s connected users may start (none is running).
    pub(crate) fn begin_sample(&self, node_id: i64) -> bool {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(node_id)
    }

    pub(crate) fn is_sampling(&self, node_id: i64) -> bool {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&node_id)
    }

    pub(crate) fn end_sample(&self, node_id: i64) {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&node_id);
    }

    /// The node's driver, or why there is none.
    pub(crate) fn driver(&self, node_id: i64, node: &NodeRow) -> Result<Arc<VosSsh>, NodeFailure> {
        let Some((username, nonce, sealed, at)) = &node.credentials else {
            return Err(NodeFailure::NoCredentials(
                "no credentials are stored for this node: enter the platform admin account first"
                    .into(),
            ));
        };
        if let (Some(pin), Some(presented)) = (&node.pin, &node.presented) {
            return Err(NodeFailure::HostKeyChanged {
                presented: presented.clone(),
                pinned: pin.clone(),
            });
        }
        let key = DriverKey {
            host: node.host.clone(),
            port: node.port,
            username: username.clone(),
            credentials_at: *at,
            pin: node.pin.clone(),
            kind: node.kind.clone(),
        };
        let mut drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, driver)) = drivers.get(&node_id) {
            if *known == key {
                return Ok(driver.clone());
            }
        }
        let password = self.sealer.open(node_id, nonce, sealed).ok_or_else(|| {
            NodeFailure::NoCredentials(
                "the stored password does not open with this server's secret key (was the key file replaced?): enter it again".into(),
            )
        })?;
        let driver = VosSsh::new(
            Target {
                host: node.host.clone(),
                port: node.port,
                username: username.clone(),
                password,
            },
            node.pin.clone(),
            Settings {
                dialect: node.dialect(),
                ..Settings::default()
            },
            self.fleet.clone(),
        );
        let driver = Arc::new(match &self.slots {
            Some(slots) => driver.with_gate(slots.gate(node_id)),
            None => driver,
        });
        drivers.insert(node_id, (key, driver.clone()));
        Ok(driver)
    }

    pub(crate) fn forget(&self, node_id: i64) {
        self.drivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&node_id);
    }
}

/// A node as the appliance layer needs it.
pub(crate) struct NodeRow {
    pub(crate) fqdn: String,
    pub(crate) kind: String,
    pub(crate) version: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) credentials: Option<(String, Vec<u8>, Vec<u8>, OffsetDateTime)>,
    /// The host, SSH port and FQDN the credentials are bound to (`None`: to nothing yet).
    pub(crate) bound: Option<(String, u16, String)>,
    pub(crate) pin: Option<String>,
    pub(crate) presented: Option<String>,
}

impl NodeRow {
    /// The CLI its account's shell is: BroadWorks' on an XSP|ADP or AS, else VOS's.
    pub(crate) fn dialect(&self) -> Dialect {
        match crate::inventory::model::NodeKind::parse(&self.kind) {
            Ok(crate::inventory::model::NodeKind::BroadWorks) => Dialect::BroadWorks,
            _ => Dialect::Vos,
        }
    }

    /// The node as the credentials would reach it: `fqdn at host:port`.
    fn identity(host: &str, port: u16, fqdn: &str) -> String {
        format!("{fqdn} at {host}:{port}")
    }

    /// Why the credentials may not go to the node as it is now (its address, SSH port or FQDN
    /// changed since an admin bound them), if so.
    pub(crate) fn identity_changed(&self) -> Option<NodeFailure> {
        self.credentials.as_ref()?;
        match &self.bound {
            Some((host, port, fqdn))
                if *host == self.host && *port == self.port && *fqdn == self.fqdn =>
            {
                None
            }
            bound => Some(NodeFailure::IdentityChanged {
                bound: bound
                    .as_ref()
                    .map(|(host, port, fqdn)| Self::identity(host, *port, fqdn)),
                now: Self::identity(&self.host, self.port, &self.fqdn),
                pinned: self.pin.is_some(),
            }),
        }
    }
}

/// Why a node is reached, which decides what may happen on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A read for someone looking (a page, an API client, a background check): it never pins
    /// a host key and never writes an audit entry, so a node whose key is not pinned yet is
    /// not reached ("host key not confirmed").
    Read,
    /// An admin's operation (or the console's own on an admin's behalf): the host key is
    /// pinned on first use and a changed one recorded, both audited.
    Change,
    /// An admin's connection test: as [`Purpose::Change`], and it also reaches a node whose
    /// address or FQDN changed since its credentials were bound (the pinned host key is
    /// checked before the password is sent); the caller binds them anew when it works.
    Confirm,
}

pub(crate) async fn node_row(pool: &PgPool, node_id: i64) -> Result<NodeRow, Error> {
    let r = sqlx::query!(
        r#"select n.fqdn, n.kind, n.version, n.address, n.ssh_port,
                  c.username as "username?", c.nonce as "nonce?", c.sealed as "sealed?", c.updated_at as "updated_at?",
                  c.bound_host, c.bound_port, c.bound_fqdn,
                  k.fingerprint as "fingerprint?", k.presented_fingerprint
           from node n
           left join node_credential c on c.node_id = n.id
           left join node_host_key k on k.node_id = n.id
           where n.id = $1"#,
        node_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::inventory::Refused::NoSuchNode(node_id))?;
    let credentials = match (r.username, r.nonce, r.sealed, r.updated_at) {
        (Some(u), Some(n), Some(s), Some(at)) => Some((u, n, s, at)),
        _ => None,
    };
    Ok(NodeRow {
        bound: match (r.bound_host, r.bound_port, r.bound_fqdn) {
            (Some(host), Some(port), Some(fqdn)) => {
                Some((host, u16::try_from(port).unwrap_or(22), fqdn))
            }
            _ => None,
        },
        host: r.address.clone().unwrap_or_else(|| r.fqdn.clone()),
        fqdn: r.fqdn,
        kind: r.kind,
        version: r.version,
        port: u16::try_from(r.ssh_port).unwrap_or(22),
        credentials,
        pin: r.fingerprint,
        presented: r.presented_fingerprint,
    })
}

/// Why an operation on a node did not run, or did not finish.
#[derive(Debug)]
pub enum NodeFailure {
    /// No usable credentials: none stored, or sealed with another server's key.
    NoCredentials(String),
    /// The node presented a host key other than the pinned one; nothing is sent until an admin
    /// accepts it.
    HostKeyChanged { presented: String, pinned: String },
    /// The driver failed: connecting, signing in, the session, a timeout, the output.
    Driver(DriverError),
    /// A read found no pinned host key: only an admin's operation pins one.
    NotConfirmed,
    /// The node's address, SSH port or FQDN changed since its credentials were bound
    /// (`bound`: to what; `None`: to nothing yet); nothing is sent until an admin confirms it:
    /// a connection test when a host key is `pinned` to check it by, else the credentials
    /// entered again.
    IdentityChanged {
        bound: Option<String>,
        now: String,
        pinned: bool,
    },
}

impl NodeFailure {
    /// The stable code the API and the connection test report.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCredentials(_) => "no_credentials",
            Self::HostKeyChanged { .. } => "host_key_changed",
            Self::NotConfirmed => "host_key_not_confirmed",
            Self::IdentityChanged { .. } => "identity_changed",
            Self::Driver(error) => match error {
                DriverError::Connect(_) => "connect",
                DriverError::HostKeyChanged { .. } => "host_key_changed",
                DriverError::Authentication => "authentication",
                DriverError::Session(_) => "session",
                DriverError::Timeout { .. } => "timeout",
                DriverError::Dropped { .. } => "dropped",
                DriverError::UnexpectedPrompt { .. } | DriverError::Output(_) => "output",
                DriverError::Unsupported(_) => "unsupported",
                DriverError::Refused(_) => "refused",
            },
        }
    }
}

impl std::fmt::Display for NodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoCredentials(why) => f.write_str(why),
            Self::HostKeyChanged { presented, pinned } => write!(
                f,
                "the node presented a new host key ({presented}, pinned {pinned}): nothing is sent until an admin accepts it"
            ),
            Self::Driver(error) => error.fmt(f),
            Self::NotConfirmed => f.write_str(
                "host key not confirmed: no operation has connected to this node yet; an admin tests the connection first (node page, Appliance access)",
            ),
            Self::IdentityChanged { bound, now, pinned } => {
                match bound {
                    Some(bound) => write!(
                        f,
                        "the node is now {now}, but its credentials were entered for {bound}"
                    )?,
                    None => write!(f, "the credentials are not bound to {now} yet")?,
                }
                if *pinned {
                    f.write_str(": nothing is sent to it until an admin tests the connection there (the pinned host key is checked before the password goes) or enters the credentials again")
                } else {
                    f.write_str(": no host key was pinned to check it by, so nothing is sent to it until an admin enters the credentials again")
                }
            }
        }
    }
}
