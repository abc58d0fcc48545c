//! The appliance layer on the server: drivers per node (built from the stored, sealed
//! credentials and the pinned host key), and every operation with its audit entry.

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
use vos::driver::{Driver, DriverError, Store};
use vos::ssh::VosSsh;

mod access;
mod agents;
mod csr;
pub mod jobs;
mod reach;
mod restart;
mod stores;
pub mod trust;
use crate::appliances::drivers::{node_row, NodeRow};
pub use crate::appliances::drivers::{Appliances, NodeFailure, Purpose};
pub use access::*;
pub use agents::*;
pub use csr::*;
use reach::with_driver;
pub use reach::with_node;
pub use restart::*;
pub use stores::*;
pub use trust::import_trust;
