//! Server functions for what each node must trust (a cluster's trust matrix, its plan, the
//! servers it reads itself) and a node's certificate signing (its CSR, a signed certificate
//! checked and uploaded).

use crate::error::AppError;
use domain::trust::csr::{Csr, Regenerated};
use domain::trust::matrix::Matrix;
use domain::trust::upload::UploadFindings;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::appliances::store as appliances,
    domain::trust::csr::SignedCertificate,
    domain::trust::store::{self as trust, upload},
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

/// The node's FQDN and the CSR it generated last through the console, if any.
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_csr")]
pub async fn load_csr(node_id: i64) -> Result<(String, Option<Csr>), AppError> {
    let app = app_state()?;
    let context = request_context();
    let node = domain::inventory::store::get_node(&app.pool, &context, node_id).await?;
    let csr = appliances::kept_csr(&app, &context, node_id).await?;
    Ok((node.fqdn, csr))
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_csr_generate")]
pub async fn generate_csr(node_id: i64) -> Result<Csr, AppError> {
    let app = app_state()?;
    Ok(appliances::generate_csr(&app, &request_context(), node_id).await?)
}

/// Checks a signed certificate against the node's CSR (a POST that changes nothing).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "certificate_check")]
pub async fn check_certificate(
    node_id: i64,
    certificate: String,
) -> Result<UploadFindings, AppError> {
    let app = app_state()?;
    let input = SignedCertificate { certificate };
    Ok(upload::check_certificate(&app, &request_context(), node_id, &input).await?)
}

/// Makes the upload's plan: its id.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "certificate_plan")]
pub async fn plan_certificate(node_id: i64, certificate: String) -> Result<i64, AppError> {
    let app = app_state()?;
    let input = SignedCertificate { certificate };
    Ok(upload::plan_certificate(&app, &request_context(), node_id, &input).await?)
}

/// Regenerates the node's tomcat certificate (self-signed), and who must trust it again.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "certificate_regenerate")]
pub async fn regenerate_certificate(node_id: i64) -> Result<Regenerated, AppError> {
    let app = app_state()?;
    Ok(trust::regenerate(&app, &request_context(), node_id).await?)
}
