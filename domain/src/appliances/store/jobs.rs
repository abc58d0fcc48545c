//! The appliance layer's jobs: reading the Finesse nodes' connected users, reading a node's
//! certificate stores, restarting services.

use super::{read_stores_now, run_restarts, sample_fleet};
use crate::auth::principal::OnBehalf;
use crate::jobs::Job;
use crate::jobs::{Kind, Kinds, Schedule};
use crate::Services;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The appliance layer's kinds of job.
pub fn register(kinds: &mut Kinds) {
    kinds
        .register::<Sample>()
        .register::<StoreRead>()
        .register::<Restart>();
}

/// Reads the Finesse nodes' connected users.
pub struct Sample;

/// How long a sampling round waits for its slowest node.
#[derive(Debug, Serialize, Deserialize)]
pub struct Wait {
    #[serde(default = "a_minute")]
    pub wait_seconds: u64,
}

fn a_minute() -> u64 {
    60
}

impl Kind for Sample {
    const NAME: &'static str = "sample";
    type Payload = Wait;

    async fn run(services: &Services, _: &Job, wait: Wait) -> Result<()> {
        let wait = Duration::from_secs(wait.wait_seconds.max(1));
        let failed = sample_fleet(services, wait)
            .await
            .context("sampling connected users")?;
        for (node, why) in failed {
            tracing::debug!(node, why, "connected users not read");
        }
        Ok(())
    }
}

/// A sampling round every `interval` (zero: never); each waits for its slowest node up to the
/// interval (then it keeps reading).
pub fn sample_schedule(interval: Duration) -> Schedule {
    let wait_seconds = interval.as_secs().max(1);
    Schedule::of::<Sample>(interval, Wait { wait_seconds })
}

/// Reads one node's certificate stores for whoever asked; at most one per node at a time
/// (queued with a key), never retried.
pub struct StoreRead;

/// The node a job is about.
#[derive(Debug, Serialize, Deserialize)]
pub struct OfNode {
    pub node_id: i64,
}

impl Kind for StoreRead {
    const NAME: &'static str = "store_read";
    type Payload = OnBehalf<OfNode>;

    async fn run(services: &Services, _: &Job, asked: OnBehalf<OfNode>) -> Result<()> {
        Ok(read_stores_now(services, &asked.context(), asked.fields.node_id).await?)
    }
}

/// Restarts services on nodes, one after another; never retried (a restart is not repeated
/// behind anyone's back).
pub struct Restart;

/// The `service_restart` rows a restart job runs, in order.
#[derive(Debug, Serialize, Deserialize)]
pub struct Restarts {
    pub restarts: Vec<i64>,
}

impl Kind for Restart {
    const NAME: &'static str = "restart";
    type Payload = OnBehalf<Restarts>;

    async fn run(services: &Services, _: &Job, asked: OnBehalf<Restarts>) -> Result<()> {
        let context = asked.context();
        Ok(run_restarts(services, &context, asked.fields.restarts).await?)
    }
}
