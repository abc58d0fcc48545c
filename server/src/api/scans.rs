//! `POST /api/v1/scans` starts a scan (202), `GET /api/v1/scans/{id}` follows it,
//! `POST /api/v1/scans/{id}/cancel` stops it; `GET /api/v1/nodes/{id}/certificates` shows what
//! each endpoint of a node served at its latest probe, with findings judged now.

use super::Ctx;
use crate::api::openapi::ErrorBody;
use crate::scan::Scanner;
use app::error::AppError;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// Nodes to scan; empty or absent: the whole fleet.
    #[serde(default)]
    node_ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScanStatus {
    id: i64,
    /// `running`, `done` or `cancelled`.
    state: String,
    done: i32,
    total: i32,
    requested_by: String,
    started_at: String,
    finished_at: Option<String>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", request_body = ScanRequest,
    responses((status = 202, description = "started: {\"id\"}"), (status = 403, body = ErrorBody)))]
pub async fn start(
    Extension(scanner): Extension<Arc<Scanner>>,
    State(state): State<AppState>,
    Ctx(context): Ctx,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let principal = context.require_admin()?;
    // The body is optional: none means the whole fleet.
    let request: ScanRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ScanRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!("invalid body: {e}")))?
    };
    let id = scanner
        .start(&principal.actor(), request.node_ids.clone())
        .await
        .map_err(AppError::internal)?;
    app::audit::ssr::record_alone(
        &state.pool,
        context
            .event("scan.start", format!("scan:{id}"))
            .after(json!({"node_ids": request.node_ids})),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"id": id}))))
}

#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans", params(("id" = i64, Path)),
    responses((status = 200, body = ScanStatus), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<ScanStatus>, AppError> {
    context.require_reader()?;
    let row = sqlx::query!(
        "select id, state, done, total, requested_by, started_at, finished_at from scan where id = $1",
        id
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no scan with id {id}")))?;
    Ok(Json(ScanStatus {
        id: row.id,
        state: row.state,
        done: row.done,
        total: row.total,
        requested_by: row.requested_by,
        started_at: rfc3339(row.started_at),
        finished_at: row.finished_at.map(rfc3339),
    }))
}

#[utoipa::path(post, path = "/api/v1/scans/{id}/cancel", tag = "scans", params(("id" = i64, Path)),
    responses((status = 202, description = "asked to stop"), (status = 409, description = "not running", body = ErrorBody)))]
