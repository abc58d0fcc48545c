//! What a plan reconciles: a *subject* (an access policy, a proxy map's rollout), declared by
//! the feature that owns it and registered at startup (`Application::build` through
//! `Services::subjects`). The engine asks it for the item kinds its plans drive, the newest
//! version of its desired state (a plan made from an older one is stale), the nodes it manages
//! now (what drift checks) and what the plan page says about it; it matches no subject by name.
//!
//! ```ignore
//! pub struct TrustMatrix;
//!
//! impl Subject for TrustMatrix {
//!     fn name(&self) -> &'static str { "trust_matrix" }
//!     fn items(&self) -> &'static [&'static dyn Drive] { &DRIVEN }
//!     fn latest_version<'a>(&'a self, db: &'a mut PgConnection, id: i64) -> BoxFuture<'a, Result<i32, Error>> {
//!         Box::pin(async move { Ok(sqlx::query_scalar!("...", id).fetch_one(db).await?) })
//!     }
//!     fn managed<'a>(&'a self, pool: &'a PgPool, id: i64) -> BoxFuture<'a, Result<Vec<i64>, Error>> { ... }
//!     fn about(&self, id: i64, cluster: Option<i64>) -> About { ... }
//! }
//! // at startup: subjects.register(&TrustMatrix);
//! // a plan: reconcile::store::create(&mut tx, context, &TrustMatrix, id, version, &nodes)
//! ```

use super::drive::Drive;
use super::About;
use crate::Error;
use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeMap;

/// A kind of desired state the engine reconciles.
pub trait Subject: Send + Sync {
    /// Its name in plans (`plan.subject`) and the REST API. Stable: stored plans name it.
    fn name(&self) -> &'static str;

    /// The item kinds its plans drive, in planning order.
    fn items(&self) -> &'static [&'static dyn Drive];

    /// The newest version of subject `id`'s desired state (-1 when it is gone). By default 0:
    /// a subject without versions (a one-off import, the trust matrix), whose plans are always
    /// the latest.
    fn latest_version<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        _id: i64,
    ) -> BoxFuture<'a, Result<i32, Error>> {
        Box::pin(async { Ok(0) })
    }

    /// The nodes subject `id` manages now: of those its last applied plan covered, drift checks
    /// these (a node whose cluster left it is no longer its).
    /// By default none: a subject that is no standing desired state, which drift does not
    /// watch.
    fn managed<'a>(
        &'a self,
        _pool: &'a PgPool,
        _id: i64,
    ) -> BoxFuture<'a, Result<Vec<i64>, Error>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// What the plan page and the drift lists say about subject `id` (`cluster`: the cluster of
    /// the node in question, or of the plan's first node).
    fn about(&self, id: i64, cluster: Option<i64>) -> About;

    /// What follows once a plan of subject `id` has been applied (whatever its nodes' ends):
    /// the trust matrix reads the stores again. Nothing by default.
    fn applied<'a>(
        &'a self,
        _pool: &'a PgPool,
        _context: &'a crate::auth::principal::RequestContext,
        _id: i64,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }
}

/// The subjects this console reconciles, by name: built at startup, shared through
/// `Services`.
#[derive(Clone, Default)]
pub struct Subjects(BTreeMap<&'static str, &'static dyn Subject>);

impl Subjects {
    /// Adds `subject`. Two subjects of one name are a bug at startup.
    pub fn register(&mut self, subject: &'static dyn Subject) -> &mut Self {
        let earlier = self.0.insert(subject.name(), subject);
        assert!(
            earlier.is_none(),
            "two reconciliation subjects are named {}",
            subject.name()
        );
        self
    }

    /// The subject of a stored plan.
    pub fn get(&self, name: &str) -> Result<&'static dyn Subject, Error> {
        self.0.get(name).copied().ok_or_else(|| {
            Error::internal(anyhow::anyhow!(
                "plans of {name} are not reconciled by this replica (no such subject registered)"
            ))
        })
    }

    /// Every subject, by name.
    pub fn all(&self) -> impl Iterator<Item = &'static dyn Subject> + '_ {
        self.0.values().copied()
    }
}

impl std::fmt::Debug for Subjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}
