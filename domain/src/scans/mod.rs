//! Certificate scans: the TLS probe that reads what an endpoint serves, and the scanner that
//! probes many endpoints at once and records the results (run as jobs: `crate::jobs`).

pub mod jobs;
pub mod offer;
pub mod probe;
pub mod record;
pub mod scan;
pub mod stats;
