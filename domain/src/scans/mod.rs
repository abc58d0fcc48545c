//! Certificate scans: the TLS probe that reads what an endpoint serves, the scanner that
//! probes many endpoints at once and records the results, and the schedule that runs it (and
//! samples the fleet's connected agents) in the background.

pub mod probe;
pub mod record;
pub mod scan;
pub mod schedule;
pub mod stats;