pub async fn cancel(
    Extension(scanner): Extension<Arc<Scanner>>,
    State(state): State<AppState>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    context.require_admin()?;
    if !scanner.cancel(id) {
        return Err(AppError::Conflict(format!("scan {id} is not running")));
    }
    app::audit::ssr::record_alone(
        &state.pool,
        context.event("scan.cancel", format!("scan:{id}")),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// One certificate of a probe's chain, as stored.
struct ChainRow {
    position: i32,
    sha256: String,
    info: Value,
    der: Vec<u8>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServedCertificate {
    position: i32,
    fingerprint_sha256: String,
    subject_cn: Option<String>,
    issuer_cn: Option<String>,
    not_after: String,
    days_left: i64,
    #[schema(value_type = Vec<Object>)]
    findings: Vec<certs::Finding>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointCertificates {
    port: i32,
    /// The latest probe: `null` before the first scan.
    #[schema(value_type = Option<Object>)]
    probe: Option<Value>,
    chain: Vec<ServedCertificate>,
}

#[utoipa::path(get, path = "/api/v1/nodes/{id}/certificates", tag = "scans", params(("id" = i64, Path)),
    responses((status = 200, description = "per endpoint: the latest probe and its served chain with findings", body = Vec<EndpointCertificates>),
        (status = 404, body = ErrorBody)))]
pub async fn node_certificates(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    context.require_reader()?;
    let node = app::inventory::ssr::get_node(&state.pool, id).await?;
    let probes = sqlx::query!(
        r#"select distinct on (e.id) e.id as endpoint_id, e.port, p.id as "probe_id?", p.probed_at as "probed_at?",
                  p.ok as "ok?", p.error_code, p.error_message, p.protocol, p.cipher_suite, p.alpn,
                  p.client_certificate_requested, p.handshake_ms, p.public_trust_error, p.cluster_trusted
           from endpoint e left join probe p on p.endpoint_id = e.id
           where e.node_id = $1
           order by e.id, p.probed_at desc nulls last, p.id desc"#,
        id
    )
    .fetch_all(&state.pool)
    .await?;
    let probe_ids: Vec<i64> = probes.iter().filter_map(|p| p.probe_id).collect();
    let mut chains: HashMap<i64, Vec<ChainRow>> = HashMap::new();
    for row in sqlx::query!(
        "select pc.probe_id, pc.position, c.sha256, c.info, c.der from probe_chain pc join certificate c on c.sha256 = pc.sha256
         where pc.probe_id = any($1) order by pc.probe_id, pc.position",
        &probe_ids
    )
    .fetch_all(&state.pool)
    .await?
    {
        chains.entry(row.probe_id).or_default().push(ChainRow {
            position: row.position,
            sha256: row.sha256,
            info: row.info,
            der: row.der,
        });
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut endpoints = Vec::new();
    for p in probes {
        let mut chain = Vec::new();
        let mut served = Vec::new();
        for ChainRow {
            position,
            sha256,
            info,
            der,
        } in p
            .probe_id
            .and_then(|pid| chains.remove(&pid))
            .unwrap_or_default()
        {
            let info: certs::CertInfo = serde_json::from_value(info).map_err(AppError::internal)?;
            served.push((info.clone(), der));
            let served_at = crate::monitor::Where {
                fqdn: &node.fqdn,
                kind: node.kind.as_str(),
                version: &node.version,
                port: p.port,
                position,
                publicly_trusted: p.public_trust_error.is_none(),
            };
            let findings = crate::monitor::findings(&info, &served_at, now);
            chain.push(ServedCertificate {
                position,
                fingerprint_sha256: sha256,
                subject_cn: info.subject_cn.clone(),
                issuer_cn: info.issuer_cn.clone(),
                not_after: time::OffsetDateTime::from_unix_timestamp(info.not_after)
                    .map(rfc3339)
                    .unwrap_or_default(),
                days_left: info.days_left(now),
                findings,
            });
        }
        // The chain as a whole: reported on the leaf, where admins look.
        if let Some(incomplete) = certs::lints::lint_chain(&served, anchors(), |child, parent| {
            certs::analyze::signed_by(child, parent)
        }) {
            if let Some(leaf) = chain.first_mut() {
                leaf.findings.push(incomplete);
            }
        }
        let probe = p.probe_id.map(|_| {
            json!({
                "ok": p.ok, "probed_at": p.probed_at.map(rfc3339), "error_code": p.error_code, "error_message": p.error_message,
                "protocol": p.protocol, "cipher_suite": p.cipher_suite, "alpn": p.alpn,
                "client_certificate_requested": p.client_certificate_requested, "handshake_ms": p.handshake_ms,
                "publicly_trusted": p.ok == Some(true) && p.public_trust_error.is_none(), "public_trust_error": p.public_trust_error,
                "cluster_trusted": p.cluster_trusted,
            })
        });
        endpoints.push(EndpointCertificates {
            port: p.port,
            probe,
            chain,
        });
    }
    Ok(Json(
        json!({"node_id": node.id, "fqdn": node.fqdn, "endpoints": endpoints}),
    ))
}

/// The system's trusted roots, parsed once: the anchors a served chain should reach.
fn anchors() -> &'static [(certs::CertInfo, Vec<u8>)] {
    static ANCHORS: std::sync::OnceLock<Vec<(certs::CertInfo, Vec<u8>)>> =
        std::sync::OnceLock::new();
    ANCHORS.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .into_iter()
            .filter_map(|der| {
                certs::analyze::parse(der.as_ref())
                    .ok()
                    .map(|info| (info, der.as_ref().to_vec()))
            })
            .collect()
    })
}
