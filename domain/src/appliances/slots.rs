//! The appliances' SSH session places, counted in PostgreSQL so that the bound holds across
//! replicas: a node takes at most `per_node` sessions at once, whichever replicas open them.
//!
//! A place is a row (`ssh_slot`: node, slot number, owner, lease). Taking one inserts the row,
//! or takes it over when its lease ran out (its replica died); the replica renews the leases of
//! the places it holds ([`SshSlots::renew`], every few seconds) and deletes a row when its
//! session closes. A replica that finds every place of a node held announces it ([`WANTED`]);
//! the replicas holding idle sessions to that node close them at once, and an idle session is
//! closed after `vos::ssh::Settings::idle_for` anyway.

use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use vos::driver::DriverError;
use vos::ssh::{Gate, Pass};

/// The channel on which a replica waiting for a node's place names the node.
pub const WANTED: &str = "gatehouse_ssh_wanted";

/// This replica's view of the places.
pub struct SshSlots {
    pool: PgPool,
    owner: String,
    per_node: i16,
    lease: Duration,
    /// How long a connect waits for a place before it fails.
    wait: Duration,
    /// Set when the console stops: every place was given back at once ([`SshSlots::release_all`]),
    /// so a place dropped since (a job's session, aborted) has nothing left to give back.
    stopping: std::sync::atomic::AtomicBool,
}

impl SshSlots {
    /// Places per node as the driver uses them (`vos::ssh::Settings::per_node`).
    pub fn new(pool: PgPool) -> Self {
        let per_node = vos::ssh::Settings::default().per_node;
        Self {
            pool,
            owner: crate::jobs::owner_name(),
            per_node: i16::try_from(per_node.max(1)).unwrap_or(2),
            lease: Duration::from_secs(60),
            wait: Duration::from_secs(45),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The gate of one node.
    pub fn gate(self: &Arc<Self>, node_id: i64) -> Arc<dyn Gate> {
        Arc::new(NodeGate {
            slots: self.clone(),
            node_id,
        })
    }

    /// Renews the leases of every place this replica holds; returns how many it holds.
    /// Gives back every place this replica holds at once (when it stops, before the database
    /// closes: the places are free for the other replicas at once, not when their leases run out).
    pub async fn release_all(&self) -> Result<u64, sqlx::Error> {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(
            sqlx::query!("delete from ssh_slot where owner = $1", self.owner)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn renew(&self) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query!(
            "update ssh_slot set lease_until = now() + make_interval(secs => $2) where owner = $1",
            self.owner,
            self.lease.as_secs_f64()
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Asks the replicas holding idle sessions to the node to close them.
    async fn want(&self, node_id: i64) {
        let asked = sqlx::query!("select pg_notify($1, $2)", WANTED, node_id.to_string())
            .execute(&self.pool)
            .await;
        if let Err(error) = asked {
            tracing::debug!(node_id, %error, "asking for an SSH session place");
        }
    }

    /// Takes a free place of the node (or one whose lease ran out); `None` when all are held.
    async fn take(&self, node_id: i64) -> Result<Option<i16>, sqlx::Error> {
        sqlx::query_scalar!(
            "insert into ssh_slot (node_id, slot, owner, lease_until)
             select $1, s::smallint, $2, now() + make_interval(secs => $3)
             from generate_series(0, $4::integer - 1) s
             where not exists (select 1 from ssh_slot h where h.node_id = $1 and h.slot = s
                               and h.lease_until >= now())
             order by s limit 1
             on conflict (node_id, slot) do update
                 set owner = excluded.owner, lease_until = excluded.lease_until
                 where ssh_slot.lease_until < now()
             returning slot",
            node_id,
            self.owner,
            self.lease.as_secs_f64(),
            i32::from(self.per_node)
        )
        .fetch_optional(&self.pool)
        .await
    }
}

struct NodeGate {
    slots: Arc<SshSlots>,
    node_id: i64,
}

impl Gate for NodeGate {
    fn enter(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Pass, DriverError>> + Send + '_>>
    {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + self.slots.wait;
            let mut attempt = 0u32;
            loop {
                // Two replicas racing for the last place: one insert wins, the other's conflict
                // finds the lease valid and takes nothing; it looks again.
                match self.slots.take(self.node_id).await {
                    Ok(Some(slot)) => {
                        return Ok(Pass::new(Held {
                            slots: self.slots.clone(),
                            node_id: self.node_id,
                            slot,
                        }))
                    }
                    Ok(None) => {}
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {}
                    Err(error) => {
                        return Err(DriverError::Session(format!(
                            "counting the node's SSH sessions in the database: {error}"
                        )))
                    }
                }
                // Asked at once, then every 2 s (a session busy then may be idle now).
                if attempt.is_multiple_of(8) {
                    self.slots.want(self.node_id).await;
                }
                attempt = attempt.wrapping_add(1);
                if tokio::time::Instant::now() >= deadline {
                    return Err(DriverError::Session(format!(
                        "the node's {} SSH sessions stayed in use by other Gatehouse servers for {} s; try again",
                        self.slots.per_node,
                        self.slots.wait.as_secs()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    }
}

/// A place held; dropping it deletes the row (in the background: drops cannot wait).
struct Held {
    slots: Arc<SshSlots>,
    node_id: i64,
    slot: i16,
}

impl Drop for Held {
    fn drop(&mut self) {
        let (slots, node_id, slot) = (self.slots.clone(), self.node_id, self.slot);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // The lease runs out by itself.
        };
        let stopping = |slots: &SshSlots| {
            slots.pool.is_closed() || slots.stopping.load(std::sync::atomic::Ordering::SeqCst)
        };
        if stopping(&slots) {
            return; // Every place was given back at once when the console began to stop.
        }
        runtime.spawn(async move {
            let released = sqlx::query!(
                "delete from ssh_slot where node_id = $1 and slot = $2 and owner = $3",
                node_id,
                slot,
                slots.owner
            )
            .execute(&slots.pool)
            .await;
            match released {
                Ok(_) | Err(sqlx::Error::PoolClosed) => {}
                // The stop gave it back with every other (its database may be going away).
                Err(_) if stopping(&slots) => {}
                Err(error) => {
                    tracing::warn!(node_id, slot, %error, "giving back an SSH session place; its lease will run out");
                }
            }
        });
    }
}
