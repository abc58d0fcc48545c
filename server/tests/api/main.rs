//! Integration tests: the real server over real HTTP and a real PostgreSQL.

mod alerts;
mod appliances;
mod audit;
mod auth;
mod cti;
mod drift;
mod faults;
mod guard;
mod input;
mod inventory;
mod jobs;
mod openapi;
mod policy;
mod posture;
mod proxies;
mod proxymaps;
mod reconcile;
mod replicas;
mod rollout;
mod scans;
mod signing;
mod trust;
mod users;
mod weak_certs;
mod webhooks;
