//! A kind of job, declared by the feature whose work it is, and the registry the worker runs
//! them from.
//!
//! A kind is a type: its name in the job table, its payload (a typed value, stored as JSON),
//! what a run does and what its own records say when a run ends other than done. The feature
//! registers its kinds at startup (`Application::build`: `jobs.register::<PlanApply>()`) and
//! queues one with the type (`PlanApply::job(payload, actor)`); the queue and the worker know
//! no feature. A job whose kind this replica does not know (a newer replica queued it) is left
//! in the table for a replica that does.
//!
//! ```ignore
//! pub struct Reindex;
//!
//! impl jobs::Kind for Reindex {
//!     const NAME: &'static str = "reindex";
//!     type Payload = ReindexWhat; // #[derive(Serialize, Deserialize)]
//!
//!     async fn run(services: &Services, job: &Job, what: ReindexWhat) -> anyhow::Result<()> {
//!         reindex(&services.pool, what, job.cancel_flag()).await?;
//!         Ok(())
//!     }
//! }
//! ```

use super::queue::{Job, NewJob};
use crate::Services;
use anyhow::{Context, Result};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

use std::sync::Arc;

/// How a job ended other than done (what [`Kind::ended`] is told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Failed,
    Cancelled,
    /// Its replica stopped and no attempt was left.
    Interrupted,
}

impl Ending {
    /// From a job's state in the table; `None` for a state that is not an end other than done.
    pub fn of_state(state: &str) -> Option<Self> {
        match state {
            "failed" => Some(Self::Failed),
            "cancelled" => Some(Self::Cancelled),
            "interrupted" => Some(Self::Interrupted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A kind of background job.
pub trait Kind: Send + Sync + 'static {
    /// Its name in the job table. Stable: replicas of other versions read it.
    const NAME: &'static str;

    /// What a job of this kind is given.
    type Payload: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Does the job's work; an error fails the run (retried while attempts are left), its
    /// whole cause chain kept as the job's error.
    fn run(
        services: &Services,
        job: &Job,
        payload: Self::Payload,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The job ended other than done, on this replica or taken back from one that stopped: its
    /// own records say so. Default: nothing to say.
    fn ended(
        services: &Services,
        payload: Self::Payload,
        ending: Ending,
    ) -> impl Future<Output = ()> + Send {
        let _ = (services, payload, ending);
        async {}
    }

    /// A job of this kind to queue ([`super::enqueue`]), by `created_by`.
    fn job(payload: Self::Payload, created_by: impl Into<String>) -> NewJob
    where
        Self: Sized,
    {
        NewJob::of(Self::NAME, serde_json::to_value(payload), created_by.into())
    }
}

/// A kind with no payload: `{}` in the table.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Nothing {}

/// A registered kind with its type erased: what the worker calls.
trait Erased: Send + Sync {
    fn run<'a>(&self, services: &'a Services, job: &'a Job) -> BoxFuture<'a, Result<()>>;
    fn ended<'a>(
        &self,
        services: &'a Services,
        payload: &'a serde_json::Value,
        ending: Ending,
    ) -> BoxFuture<'a, ()>;
}

struct Registered<K>(std::marker::PhantomData<fn() -> K>);

/// A payload of kind `K` read from the table. Unreadable is a bug (only `K::job` queues
/// `K`), not bad input: the run fails with that said. The payload itself is not repeated in the
/// error (it reaches the log and the job's error, which admins read; the reader's error names
/// the field).
fn payload<K: Kind>(value: &serde_json::Value) -> Result<K::Payload> {
    K::Payload::deserialize(value).with_context(|| {
        format!(
            "the payload of a {} job is not what its kind takes (a bug)",
            K::NAME
        )
    })
}

impl<K: Kind> Erased for Registered<K> {
    fn run<'a>(&self, services: &'a Services, job: &'a Job) -> BoxFuture<'a, Result<()>> {
        async move { K::run(services, job, payload::<K>(&job.payload)?).await }.boxed()
    }

    fn ended<'a>(
        &self,
        services: &'a Services,
        value: &'a serde_json::Value,
        ending: Ending,
    ) -> BoxFuture<'a, ()> {
        async move {
            match payload::<K>(value) {
                Ok(payload) => K::ended(services, payload, ending).await,
                Err(error) => tracing::error!(kind = K::NAME, error = %format!("{error:#}"), "recording how a job ended"),
            }
        }
        .boxed()
    }
}

/// The kinds this replica runs, by name: built at startup, then shared by the worker.
#[derive(Clone, Default)]
pub struct Kinds(BTreeMap<&'static str, Arc<dyn Erased>>);

impl Kinds {
    /// Adds kind `K`. A second kind of the same name is a bug at startup.
    pub fn register<K: Kind>(&mut self) -> &mut Self {
        let earlier = self
            .0
            .insert(K::NAME, Arc::new(Registered::<K>(std::marker::PhantomData)));
        assert!(earlier.is_none(), "two job kinds are named {}", K::NAME);
        self
    }

    /// Every kind's name.
    pub fn names(&self) -> Vec<String> {
        self.0.keys().map(|k| (*k).to_owned()).collect()
    }

    pub fn knows(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Runs `job` as its kind says; an unknown kind fails it (the worker claims only the kinds
    /// it knows, so this is a bug).
    pub(super) async fn run(&self, services: &Services, kind: &str, job: &Job) -> Result<()> {
        match self.0.get(kind) {
            Some(registered) => registered.run(services, job).await,
            None => anyhow::bail!("no such kind of job: {kind}"),
        }
    }

    /// Tells `kind` that a job of it ended other than done.
    pub(super) async fn ended(
        &self,
        services: &Services,
        kind: &str,
        payload: &serde_json::Value,
        state: &str,
    ) {
        let (Some(registered), Some(ending)) = (self.0.get(kind), Ending::of_state(state)) else {
            return;
        };
        registered.ended(services, payload, ending).await;
    }
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Does nothing: measures the queue itself (`./x bench queue`).
pub struct Ping;

impl Kind for Ping {
    const NAME: &'static str = "ping";
    type Payload = Nothing;

    async fn run(_: &Services, _: &Job, _: Nothing) -> Result<()> {
        Ok(())
    }
}
