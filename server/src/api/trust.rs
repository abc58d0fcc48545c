//! What each node must trust and certificates right the first time: the required-trust matrix
//! (`/api/v1/clusters/{id}/trust-matrix`, its plan and the servers it reads itself) and
//! `POST /api/v1/tools/split-chain`, the chain tool (a bundle of certificates split into one
//! PEM file each, named and put in upload order).

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::appliances::store as appliances;
use domain::certificates::chain::{self, Split};
use domain::trust::csr::{Csr as NodeCsr, Regenerated, SignedCertificate};
use domain::trust::matrix::{Matrix as TrustMatrix, ServerInput};
use domain::trust::store::{self as trust, upload};
use domain::trust::upload::UploadFindings;
use domain::Services;
use serde_json::{json, Value};

#[utoipa::path(post, path = "/api/v1/tools/split-chain", tag = "certificates",
    extensions(("x-gatehouse-need" = json!("reader"))),
    request_body(content = String, content_type = "text/plain", description = "the bundle: PEM certificate blocks, anything between them (a pasted mail, openssl's bag attributes); the file as it is, any content type (at most 1 MiB). Nothing is kept."),
    responses((status = 200, description = "the certificates in upload order (root, intermediates, then the leaf), each with its role, store, names, validity, fingerprint, the certificate that signed it, a file name and its PEM; whether the chain is complete; notes", body = Split),
        (status = 400, description = "not PEM certificates: binary DER, a PKCS#7 bundle, a private key, no certificate, a block that does not read; the message says how to convert", body = ErrorBody)))]
pub async fn split_chain(
    Ctx(context): Ctx,
    body: axum::body::Bytes,
) -> Result<Json<Split>, ApiError> {
    Ok(Json(chain::split_for(&context, &body)?))
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/trust-matrix", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    extensions(("x-gatehouse-need" = json!("reader"))),
    responses((status = 200, description = "the cluster's nodes (rows), the certificates they must trust (columns, each with where it was learnt), each requirement judged against the stores as last read: present, expired, different (another certificate under the same name), not replicated (on the publisher, not yet here), missing, unknown; with why, the seed sentence behind it and what a plan imports. Nothing is read from the nodes: read their stores from their pages", body = TrustMatrix),
        (status = 404, body = ErrorBody)))]
pub async fn trust_matrix(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<TrustMatrix>, ApiError> {
    Ok(Json(trust::matrix(&state, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/trust-matrix/plan", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    responses((status = 201, description = "made: {\"id\"}; a plan of the reconciliation engine importing every certificate a red cell lacks into tomcat-trust, the root first, the publisher first (what it imports replicates to its subscribers, so it is left off them); the nodes are read in the background, then `POST /api/v1/plans/{id}/apply` confirms it. Once applied, every node's stores are read again"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "nothing to import: the red cells need something else (a scan, a store read, a certificate the console does not know)", body = ErrorBody)))]
pub async fn trust_matrix_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let plan = trust::plan(&state, &context, id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": plan }))))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/trust-matrix/servers", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    request_body = ServerInput,
    responses((status = 200, description = "listed (a third-party gadget or script server the cluster's Finesse and UCCX nodes must trust) and its chain read now; the matrix", body = TrustMatrix),
        (status = 422, description = "not a host name or address with an optional port", body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn add_trust_server(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ServerInput>,
) -> Result<Json<TrustMatrix>, ApiError> {
    Ok(Json(
        trust::add_server(&state, &context, id, &body.host).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/clusters/{id}/trust-matrix/servers/{server}", tag = "certificates",
    params(("id" = i64, Path, example = 1), ("server" = String, Path, description = "host or host:port", example = "gadgets.example.com")),
    responses((status = 200, description = "no longer listed; the matrix", body = TrustMatrix),
        (status = 404, description = "no such cluster, or the server is not listed for it", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn remove_trust_server(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path((id, server)): Path<(i64, String)>,
) -> Result<Json<TrustMatrix>, ApiError> {
    Ok(Json(
        trust::remove_server(&state, &context, id, &server).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/trust-matrix/servers/read", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "every listed server and proxy-map host read now (a TLS handshake each; a failure is kept as that server's error); the matrix", body = TrustMatrix),
        (status = 404, body = ErrorBody)))]
pub async fn read_trust_servers(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<TrustMatrix>, ApiError> {
    Ok(Json(trust::read_servers(&state, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/csr", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "generated on the node over SSH (`set csr gen tomcat`, no OU, then `show csr own tomcat`) and kept, replacing the last one; the CSR with its subject, SANs, key and what to tell the CA", body = NodeCsr),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the node could not be reached or refused; the message says why", body = ErrorBody)))]
pub async fn generate_csr(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<NodeCsr>, ApiError> {
    Ok(Json(appliances::generate_csr(&state, &context, id).await?))
}

#[utoipa::path(get, path = "/api/v1/nodes/{id}/csr", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the CSR the node generated last through the console", body = NodeCsr),
        (status = 404, description = "no such node, or no CSR generated yet", body = ErrorBody)))]
pub async fn get_csr(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<NodeCsr>, ApiError> {
    Ok(Json(appliances::current_csr(&state, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/certificate/check", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    extensions(("x-gatehouse-need" = json!("reader"))),
    request_body = SignedCertificate,
    responses((status = 200, description = "every check against the node's last CSR and the product's rules, each with the node's words where it has them and the seed it comes from (`key_matches`, `san_matches`, `names_node`, `valid_now`, `key_size`, `critical_extensions`, `uccx_multi_san`, `chain_complete`); `ready` when all passed; the bundle in upload order. Nothing is kept and the node is not touched", body = UploadFindings),
        (status = 404, description = "no such node, or no CSR generated yet", body = ErrorBody),
        (status = 422, description = "not PEM certificates, or not exactly one certificate for a server", body = ErrorBody)))]
pub async fn check_certificate(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SignedCertificate>,
) -> Result<Json<UploadFindings>, ApiError> {
    Ok(Json(
        upload::check_certificate(&state, &context, id, &body).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/certificate/plan", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    request_body = SignedCertificate,
    responses((status = 201, description = "made: {\"id\"}; a plan of the reconciliation engine: the root, then the intermediates into tomcat-trust (on the publisher when the node is a subscriber: they replicate), then the certificate into tomcat (`set cert import own tomcat`); then `POST /api/v1/plans/{id}/apply`. The restarts it needs are tracked"),
        (status = 404, description = "no such node, or no CSR generated yet", body = ErrorBody),
        (status = 422, description = "a check failed: the message lists them; nothing touched the node", body = ErrorBody)))]
pub async fn plan_certificate(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SignedCertificate>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let plan = upload::plan_certificate(&state, &context, id, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": plan }))))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/certificate/regenerate", tag = "certificates",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "`set cert regen tomcat` answered yes: a new self-signed certificate, replacing any CA-signed one (`operation.ok` false with the node's words when it refused or could not be reached); the web service's restart recorded as pending; `trusted_by`: the nodes whose tomcat-trust must hold the new one (their clusters' trust matrices plan it once their stores are read again); `browsers`: what it means for them", body = Regenerated),
        (status = 404, body = ErrorBody)))]
pub async fn regenerate_certificate(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Regenerated>, ApiError> {
    Ok(Json(trust::regenerate(&state, &context, id).await?))
}
