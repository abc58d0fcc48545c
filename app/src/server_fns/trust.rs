//! Server functions for what each node must trust: a cluster's trust matrix, its plan, and the
//! servers it reads itself.

use crate::error::AppError;
use domain::trust::matrix::Matrix;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::trust::store as trust,
};

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "trust_matrix")]
pub async fn load_trust_matrix(cluster_id: i64) -> Result<Matrix, AppError> {
    let app = app_state()?;
    Ok(trust::matrix(&app, &request_context(), cluster_id).await?)
}

/// Makes the plan that imports what the red cells lack: its id.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "trust_matrix_plan")]
pub async fn plan_trust_matrix(cluster_id: i64) -> Result<i64, AppError> {
    let app = app_state()?;
    Ok(trust::plan(&app, &request_context(), cluster_id).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "trust_server_add")]
pub async fn add_trust_server(cluster_id: i64, host: String) -> Result<Matrix, AppError> {
    let app = app_state()?;
    Ok(trust::add_server(&app, &request_context(), cluster_id, &host).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "trust_server_remove")]
pub async fn remove_trust_server(cluster_id: i64, host: String) -> Result<Matrix, AppError> {
    let app = app_state()?;
    Ok(trust::remove_server(&app, &request_context(), cluster_id, &host).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "trust_servers_read")]
pub async fn read_trust_servers(cluster_id: i64) -> Result<Matrix, AppError> {
    let app = app_state()?;
    Ok(trust::read_servers(&app, &request_context(), cluster_id).await?)
}
