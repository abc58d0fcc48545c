//! Server functions for a cluster's security posture: the page's data, a scan, the plan.

use crate::error::AppError;
use domain::posture::PostureView;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::posture::store as posture,
};

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "posture")]
pub async fn load_posture(cluster_id: i64) -> Result<PostureView, AppError> {
    let app = app_state()?;
    Ok(posture::view(&app, &request_context(), cluster_id).await?)
}

/// Scans the cluster now (SSH reads and probes; seconds per node).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "posture_scan")]
pub async fn scan_posture(cluster_id: i64) -> Result<(), AppError> {
    let app = app_state()?;
    posture::scan(&app, &request_context(), cluster_id).await?;
    Ok(())
}

/// Makes the plan that sets what the latest scan found: its id.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "posture_plan")]
pub async fn plan_posture(cluster_id: i64) -> Result<i64, AppError> {
    let app = app_state()?;
    Ok(posture::plan(&app, &request_context(), cluster_id).await?)
}
