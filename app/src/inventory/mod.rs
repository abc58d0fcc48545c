//! The inventory: clusters and their nodes (kinds, roles, FQDNs, endpoints).

pub mod domain;
