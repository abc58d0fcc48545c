//! The appliance layer on the server: drivers per node (built from the stored, sealed
//! credentials and the pinned host key), and every operation with its audit entry.

use super::secret::Sealer;
use super::{
    Access, ClusterAgents, ConnectedAgents, ConnectionTest, Counts, HistoryPoint, HostKey,
    KeyFacts, NodeAgents, Operation, StoreEntry, Stores, TrustImport,
};
use crate::audit::store::{record, record_alone, Outcome};
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::Error;
use crate::Services;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use vos::driver::{Driver, DriverError, Store};
use vos::ssh::{Settings, Target, VosSsh};

/// The drivers of the fleet's nodes and what they share.
pub struct Appliances {
    sealer: Sealer,
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
    fn begin_sample(&self, node_id: i64) -> bool {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(node_id)
    }

    fn is_sampling(&self, node_id: i64) -> bool {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&node_id)
    }

    fn end_sample(&self, node_id: i64) {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&node_id);
    }

    /// The node's driver, or why there is none.
    fn driver(&self, node_id: i64, node: &NodeRow) -> Result<Arc<VosSsh>, NodeFailure> {
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
            Settings::default(),
            self.fleet.clone(),
        );
        let driver = Arc::new(match &self.slots {
            Some(slots) => driver.with_gate(slots.gate(node_id)),
            None => driver,
        });
        drivers.insert(node_id, (key, driver.clone()));
        Ok(driver)
    }

    fn forget(&self, node_id: i64) {
        self.drivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&node_id);
    }
}

mod access;
mod agents;
pub mod jobs;
mod reach;
mod restart;
mod stores;
pub use access::*;
pub use agents::*;
use reach::{node_row, with_driver, NodeRow};
pub use reach::{with_node, NodeFailure, Purpose};
pub use restart::*;
pub use stores::*;
