//! A count of a node's SSH sessions kept beyond this process. The console runs several
//! replicas; each may open sessions to the same appliance, which takes only a few at once, so
//! a session is opened only with a [`Pass`] from the node's gate (the console's is a lease
//! table in PostgreSQL) and the pass is held until the session closes.

use crate::driver::DriverError;
use std::future::Future;
use std::pin::Pin;

/// Hands out a node's session places.
pub trait Gate: Send + Sync {
    /// Waits for a free place; fails (with the reason to show) when none frees up in time.
    fn enter(&self) -> Pin<Box<dyn Future<Output = Result<Pass, DriverError>> + Send + '_>>;
}

/// A place in a gate; dropping it gives the place back.
pub struct Pass(#[allow(dead_code)] Box<dyn Send + Sync>);

impl Pass {
    /// A pass whose drop (of `held`) gives the place back.
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        Self(Box::new(held))
    }
}

impl std::fmt::Debug for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pass")
    }
}
