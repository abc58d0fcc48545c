//! Server functions for a BroadWorks node's CTI checklist: the page's data and the plan.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::state::{app_state, request_context};
use domain::cti::CtiView;
use leptos::prelude::*;

/// The node's CTI settings read over SSH now, judged, and its port probed.
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cti")]
pub async fn load_cti(node_id: i64) -> Result<CtiView, AppError> {
    let app = app_state()?;
    Ok(domain::cti::store::view(&app, &request_context(), node_id).await?)
}

/// Makes the plan of the missing steps (`chain`: the Webex CA chain's text, for the trust
/// anchors): its id.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cti_plan")]
pub async fn plan_cti(node_id: i64, chain: Option<String>) -> Result<i64, AppError> {
    let app = app_state()?;
    Ok(domain::cti::plan::plan(&app, &request_context(), node_id, chain.as_deref()).await?)
}
