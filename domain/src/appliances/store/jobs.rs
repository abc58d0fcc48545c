//! The appliance layer's jobs, each declared beside the work it does: reading the Finesse
//! nodes' connected users (`agents.rs`), reading a node's certificate stores (`stores.rs`),
//! restarting services (`restart.rs`).

use crate::jobs::Kinds;

pub use super::agents::{sample_schedule, Sample};
pub use super::restart::{RestartServices, Restarts};
pub use super::stores::{OfNode, StoreRead};

/// The appliance layer's kinds of job.
pub fn register(kinds: &mut Kinds) {
    kinds
        .register::<Sample>()
        .register::<StoreRead>()
        .register::<RestartServices>();
}
