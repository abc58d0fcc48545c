//! Server functions for appliance access: credentials, host keys, certificate stores, trust
//! imports and connected agents.

use crate::error::AppError;
use domain::appliances::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::appliances::store,
};

/// The access facts of a node (credentials without the password, host key).
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "appliance_access")]
pub async fn load_access(node_id: i64) -> Result<Access, AppError> {
    let context = request_context();
    let state = app_state()?;
    store::access(&state.pool, &context, node_id)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "appliance_credentials")]
pub async fn set_credentials(
    node_id: i64,
    username: String,
    password: String,
    port: String,
) -> Result<(), AppError> {
    let context = request_context();
    let state = app_state()?;
    let port = match port.trim() {
        "" => None,
        p => Some(
            p.parse::<u16>()
                .map_err(|_| AppError::field("port", "use a port number from 1 to 65535"))?,
        ),
    };
    let input = CredentialsInput {
        username,
        password,
        port,
    };
    store::set_credentials(&state, &context, node_id, input)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "appliance_test")]
pub async fn test_connection(node_id: i64) -> Result<ConnectionTest, AppError> {
    let context = request_context();
    let state = app_state()?;
    store::test_connection(&state, &context, node_id)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "appliance_accept_key")]
pub async fn accept_host_key(node_id: i64, fingerprint: String) -> Result<HostKey, AppError> {
    let context = request_context();
    let state = app_state()?;
    store::accept_host_key(&state, &context, node_id, &fingerprint)
        .await
        .map_err(AppError::from)
}

/// The stores as last read (`read`: read them from the appliance now).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "appliance_stores")]
pub async fn load_stores(node_id: i64, read: bool) -> Result<Stores, AppError> {
    let context = request_context();
    let state = app_state()?;
    if read {
        store::read_and_show_stores(&state, &context, node_id).await
    } else {
        store::stores(&state, &context, node_id).await
    }
    .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "appliance_import_trust")]
pub async fn import_trust(node_id: i64, unit: String, pem: String) -> Result<Operation, AppError> {
    let context = request_context();
    let state = app_state()?;
    store::import_trust(&state, &context, node_id, TrustImport { unit, pem })
        .await
        .map_err(AppError::from)
}

/// Connected users now (nodes read within the last 10 s are not asked again).
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "connected_agents")]
pub async fn load_connected_agents() -> Result<ConnectedAgents, AppError> {
    let context = request_context();
    let state = app_state()?;
    store::connected_agents(&state, &context, true, None)
        .await
        .map_err(AppError::from)
}

/// One Finesse node's connected users now (`None`: not a Finesse node).
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_agents")]
pub async fn load_node_agents(node_id: i64) -> Result<Option<NodeAgents>, AppError> {
    let context = request_context();
    let state = app_state()?;
    let mut agents = store::connected_agents(&state, &context, true, Some(node_id)).await?;
    Ok(agents.nodes.pop())
}
