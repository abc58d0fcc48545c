//! Server functions for the audit log: pages of it and the check of its hash chain.

use crate::error::AppError;
use domain::audit::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::audit::store,
};

/// A page of the audit log (admins and auditors). The read itself is audited.
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "audit")]
pub async fn list_audit(filter: AuditFilter, offset: i64) -> Result<AuditPage, AppError> {
    let state = app_state()?;
    let context = request_context();
    store::read_page(&state.pool, &context, &filter, offset, PAGE_SIZE)
        .await
        .map_err(AppError::from)
}

/// Checks the whole hash chain (admins and auditors). Audited.
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "audit_verify")]
pub async fn verify_audit() -> Result<VerifyReport, AppError> {
    let state = app_state()?;
    let context = request_context();
    store::verify_as(&state.pool, &context)
        .await
        .map_err(AppError::from)
}
