//! Server functions for certificates: the dashboard, lists and reports, scans, alert mutes,
//! thresholds and cluster CAs.

use crate::error::AppError;
use domain::certificates::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::certificates::store,
};

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "dashboard")]
pub async fn load_dashboard(
    cluster: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    lint: Option<String>,
) -> Result<Dashboard, AppError> {
    let app = app_state()?;
    let filter = Filter::from_form(cluster, kind, state, lint);
    store::dashboard(&app, &request_context(), filter)
        .await
        .map_err(AppError::from)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "certificate_list")]
pub async fn load_certificate_list(
    cluster: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    lint: Option<String>,
) -> Result<(Dashboard, Vec<ServedCertificate>, usize), AppError> {
    let app = app_state()?;
    let filter = Filter::from_form(cluster, kind, state, lint);
    store::overview(&app, &request_context(), filter, LIST_LIMIT)
        .await
        .map_err(AppError::from)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_report")]
pub async fn load_node_report(id: i64) -> Result<NodeReport, AppError> {
    let app = app_state()?;
    store::node_report(&app.pool, &request_context(), id, domain::dates::now())
        .await
        .map_err(AppError::from)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "certificate_report")]
pub async fn load_certificate_report(sha256: String) -> Result<CertificateReport, AppError> {
    let app = app_state()?;
    store::certificate_report(&app, &request_context(), &sha256)
        .await
        .map_err(AppError::from)
}

/// Starts a scan of one node (`node_id`) or of the whole fleet (none).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "scan_start")]
pub async fn scan_start(node_id: Option<i64>) -> Result<i64, AppError> {
    let app = app_state()?;
    let context = request_context();
    store::start_scan(&app, &context, node_id.map(|id| vec![id]))
        .await
        .map_err(AppError::from)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "scan_progress")]
pub async fn load_scan_progress(id: i64) -> Result<ScanProgress, AppError> {
    let app = app_state()?;
    store::scan_progress(&app.pool, &request_context(), id, domain::dates::now())
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "scan_cancel")]
pub async fn scan_cancel(id: i64) -> Result<(), AppError> {
    let app = app_state()?;
    let context = request_context();
    store::cancel_scan(&app, &context, id)
        .await
        .map_err(AppError::from)
}

/// Mutes (`kind` absent or `mute`) or acknowledges (`ack`) an alert.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "alert_mute")]
pub async fn mute_alert(
    kind: Option<String>,
    node_id: i64,
    port: i32,
    fingerprint_sha256: String,
    owner: String,
    note: Option<String>,
    until: String,
) -> Result<(), AppError> {
    let app = app_state()?;
    let context = request_context();
    let request = store::MuteRequest {
        node_id,
        port,
        fingerprint_sha256,
        owner,
        note: note.unwrap_or_default(),
        until,
    };
    let kind = store::MuteKind::parse(kind.as_deref().unwrap_or("mute"))?;
    store::mute(&app.pool, &context, request, kind)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "alert_unmute")]
pub async fn unmute_alert(
    node_id: i64,
    port: i32,
    fingerprint_sha256: String,
) -> Result<(), AppError> {
    let app = app_state()?;
    let context = request_context();
    let key = store::AlertKey {
        node_id,
        port,
        fingerprint_sha256,
    };
    store::unmute(&app.pool, &context, key)
        .await
        .map_err(AppError::from)
}

/// Sets or clears (empty fields) a cluster's own expiry thresholds.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cluster_thresholds")]
pub async fn set_cluster_thresholds(
    id: i64,
    warning_days: Option<String>,
    critical_days: Option<String>,
    warning_lifetime_percent: Option<String>,
) -> Result<(), AppError> {
    let app = app_state()?;
    let context = request_context();
    let input = store::thresholds_from_form(warning_days, critical_days, warning_lifetime_percent)?;
    store::set_thresholds(&app.pool, &context, store::ThresholdsOf::Cluster(id), input)
        .await
        .map_err(AppError::from)
}

/// Sets or clears (empty fields) a node's own expiry thresholds.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_thresholds")]
pub async fn set_node_thresholds(
    id: i64,
    warning_days: Option<String>,
    critical_days: Option<String>,
    warning_lifetime_percent: Option<String>,
) -> Result<(), AppError> {
    let app = app_state()?;
    let context = request_context();
    let input = store::thresholds_from_form(warning_days, critical_days, warning_lifetime_percent)?;
    store::set_thresholds(&app.pool, &context, store::ThresholdsOf::Node(id), input)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cluster_ca_add")]
pub async fn add_cluster_ca(cluster_id: i64, pem: String) -> Result<usize, AppError> {
    let app = app_state()?;
    let context = request_context();
    Ok(
        store::add_cluster_cas(&app.pool, &context, cluster_id, &pem)
            .await?
            .len(),
    )
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cluster_ca_remove")]
pub async fn remove_cluster_ca(
    cluster_id: i64,
    fingerprint_sha256: String,
) -> Result<(), AppError> {
    let app = app_state()?;
    let context = request_context();
    store::remove_cluster_ca(&app.pool, &context, cluster_id, &fingerprint_sha256)
        .await
        .map_err(AppError::from)
}

/// The chain tool: a bundle split into its certificates in upload order (nothing is kept).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "split_chain")]
pub async fn split_chain(text: String) -> Result<domain::certificates::chain::Split, AppError> {
    domain::certificates::chain::split_for(&request_context(), text.as_bytes())
        .map_err(AppError::from)
}
