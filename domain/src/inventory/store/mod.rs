//! Inventory queries. Input is parsed into valid values first (every bad field named at once),
//! uniqueness is left to the database's constraints and turned into field errors, and every
//! change is written with its audit entry in one transaction.

use super::model::{Fqdn, NodeKind, NodeRole};
use super::{ClusterInput, ClusterSummary, DnsCheck, EndpointSpec, Node, NodeInput, NodeSaved};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::{Error, FieldErrors};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use std::time::Duration;

mod clusters;
mod node_input;
mod nodes;
pub mod ports;
pub use clusters::*;
pub use node_input::*;
pub use nodes::*;

fn internal(message: String) -> Error {
    Error::internal(anyhow::anyhow!(message))
}
