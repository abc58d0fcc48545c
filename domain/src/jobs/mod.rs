//! Background work as durable jobs in PostgreSQL, taken by whichever replica is free.
//!
//! A job is a row (`job`): queued → running (a replica holds it with a lease it renews) → done,
//! failed, cancelled or interrupted. Any replica's [`worker`] claims queued jobs with
//! `for update skip locked`, runs them, renews their leases every few seconds and learns there
//! whether a cancel was asked (wherever it was asked); a job whose replica died is queued again
//! once its lease runs out while it has attempts left ([`queue::reap`]), else it ends
//! `interrupted`. Queueing a job notifies the workers (`LISTEN`/`NOTIFY`) so that an idle
//! replica starts it at once; they also look every second.
//!
//! Periodic work ([`schedule`]) fires once per period across all replicas: the replica whose
//! update moves a schedule's `next_at` forward queues that period's job in the same
//! transaction. What a job does is its kind's ([`Kind`]): each feature declares its kinds and
//! registers them at startup ([`Kinds`]); the queue and the worker know none of them.
//!
//! Why our own queries and not a queue crate: `apalis-postgres` 1.0 needs sqlx 0.9 (we are on
//! 0.8); `underway` 0.2 runs each task inside one open transaction (a 1,000-endpoint scan
//! would hold a connection and a transaction for its whole run) and cancels only pending tasks;
//! `sqlxmq` 0.6 has neither cancel of a running job nor progress. What the console needs
//! (leases, cross-replica cancel, resumable scans, once-per-period schedules) is a few
//! queries on one table.

pub mod kind;
pub mod queue;
pub mod schedule;
pub mod worker;

pub use kind::{Ending, Kind, Kinds, Nothing, Ping};
pub use queue::{enqueue, owner_name, Job, NewJob};
pub use schedule::Schedule;
