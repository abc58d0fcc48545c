//! Server functions for the access policy: the overview, a cluster's policy page (policy,
//! versions, drift, pending restarts, latest plan), saving and restoring versions, plans,
//! drift checks, adoption and restarts.

use crate::error::AppError;
use domain::access_policy::{
    Change, ClusterStanding, ListenerCertificate, PolicyView, VersionView,
};
use domain::appliances::{PendingRestart, Restart};
use domain::reconcile::{Drift, PlanView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::access_policy::store as policies,
    domain::appliances::store as appliances,
    domain::reconcile::{drift, store as plans},
};

/// What a cluster's policy page shows besides its operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyPage {
    pub standing: ClusterStanding,
    pub policy: PolicyView,
    pub versions: Vec<VersionView>,
    /// The clusters with a policy this one could follow (id, name).
    pub candidates: Vec<(i64, String)>,
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policies")]
pub async fn load_policies() -> Result<Vec<ClusterStanding>, AppError> {
    let app = app_state()?;
    Ok(policies::overview(&app.pool, &request_context()).await?)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy")]
pub async fn load_policy(cluster_id: i64) -> Result<PolicyPage, AppError> {
    let app = app_state()?;
    let context = request_context();
    let policy = policies::policy(&app.pool, &context, cluster_id).await?;
    let all = policies::overview(&app.pool, &context).await?;
    let standing = all
        .iter()
        .find(|s| s.cluster_id == cluster_id)
        .cloned()
        .ok_or_else(|| {
            AppError::new(
                crate::error::Failure::NotFound,
                format!("no cluster with id {cluster_id}"),
            )
        })?;
    let candidates = all
        .into_iter()
        .filter(|s| s.version > 0 && s.cluster_id != cluster_id)
        .filter(|s| !standing.shared_with.contains(&s.cluster))
        .map(|s| (s.cluster_id, s.cluster))
        .collect();
    Ok(PolicyPage {
        standing,
        policy,
        versions: policies::versions(&app.pool, &context, cluster_id).await?,
        candidates,
    })
}

/// A cluster's drift and pending restarts: loaded apart from the policy, so that a drift check
/// or a restart ending redraws them and leaves the editor (and its unsaved edits) alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operations {
    /// This cluster's drifted items.
    pub drift: Vec<Drift>,
    pub restarts: Vec<PendingRestart>,
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_operations")]
pub async fn load_operations(cluster_id: i64) -> Result<Operations, AppError> {
    let app = app_state()?;
    let context = request_context();
    let mut drift = drift::drift(&app, &context).await?;
    drift.retain(|d| d.cluster_id == cluster_id && d.subject == domain::access_policy::SUBJECT);
    Ok(Operations {
        drift,
        restarts: appliances::pending_restarts(&app.pool, &context, Some(cluster_id)).await?,
    })
}

/// Saves `document` (the policy as JSON) as the next version, edited from `base_version`.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_save")]
pub async fn save_policy(
    cluster_id: i64,
    base_version: i32,
    document: String,
    reason: String,
) -> Result<PolicyView, AppError> {
    let app = app_state()?;
    let policy = serde_json::from_str(&document)
        .map_err(|e| AppError::unreadable(format!("the policy does not read: {e}")))?;
    let save = domain::access_policy::Save {
        policy,
        base_version: Some(base_version),
        reason,
    };
    Ok(policies::save(&app.pool, &request_context(), cluster_id, save).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_restore")]
pub async fn restore_version(
    cluster_id: i64,
    version: i32,
    base_version: i32,
) -> Result<PolicyView, AppError> {
    let app = app_state()?;
    Ok(policies::restore(
        &app.pool,
        &request_context(),
        cluster_id,
        version,
        base_version,
    )
    .await?)
}

/// Where each of `hosts` (one per line) leads from Gatehouse: the address(es), or why none.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_lookup")]
pub async fn lookup_hosts(
    hosts: String,
) -> Result<Vec<(String, Result<String, String>)>, AppError> {
    let app = app_state()?;
    request_context().require_reader()?;
    Ok(policies::lookup(&app.pool, &hosts).await)
}

/// The certificate a proxy's listener (`host:port`) presents, for the admin to compare.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_listener_certificate")]
pub async fn read_listener_certificate(listener: String) -> Result<ListenerCertificate, AppError> {
    let app = app_state()?;
    let listener = listener.trim();
    let (host, port) = match listener.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => (
            host.trim_matches(['[', ']']),
            port.parse::<u16>().map_err(|_| {
                AppError::invalid(domain::FieldErrors::from([(
                    "listener".to_owned(),
                    vec![format!(
                        "'{port}' is not a port: write host:port, e.g. proxy-a.example.com:443"
                    )],
                )]))
            })?,
        ),
        _ => (listener.trim_matches(['[', ']']), 443),
    };
    Ok(policies::listener_certificate(&app, &request_context(), host, port).await?)
}

/// The cluster follows `leader_id`'s policy (the clusters behind one proxy pair).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_follow")]
pub async fn follow_policy(cluster_id: i64, leader_id: i64) -> Result<PolicyView, AppError> {
    let app = app_state()?;
    Ok(policies::follow(&app.pool, &request_context(), cluster_id, leader_id).await?)
}

/// The cluster stops sharing its policy and keeps a copy.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_leave")]
pub async fn leave_policy(cluster_id: i64) -> Result<PolicyView, AppError> {
    let app = app_state()?;
    Ok(policies::leave(&app.pool, &request_context(), cluster_id).await?)
}

/// What changed from version `from` to version `to` (0: the empty policy).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_diff")]
pub async fn policy_diff(cluster_id: i64, from: i32, to: i32) -> Result<Vec<Change>, AppError> {
    let app = app_state()?;
    let context = request_context();
    let load = |v: i32| {
        let (pool, context) = (app.pool.clone(), context.clone());
        async move {
            if v == 0 {
                context.require_reader()?;
                Ok(domain::access_policy::AccessPolicy::default())
            } else {
                policies::version(&pool, &context, cluster_id, v).await
            }
        }
    };
    let (a, b) = (load(from).await?, load(to).await?);
    Ok(domain::access_policy::diff(&a, &b))
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_plan")]
pub async fn make_plan(cluster_id: i64) -> Result<i64, AppError> {
    let app = app_state()?;
    Ok(policies::plan(&app.pool, &request_context(), cluster_id).await?)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "plan")]
pub async fn load_plan(plan_id: i64) -> Result<PlanView, AppError> {
    let app = app_state()?;
    Ok(plans::view(&app, &request_context(), plan_id).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "plan_apply")]
pub async fn apply_plan(plan_id: i64) -> Result<(), AppError> {
    let app = app_state()?;
    Ok(plans::apply(&app, &request_context(), plan_id).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "plan_cancel")]
pub async fn cancel_plan(plan_id: i64) -> Result<(), AppError> {
    let app = app_state()?;
    Ok(plans::cancel(&app.pool, &request_context(), plan_id).await?)
}

/// Every drifted item of the fleet (the dashboard's panel).
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "drift")]
pub async fn load_drift() -> Result<Vec<Drift>, AppError> {
    let app = app_state()?;
    Ok(drift::drift(&app, &request_context()).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "drift_check")]
pub async fn check_drift() -> Result<Vec<Drift>, AppError> {
    let app = app_state()?;
    Ok(drift::check_now(&app, &request_context()).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "access_policy_adopt")]
pub async fn adopt_node(node_id: i64) -> Result<PolicyView, AppError> {
    let app = app_state()?;
    Ok(policies::adopt(&app, &request_context(), node_id).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_restart")]
pub async fn restart_service(node_id: i64, service: String) -> Result<Restart, AppError> {
    let app = app_state()?;
    Ok(appliances::restart_service(&app, &request_context(), node_id, &service).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cluster_rolling_restart")]
pub async fn rolling_restart(cluster_id: i64) -> Result<Vec<i64>, AppError> {
    let app = app_state()?;
    Ok(appliances::rolling_restart(&app, &request_context(), cluster_id).await?)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "restart")]
pub async fn load_restart(id: i64) -> Result<Restart, AppError> {
    let app = app_state()?;
    Ok(appliances::restart_view(&app.pool, &request_context(), id).await?)
}
