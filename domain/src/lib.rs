//! Gatehouse's domain: what the console knows and decides, with no web framework in it.
//!
//! One module per area. Each area's `mod.rs` holds its plain types and rules, which the
//! browser shares (this crate without features compiles to wasm); the `server` feature adds
//! their persistence (`sqlx` on PostgreSQL) and the services that act on them: scans that probe
//! endpoints over TLS, appliance drivers over SSH, webhook delivery. Pages (`app`) and the REST
//! API (`server`) are adapters over these services.

pub mod access_policy;
pub mod appliances;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod cti;
pub mod dates;
pub mod inventory;
pub mod posture;
pub mod proxies;
pub mod proxy_maps;
pub mod reconcile;
pub mod tokens;
pub mod trust;
pub mod users;
pub mod webhooks;

pub mod failure;
pub mod field_errors;
pub use failure::Failure;
pub use field_errors::FieldErrors;

#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod housekeeping;
#[cfg(feature = "server")]
pub mod jobs;
#[cfg(feature = "server")]
pub mod notify;
#[cfg(feature = "server")]
pub mod scans;
#[cfg(feature = "server")]
mod services;
#[cfg(feature = "server")]
pub mod trace;

#[cfg(feature = "server")]
pub use error::Error;
#[cfg(feature = "server")]
pub use services::{Services, SessionSettings};
