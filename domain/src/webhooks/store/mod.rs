//! Webhooks on the server: their receivers, the transitions they are told about, and sending.

use super::{redacted, Delivery, SecretUrl, TestResult, Webhook, WebhookInput};
use crate::audit::store::{record, record_alone, Outcome};
use crate::auth::principal::RequestContext;
use crate::certificates::store::{fleet, mutes};
use crate::dates::rfc3339;
use crate::{Error, FieldErrors};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;

mod judge;
mod receivers;
mod sending;
mod transitions;
pub use judge::Judge;
pub use receivers::*;
pub use sending::*;
pub use transitions::*;
