//! The server functions the pages call: thin adapters that read the request's principal and
//! the services from the Leptos context, call the domain, and turn its errors into
//! [`crate::error::AppError`]. One file per area, as in the domain crate.

pub mod appliances;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod inventory;
pub mod policy;
pub mod proxymaps;
pub mod tokens;
pub mod users;
pub mod webhooks;
